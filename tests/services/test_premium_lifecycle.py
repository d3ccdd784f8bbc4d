"""Premium's life cycle: the expiry job (wallet auto-renewal once, reminder once, end), the Patron badge, revenue."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from auction.extensions import db
from auction.models import LedgerAccount, Notification, OutboxMessage, Subscription, utcnow
from auction.services import achievements, analytics, ledger, premium, subscriptions
from auction.services.notifications import text_of


def notifications(app, user_id: int, kind: str) -> list[str]:
    """The texts of the person's notifications of `kind`, as the notification centre shows them."""
    with app.app_context():
        rows = db.session.scalars(select(Notification).where(Notification.user_id == user_id, Notification.kind == kind)).all()
        return [str(text_of(row)) for row in rows]


def pay(app, user_id: int, stars: int, renew: bool) -> None:
    with app.app_context():
        ledger.credit_sandbox(user_id, stars)
        subscriptions.pay_from_balance(user_id, 250, renew=renew)


def run_job(app, after: timedelta) -> dict:
    with app.app_context():
        return subscriptions.run_expiry(utcnow() + after)


def test_auto_renewal_from_the_wallet_charges_once_when_the_job_runs_twice(app, make_user):
    alice = make_user("Alice")
    pay(app, alice, 600, renew=True)
    near_end = timedelta(days=29, hours=20)
    assert run_job(app, near_end) == {"renewed": 1}
    assert run_job(app, near_end) == {}
    with app.app_context():
        assert ledger.balances(alice).available == 100
        assert premium.premium_until(alice) > utcnow() + timedelta(days=59)
        assert db.session.scalar(select(func.count()).select_from(Subscription)) == 2
    renewed = notifications(app, alice, "subscription_renewed")
    assert len(renewed) == 1 and renewed[0].startswith("Your Premium was renewed until ")


def test_auto_renewal_without_enough_stars_lets_premium_end(app, make_user):
    alice = make_user("Alice")
    pay(app, alice, 300, renew=True)  # 50 left, the renewal needs 250
    # The renewal cannot be paid, so renewal turns off and the person is told Premium ends.
    assert run_job(app, timedelta(days=29, hours=20)) == {"reminded": 1}
    assert "Renew it on the Premium page" in notifications(app, alice, "subscription_expiring")[0]
    with app.app_context():
        assert ledger.balances(alice).available == 50
    assert run_job(app, timedelta(days=30, minutes=1)) == {"ended": 1}
    with app.app_context():
        assert not premium.is_premium(alice, utcnow() + timedelta(days=30, minutes=1))
    assert notifications(app, alice, "subscription_ended") == [
        "Your Premium has ended and the free limits apply again. You can subscribe again on the Premium page."
    ]


def test_reminder_three_days_before_the_end_is_sent_once(app, make_user):
    alice, bob = make_user("Alice"), make_user("Bob")
    pay(app, alice, 250, renew=False)
    pay(app, bob, 500, renew=True)
    assert run_job(app, timedelta(days=26)) == {}  # four days before: too early
    assert run_job(app, timedelta(days=27, hours=1)) == {"reminded": 2}
    assert run_job(app, timedelta(days=27, hours=2)) == {}
    [to_alice] = notifications(app, alice, "subscription_expiring")
    assert to_alice.startswith("Your Premium ends ") and "Renew it on the Premium page" in to_alice
    [to_bob] = notifications(app, bob, "subscription_expiring")
    assert "250 ⭐ will be paid from your wallet" in to_bob
    with app.app_context():
        # Each reminder also goes to Telegram once, with a button to the Premium page.
        sent = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "subscription_expiring")).all()
        assert len(sent) == 2
        assert all(message.payload["buttons"][0][0]["url"].endswith("/premium") for message in sent)


def test_expiry_marks_the_period_expired_and_tells_once(app, make_user):
    alice = make_user("Alice")
    pay(app, alice, 250, renew=False)
    assert run_job(app, timedelta(days=31)) == {"ended": 1}
    assert run_job(app, timedelta(days=31)) == {}
    with app.app_context():
        assert db.session.scalar(select(Subscription.status)) == "expired"
    assert len(notifications(app, alice, "subscription_ended")) == 1


def test_premium_is_over_at_the_end_even_without_the_job(app, make_user):
    alice = make_user("Alice")
    pay(app, alice, 250, renew=False)
    with app.app_context():
        end = premium.premium_until(alice)
        assert premium.is_premium(alice, end - timedelta(seconds=1))
        assert not premium.is_premium(alice, end)


def test_patron_badge_after_three_months_paid(app, make_user):
    alice = make_user("Alice")
    for _ in range(2):
        pay(app, alice, 250, renew=False)
    with app.app_context():
        assert "patron" not in achievements._awarded_codes(alice)
    pay(app, alice, 250, renew=False)
    with app.app_context():
        assert "patron" in achievements._awarded_codes(alice)


def test_subscription_revenue_counts_as_platform_revenue(app, make_user):
    alice = make_user("Alice")
    pay(app, alice, 250, renew=False)
    with app.app_context():
        today = utcnow().date()
        report = analytics.report(today - timedelta(days=1), today)
    assert report.other_revenue == 250 and report.revenue == 250


def _at_once(app, work, count: int = 2) -> list:
    """Run `work()` in `count` threads at the same moment, each in its own app context; returns the results."""
    barrier, results = threading.Barrier(count), []

    def run():
        with app.app_context():
            barrier.wait()
            results.append(work())
            db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results


def test_one_renewal_delivered_twice_at_once_is_stored_once(app, make_user):
    alice = make_user("Alice", telegram_id=4242)
    expires = datetime.now(UTC) + timedelta(days=30)

    def deliver():
        return subscriptions.complete_telegram_payment(
            4242, subscriptions.invoice_payload(alice), 250, "XTR", "twin-renewal",
            subscription_expiration_date=expires, is_recurring=True, is_first_recurring=True,
        ).already

    assert sorted(_at_once(app, deliver)) == [False, True]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Subscription)) == 1
        assert db.session.scalar(select(LedgerAccount.balance).where(LedgerAccount.kind == "platform_revenue")) == 250


def test_two_processes_running_the_job_renew_once(app, make_user):
    alice = make_user("Alice")
    pay(app, alice, 1000, renew=True)
    later = utcnow() + timedelta(days=29, hours=20)
    _at_once(app, lambda: subscriptions.run_expiry(later))
    with app.app_context():
        assert ledger.balances(alice).available == 500
        assert db.session.scalar(select(func.count()).select_from(Subscription)) == 2
    assert len(notifications(app, alice, "subscription_renewed")) == 1

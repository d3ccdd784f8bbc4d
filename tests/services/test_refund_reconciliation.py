"""Refunds whose answer was lost, settled against Telegram's getStarTransactions (the fake Bot API over real HTTP)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select, update

from auction import jobs
from auction.bot.runtime import bot_runtime
from auction.extensions import db
from auction.models import AdminAction, LedgerTransfer, Notification, Payment, utcnow
from auction.services import ledger, payments
from tests.conftest import csrf_token, page, sign_in
from tests.support.bidding_helpers import balances
from tests.support.fake_telegram import bot_config
from tests.support.servers import run_server


def _paid(app, fake, make_user, amount=80, charge="charge-reconcile-1", older_charges=0):
    """Alice bought `amount` Stars through Telegram (after `older_charges` other people's payments)."""
    for n in range(older_charges):
        fake.record_payment(fake.user(f"Buyer {n}"), f"older-{n}", 10)
    alice = fake.user("Alice")
    user_id = make_user("Alice", telegram_id=alice["id"])
    with app.app_context():
        purchase = payments.start_purchase(user_id, amount, "bot")
        payments.complete_payment(alice["id"], purchase.payload, amount, "XTR", charge, "")
        payment_id = db.session.scalar(select(Payment.id).where(Payment.telegram_payment_charge_id == charge))
    fake.record_payment(alice, charge, amount)
    return user_id, payment_id


def _row(client, payment_id):
    return page(client.get("/admin/payments")).select_one(f"#payment-{payment_id}")


def _refund_transfers(app, payment_id) -> int:
    with app.app_context():
        return db.session.scalar(
            select(func.count()).where(LedgerTransfer.payment_id == payment_id, LedgerTransfer.reason == ledger.REFUND)
        )


def _lost_refund(client, fake, payment_id, made: bool):
    """The admin presses Refund; Telegram's answer is lost (the refund `made` or not)."""
    fake.drop_next("refundStarPayment", after_doing=made)
    confirm = page(client.get(_row(client, payment_id).find("a", string="Refund")["href"]))  # the confirm step
    response = client.post(confirm.select_one("#refund-confirm form")["action"],
                           data={"csrf_token": csrf_token(client, "/admin/payments")}, follow_redirects=True)
    assert "Telegram did not answer" in page(response).select_one(".flash-warning").get_text()


def test_a_lost_refund_that_telegram_made_is_completed_once_by_check_with_telegram(make_app, make_user, fake_telegram):
    app = make_app(**bot_config(fake_telegram))
    # 120 older transactions: the refund is on getStarTransactions' second page.
    user_id, payment_id = _paid(app, fake_telegram, make_user, older_charges=120)
    client = app.test_client()
    sign_in(client, make_user("Ada", is_admin=True))
    with run_server(app):
        fake_telegram.wait_for_call("getUpdates")
        _lost_refund(client, fake_telegram, payment_id, made=True)
        row = _row(client, payment_id)
        assert "Refund pending" in row.get_text()
        assert balances(app, user_id) == (0, 0)  # the Stars are set aside while Telegram's answer is unknown

        response = client.post(row.select_one("form")["action"], data={"csrf_token": csrf_token(client, "/admin/payments")},
                               follow_redirects=True)
        assert "Telegram did refund payment" in page(response).select_one(".flash-success").get_text()
        assert [call["offset"] for call in fake_telegram.calls("getStarTransactions")] == [0, 100]
        assert "Refunded" in _row(client, payment_id).get_text() and _row(client, payment_id).select_one("form") is None

        # Checking again changes nothing: the ledger moved once, the person was told once.
        again = client.post(f"/admin/payments/{payment_id}/reconcile", data={"csrf_token": csrf_token(client, "/admin/payments")},
                            follow_redirects=True)
        assert "has no refund waiting" in page(again).select_one(".flash-error").get_text()
        with app.app_context():
            assert payments.reconcile_refunds(bot_runtime().star_transactions, [payment_id]) == payments.Reconciliation([], [], [])
    assert balances(app, user_id) == (0, 0)
    assert _refund_transfers(app, payment_id) == 1
    with app.app_context():
        assert db.session.get(Payment, payment_id).status == "refunded"
        told = db.session.scalar(select(func.count()).where(Notification.user_id == user_id, Notification.kind == "payment_refunded"))
        assert told == 1
        entry = db.session.scalar(select(AdminAction).where(AdminAction.action == "refund_reconciled"))
        assert (entry.before, entry.after) == ({"status": "refund pending"}, {"status": "refunded"})


def test_a_lost_refund_that_telegram_did_not_make_returns_to_refundable_through_the_job(make_app, make_user, fake_telegram):
    app = make_app(**bot_config(fake_telegram))
    user_id, payment_id = _paid(app, fake_telegram, make_user, amount=50, charge="charge-reconcile-2")
    client = app.test_client()
    sign_in(client, make_user("Ada", is_admin=True))
    with run_server(app):
        fake_telegram.wait_for_call("getUpdates")
        _lost_refund(client, fake_telegram, payment_id, made=False)
        assert balances(app, user_id) == (0, 0)
        with app.app_context():
            assert jobs.reconcile_refunds() == []  # too young: its request may still be on its way to Telegram
            db.session.execute(update(LedgerTransfer).where(LedgerTransfer.payment_id == payment_id)
                               .values(created_at=utcnow() - timedelta(minutes=3)))
            db.session.commit()

            # Telegram cannot be read: nothing changes.
            fake_telegram.fail_next("getStarTransactions", 500)
            jobs.JobRunner(app)._run(jobs.Job("reconcile_refunds", jobs.reconcile_refunds, 300))
            assert payments.refund_pending(payment_id)

            assert jobs.reconcile_refunds() == [payment_id]
            assert jobs.reconcile_refunds() == []  # a second run changes nothing
        assert balances(app, user_id) == (50, 0)
        row = _row(client, payment_id)
        refund = row.find("a", string="Refund")
        assert "Paid" in row.get_text() and refund is not None

        # Refundable again, and this time Telegram answers.
        confirm = page(client.get(refund["href"]))
        response = client.post(confirm.select_one("#refund-confirm form")["action"],
                               data={"csrf_token": csrf_token(client, "/admin/payments")}, follow_redirects=True)
        assert "refunded" in page(response).select_one(".flash-success").get_text()
    assert balances(app, user_id) == (0, 0)
    with app.app_context():
        assert db.session.get(Payment, payment_id).status == "refunded"
    assert [t for t in fake_telegram.star_transactions if "receiver" in t][0]["amount"] == 50


def test_check_with_telegram_when_telegram_fails_changes_nothing(make_app, make_user, fake_telegram):
    app = make_app(**bot_config(fake_telegram))
    user_id, payment_id = _paid(app, fake_telegram, make_user, amount=30, charge="charge-reconcile-3")
    client = app.test_client()
    sign_in(client, make_user("Ada", is_admin=True))
    with run_server(app):
        fake_telegram.wait_for_call("getUpdates")
        _lost_refund(client, fake_telegram, payment_id, made=True)
        fake_telegram.fail_next("getStarTransactions", 500)
        response = client.post(f"/admin/payments/{payment_id}/reconcile", data={"csrf_token": csrf_token(client, "/admin/payments")},
                               follow_redirects=True)
        assert "could not be read, so nothing was changed" in page(response).select_one(".flash-error").get_text()
        assert "Refund pending" in _row(client, payment_id).get_text()
    assert balances(app, user_id) == (0, 0)
    assert _refund_transfers(app, payment_id) == 1

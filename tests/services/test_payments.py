"""Buying Stars: purchases, pre-checkout checks, exactly-once crediting, refunds."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from auction.extensions import db
from auction.models import OutboxMessage, Payment, StarPurchase, SupportTicket, User
from auction.services import ledger, ledger_check, payments, wallet
from auction.services.errors import Forbidden
from auction.services.payments import InvalidAmount, PaymentRefused, RefundRefused
from tests.support.bidding_helpers import new_auction

ALICE_TG = 555_000_001
BOB_TG = 555_000_002


@pytest.fixture
def alice(make_user):
    return make_user("Alice", telegram_id=ALICE_TG)


@pytest.fixture
def bob(make_user):
    return make_user("Bob", telegram_id=BOB_TG)


@pytest.fixture
def admin(make_user):
    return make_user("Admin", is_admin=True)


def buy(app, user_id, telegram_id, amount, charge_id):
    """A purchase paid the way Telegram reports it; returns the PaymentResult."""
    with app.app_context():
        purchase = payments.start_purchase(user_id, amount, "bot")
        payments.check_pre_checkout(telegram_id, purchase.payload, amount, "XTR")
        return payments.complete_payment(telegram_id, purchase.payload, amount, "XTR", charge_id, "")


def test_purchase_payload_is_random_and_the_amount_is_checked(app, alice):
    with app.app_context():
        first = payments.start_purchase(alice, 100, "bot")
        second = payments.start_purchase(alice, 100, "web")
        assert first.payload != second.payload and len(first.payload) >= 32
        for bad in (0, -5, 10_001, "abc", "", "1e3", "12.5", None):
            with pytest.raises(InvalidAmount) as refused:
                payments.start_purchase(alice, bad, "bot")
            assert str(refused.value) == "Enter a whole number of Stars between 1 and 10,000."
        assert db.session.scalar(select(func.count()).select_from(StarPurchase)) == 2


def test_limits_come_from_config(make_app, make_user):
    app = make_app(STARS_MIN=10, STARS_MAX=20)
    user = make_user("Carol")
    with app.app_context():
        with pytest.raises(InvalidAmount, match="between 10 and 20"):
            payments.start_purchase(user, 9, "bot")
        assert payments.start_purchase(user, 20, "bot").amount == 20


def test_suspended_users_cannot_start_a_purchase(app, make_user):
    user = make_user("Mallory", is_suspended=True)
    with app.app_context(), pytest.raises(Forbidden):
        payments.start_purchase(user, 10, "bot")


def test_successful_payment_credits_once(app, alice):
    result = buy(app, alice, ALICE_TG, 100, "charge-1")
    assert (result.available, result.already_credited) == (100, False)
    with app.app_context():
        purchase = db.session.scalar(select(StarPurchase))
        assert purchase.status == "paid"
        again = payments.complete_payment(ALICE_TG, purchase.payload, 100, "XTR", "charge-1", "")
        assert (again.available, again.already_credited, again.payment_id) == (100, True, result.payment_id)
        assert ledger.balances(alice).available == 100
        assert [e.reason for e in wallet.history(alice).entries] == ["purchase"]


REFUSALS = [
    ("tampered", "This invoice is not valid."),
    ("unknown", "This invoice is not valid."),
    ("other_user", "This invoice was issued to another Telegram account."),
    ("wrong_amount", "The amount does not match the invoice."),
    ("wrong_currency", "Only Telegram Stars (XTR) are accepted."),
    ("suspended", "Your account is suspended, so it cannot buy Stars."),
    ("already_paid", "This invoice has already been paid."),
]


def test_pre_checkout_refusals(app, alice, bob):
    with app.app_context():
        for case, message in REFUSALS:
            purchase = payments.start_purchase(alice, 100, "bot")
            telegram_id, payload, amount, currency = ALICE_TG, purchase.payload, 100, "XTR"
            if case == "tampered":
                payload = payload[:-1] + ("A" if payload[-1] != "A" else "B")
            elif case == "unknown":
                payload = "no-such-invoice"
            elif case == "other_user":
                telegram_id = BOB_TG
            elif case == "already_paid":
                payments.complete_payment(ALICE_TG, payload, 100, "XTR", "paid-first", "")
            elif case == "wrong_amount":
                amount = 1000
            elif case == "wrong_currency":
                currency = "USD"
            with_suspension = case == "suspended"
            if with_suspension:
                db.session.get(User, alice).is_suspended = True
                db.session.commit()
            with pytest.raises(PaymentRefused) as refused:
                payments.check_pre_checkout(telegram_id, payload, amount, currency)
            assert str(refused.value).startswith(message), case
            if with_suspension:
                db.session.get(User, alice).is_suspended = False
                db.session.commit()
            assert ledger.balances(alice).available == (100 if case == "already_paid" else 0)
            assert ledger.balances(bob).available == 0


def test_unpaid_invoices_expire_after_the_configured_hours(app, alice):
    from datetime import timedelta

    from auction.models import utcnow

    with app.app_context():
        old = payments.start_purchase(alice, 100, "web")
        payments.attach_invoice_link(old.id, "https://t.me/$old")
        fresh = payments.start_purchase(alice, 50, "bot")
        paid = payments.start_purchase(alice, 70, "bot")
        payments.complete_payment(ALICE_TG, paid.payload, 70, "XTR", "paid-charge", "")
        db.session.get(StarPurchase, old.id).created_at = utcnow() - timedelta(hours=25)
        db.session.get(StarPurchase, paid.id).created_at = utcnow() - timedelta(hours=25)
        db.session.commit()
        assert payments.pending_invoice(alice, old.id) is not None

        assert payments.expire_stale_purchases() == 1
        assert payments.expire_stale_purchases() == 0  # the job may run twice
        statuses = {row.id: row.status for row in db.session.scalars(select(StarPurchase))}
        assert statuses == {old.id: "expired", fresh.id: "pending", paid.id: "paid"}
        assert payments.pending_invoice(alice, old.id) is None  # the wallet no longer offers to pay it
        with pytest.raises(PaymentRefused) as refused:
            payments.check_pre_checkout(ALICE_TG, old.payload, 100, "XTR")
        assert str(refused.value).startswith("This invoice has expired")
        payments.check_pre_checkout(ALICE_TG, fresh.payload, 50, "XTR")  # still payable
        # Telegram completing one anyway (approved just before it expired): credited all the same.
        result = payments.complete_payment(ALICE_TG, old.payload, 100, "XTR", "late-charge", "")
        assert result.available == 170


def test_the_expiry_job_is_registered(app):
    from auction.jobs import JOBS

    assert any(job.run is payments.expire_stale_purchases for job in JOBS)


def test_refusal_is_translated(app, alice):
    from flask_babel import force_locale

    with app.app_context(), force_locale("ru"):
        with pytest.raises(PaymentRefused) as refused:
            payments.check_pre_checkout(ALICE_TG, "nope", 100, "XTR")
        assert "счёт" in str(refused.value).lower() or "счет" in str(refused.value).lower()


def test_a_payment_that_does_not_match_its_invoice_is_credited_and_shown_to_admins(app, alice):
    """Telegram already took the Stars: they are never dropped, an admin reviews them."""
    with app.app_context():
        purchase = payments.start_purchase(alice, 100, "bot")
        result = payments.complete_payment(ALICE_TG, purchase.payload, 120, "XTR", "odd-charge", "")
        assert (result.amount, result.available) == (120, 120)
        ticket = db.session.scalar(select(SupportTicket))
        assert (ticket.kind, ticket.payment_id) == ("payment", result.payment_id)
        assert db.session.get(StarPurchase, purchase.id).status == "pending"


def test_same_charge_from_two_threads_is_credited_once(app, alice):
    for round_ in range(3):
        deliver_twice_at_once(app, alice, round_)
    with app.app_context():
        assert ledger.balances(alice).available == 750
        assert db.session.scalar(select(func.count()).select_from(Payment)) == 3


def deliver_twice_at_once(app, alice, round_):
    with app.app_context():
        purchase = payments.start_purchase(alice, 250, "bot")
    barrier = threading.Barrier(2)
    results, errors = [], []

    def deliver():
        try:
            with app.app_context():
                barrier.wait()
                results.append(payments.complete_payment(ALICE_TG, purchase.payload, 250, "XTR", f"twin-{round_}", ""))
        except Exception as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert sorted(r.already_credited for r in results) == [False, True]
    assert {r.available for r in results} == {250 * (round_ + 1)}


def test_admin_refund_reverses_the_purchase(app, alice, admin):
    paid = buy(app, alice, ALICE_TG, 100, "refund-me")
    sent = []
    with app.app_context():
        result = payments.refund_payment(admin, paid.payment_id, lambda tg, charge: sent.append((tg, charge)))
        assert (result.completed, result.available, result.amount) == (True, 0, 100)
        assert sent == [(ALICE_TG, "refund-me")]
        assert db.session.get(Payment, paid.payment_id).status == "refunded"
        assert ledger.balances(alice).available == 0
        assert [e.reason for e in wallet.history(alice).entries] == ["refund", "purchase"]
        with pytest.raises(RefundRefused, match="already been refunded"):
            payments.refund_payment(admin, paid.payment_id, lambda tg, charge: sent.append((tg, charge)))
        assert told_refunded(alice) == 1
    assert len(sent) == 1


def told_refunded(user_id: int) -> int:
    return db.session.scalar(
        select(func.count()).select_from(OutboxMessage).where(OutboxMessage.user_id == user_id, OutboxMessage.kind == "payment_refunded")
    )


def test_stars_are_set_aside_while_telegram_is_asked(app, alice, bob, admin):
    """While refundStarPayment is in flight the Stars are out of reach: no bid can spend them."""
    paid = buy(app, alice, ALICE_TG, 100, "in-flight")
    auction_id = new_auction(app, bob, listed=True)
    seen = []

    def telegram_refunds(tg, charge):
        seen.append(ledger.balances(alice).available)
        with pytest.raises(ledger.InsufficientFunds):
            ledger.set_hold(alice, auction_id, 10)
        # Telegram is asked outside any write transaction: another writer gets in at once.
        payments.start_purchase(bob, 5, "bot")

    with app.app_context():
        assert payments.refund_payment(admin, paid.payment_id, telegram_refunds).completed
        assert seen == [0]
        assert ledger.balances(alice) == ledger.Balances(0, 0)


def test_refund_larger_than_available_is_refused(app, alice, bob, admin):
    paid = buy(app, alice, ALICE_TG, 100, "spent")
    auction_id = new_auction(app, bob, listed=True)
    with app.app_context():
        ledger.set_hold(alice, auction_id, 30)
        with pytest.raises(RefundRefused) as refused:
            payments.refund_payment(admin, paid.payment_id, lambda tg, charge: pytest.fail("Telegram must not be asked"))
        assert str(refused.value) == (
            "This payment cannot be refunded: the user has 70 Stars available, less than the 100 Stars of the payment."
        )
        assert db.session.get(Payment, paid.payment_id).status == "paid"
        assert ledger.balances(alice) == ledger.Balances(70, 30)


def test_when_telegram_refuses_the_stars_come_back_and_a_retry_works(app, alice, admin):
    paid = buy(app, alice, ALICE_TG, 40, "tg-says-no")

    def telegram_refuses(tg, charge):
        raise payments.RefundDeclined("Bad Request: CHARGE_NOT_FOUND")

    with app.app_context():
        with pytest.raises(RefundRefused) as refused:
            payments.refund_payment(admin, paid.payment_id, telegram_refuses)
        assert str(refused.value) == "Telegram refused the refund: Bad Request: CHARGE_NOT_FOUND. Nothing was changed."
        assert db.session.get(Payment, paid.payment_id).status == "paid"
        assert ledger.balances(alice).available == 40
        assert told_refunded(alice) == 0
        assert ledger_check.check_invariants() == []
        # Asked again later, Telegram agrees: refunded once, the user told once.
        result = payments.refund_payment(admin, paid.payment_id, lambda tg, charge: None)
        assert (result.completed, result.available) == (True, 0)
        assert db.session.get(Payment, paid.payment_id).status == "refunded"
        assert [e.reason for e in wallet.history(alice).entries] == ["refund", "refund_canceled", "refund", "purchase"]
        assert told_refunded(alice) == 1


def test_lost_answer_keeps_the_stars_set_aside_until_a_retry(app, alice, admin):
    paid = buy(app, alice, ALICE_TG, 60, "tg-silent")

    def no_answer(tg, charge):
        raise TimeoutError()

    with app.app_context():
        result = payments.refund_payment(admin, paid.payment_id, no_answer)
        assert (result.completed, result.available, result.amount) == (False, 0, 60)
        assert db.session.get(Payment, paid.payment_id).status == "paid"
        assert ledger.balances(alice).available == 0
        assert told_refunded(alice) == 0
        # The admin retries: no second reversal, Telegram is asked again, the refund completes.
        asked = []
        result = payments.refund_payment(admin, paid.payment_id, lambda tg, charge: asked.append(charge))
        assert asked == ["tg-silent"] and (result.completed, result.available) == (True, 0)
        assert [e.reason for e in wallet.history(alice).entries] == ["refund", "purchase"]
        assert told_refunded(alice) == 1
        assert payments.handle_refunded_payment(ALICE_TG, "tg-silent") == "already"


def test_lost_answer_is_completed_by_telegrams_refund_message(app, alice, admin):
    paid = buy(app, alice, ALICE_TG, 60, "tg-silent-2")
    with app.app_context():
        assert not payments.refund_payment(admin, paid.payment_id, lambda tg, charge: (_ for _ in ()).throw(OSError())).completed
        assert payments.handle_refunded_payment(ALICE_TG, "tg-silent-2") == "reversed"
        assert db.session.get(Payment, paid.payment_id).status == "refunded"
        assert ledger.balances(alice).available == 0
        assert [e.reason for e in wallet.history(alice).entries] == ["refund", "purchase"]
        with pytest.raises(RefundRefused, match="already been refunded"):
            payments.refund_payment(admin, paid.payment_id, lambda tg, charge: pytest.fail("Telegram must not be asked"))


def test_only_admins_refund(app, alice):
    paid = buy(app, alice, ALICE_TG, 40, "not-admin")
    with app.app_context(), pytest.raises(Forbidden):
        payments.refund_payment(alice, paid.payment_id, lambda tg, charge: None)


def test_telegram_refund_message_reverses_or_flags(app, alice, bob):
    buy(app, alice, ALICE_TG, 100, "tg-refund-1")
    buy(app, alice, ALICE_TG, 50, "tg-refund-2")
    auction_id = new_auction(app, bob, listed=True)
    with app.app_context():
        assert payments.handle_refunded_payment(ALICE_TG, "tg-refund-1") == "reversed"
        assert ledger.balances(alice).available == 50
        assert payments.handle_refunded_payment(ALICE_TG, "tg-refund-1") == "already"
        ledger.set_hold(alice, auction_id, 20)
        assert payments.handle_refunded_payment(ALICE_TG, "tg-refund-2") == "flagged"
        assert ledger.balances(alice) == ledger.Balances(30, 20)
        ticket = db.session.scalar(select(SupportTicket))
        assert ticket.kind == "payment" and "already" not in ticket.subject
        assert "not reversed" in ticket.messages[0].body
        assert payments.handle_refunded_payment(ALICE_TG, "never-seen") == "unknown"


def test_payment_support_request_and_recent_payments(app, alice, bob):
    paid = buy(app, alice, ALICE_TG, 100, "help-me")
    with app.app_context():
        (summary,) = payments.recent_payments(alice)
        assert (summary.amount, summary.status) == (100, "paid")
        ticket_id = payments.open_payment_request(alice, "I was charged but see nothing", paid.payment_id)
        ticket = db.session.get(SupportTicket, ticket_id)
        assert (ticket.kind, ticket.user_id, ticket.payment_id) == ("payment", alice, paid.payment_id)
        with pytest.raises(Exception, match="Not found"):
            payments.open_payment_request(bob, "not mine", paid.payment_id)

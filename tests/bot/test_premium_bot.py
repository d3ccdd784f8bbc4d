"""Premium in the bot: /subscribe, the subscription invoice, first payment, renewals, renewal off/on, refunds.

Through the fake Bot API over real HTTP (python-telegram-bot unpatched), as tests/bot/test_bot_payments.py.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from auction.extensions import db
from auction.models import LedgerAccount, Payment, Subscription
from auction.services import payments, premium
from tests.bot.test_bot_payments import buttons, said, user_id_of
from tests.support.fake_telegram import bot_config, run_bot

SITE = "https://auction.example"
DAY = 86_400


@pytest.fixture
def bot_app(make_app, fake_telegram):
    return make_app(**bot_config(fake_telegram, BASE_URL=SITE))


def subscribe(fake, user) -> dict:
    mark = fake.mark()
    fake.inject_message(user, "/subscribe")
    return said(fake, user, since=mark, contains="Premium")


def pay_period(fake, user, payload, charge_id, *, first, expires_in_days, amount=250, contains="⭐"):
    """One subscription payment as Telegram sends it (pre-checkout only before the first); returns the bot's reply."""
    mark = fake.mark()
    if first:
        fake.inject_pre_checkout_query(user, payload, amount)
        answer = fake.wait_for_call("answerPreCheckoutQuery", since=mark)
        assert answer["ok"] in (True, "true", "True"), answer
    fake.inject_successful_payment(
        user, payload, amount, charge_id,
        is_recurring=True, is_first_recurring=first, subscription_expiration_date=int(time.time()) + expires_in_days * DAY,
    )
    return said(fake, user, since=mark, contains=contains)


def revenue(app) -> int:
    with app.app_context():
        return db.session.scalar(select(LedgerAccount.balance).where(LedgerAccount.kind == "platform_revenue")) or 0


def until(app, user_id) -> datetime | None:
    with app.app_context():
        return premium.premium_until(user_id)


def test_subscribe_pay_renew_twice_and_status(bot_app, fake_telegram):
    alice = fake_telegram.user("Alice", language_code="en")
    with run_bot(bot_app):
        reply = subscribe(fake_telegram, alice)
        assert "Premium gives you:" in reply["text"] and "250 ⭐ every 30 days" in reply["text"]
        link = fake_telegram.calls("createInvoiceLink")[-1]
        assert str(link["subscription_period"]) == "2592000" and link["currency"] == "XTR"
        assert [int(p["amount"]) for p in link["prices"]] == [250]
        alice_id = user_id_of(bot_app, alice["id"])
        assert link["payload"] == f"subscription:premium:{alice_id}"
        assert [b["text"] for b in buttons(reply)][0] == "Subscribe for 250 ⭐"

        first = pay_period(fake_telegram, alice, link["payload"], "sub-1", first=True, expires_in_days=30)
        assert first["text"].startswith("Welcome to Premium! 250 ⭐ paid.")
        assert until(bot_app, alice_id) > datetime.now(UTC) + timedelta(days=29)

        renewed = pay_period(fake_telegram, alice, link["payload"], "sub-2", first=False, expires_in_days=60)
        assert renewed["text"].startswith("Premium renewed: 250 ⭐ paid.")
        end = until(bot_app, alice_id)
        assert end > datetime.now(UTC) + timedelta(days=59)

        # Telegram delivers the same renewal again: nothing changes.
        again = pay_period(fake_telegram, alice, link["payload"], "sub-2", first=False, expires_in_days=60, contains="already")
        assert again["text"].startswith("This payment was already counted; nothing changed.")
        assert until(bot_app, alice_id) == end
        assert revenue(bot_app) == 500

        mark = fake_telegram.mark()
        fake_telegram.inject_message(alice, "/status")
        assert "· renews in Telegram" in said(fake_telegram, alice, since=mark)["text"]
    with bot_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Subscription)) == 2
        assert db.session.scalar(select(func.count()).select_from(Payment)) == 2


def test_pre_checkout_refuses_someone_elses_invoice_and_a_changed_price(bot_app, fake_telegram):
    alice, bob = fake_telegram.user("Alice"), fake_telegram.user("Bob")
    with run_bot(bot_app):
        subscribe(fake_telegram, alice)
        subscribe(fake_telegram, bob)
        payload = fake_telegram.calls("createInvoiceLink")[0]["payload"]
        for who, amount, reason in ((bob, 250, "another Telegram account"), (alice, 100, "price of Premium has changed")):
            mark = fake_telegram.mark()
            fake_telegram.inject_pre_checkout_query(who, payload, amount)
            answer = fake_telegram.wait_for_call("answerPreCheckoutQuery", since=mark)
            assert answer["ok"] in (False, "false", "False") and reason in answer["error_message"]


def test_cancel_and_reenable_renewal_call_telegram(bot_app, fake_telegram):
    alice = fake_telegram.user("Alice")
    with run_bot(bot_app):
        subscribe(fake_telegram, alice)
        payload = fake_telegram.calls("createInvoiceLink")[-1]["payload"]
        pay_period(fake_telegram, alice, payload, "first-charge", first=True, expires_in_days=30)
        pay_period(fake_telegram, alice, payload, "second-charge", first=False, expires_in_days=60)

        state = subscribe(fake_telegram, alice)
        assert "Telegram renews it for 250 ⭐" in state["text"]
        assert {"text": "Cancel renewal", "callback_data": "premium:cancel"} in buttons(state)

        mark = fake_telegram.mark()
        fake_telegram.inject_callback_query(alice, "premium:cancel")
        off = said(fake_telegram, alice, since=mark, contains="Renewal is off")
        edit = fake_telegram.wait_for_call("editUserStarSubscription", since=mark)
        # The subscription is named by its first payment's charge id.
        assert (int(edit["user_id"]), edit["telegram_payment_charge_id"], str(edit["is_canceled"]).lower()) == (
            alice["id"], "first-charge", "true"
        )
        assert {"text": "Turn renewal back on", "callback_data": "premium:renew"} in buttons(off)
        alice_id = user_id_of(bot_app, alice["id"])
        assert until(bot_app, alice_id) > datetime.now(UTC) + timedelta(days=59)  # the paid time runs out normally

        mark = fake_telegram.mark()
        fake_telegram.inject_callback_query(alice, "premium:renew")
        said(fake_telegram, alice, since=mark, contains="Renewal is on again")
        edit = fake_telegram.wait_for_call("editUserStarSubscription", since=mark)
        assert str(edit["is_canceled"]).lower() == "false"
        assert "Telegram renews it" in subscribe(fake_telegram, alice)["text"]


def test_telegram_refusing_the_change_changes_nothing(bot_app, fake_telegram):
    alice = fake_telegram.user("Alice")
    with run_bot(bot_app):
        subscribe(fake_telegram, alice)
        payload = fake_telegram.calls("createInvoiceLink")[-1]["payload"]
        pay_period(fake_telegram, alice, payload, "known-charge", first=True, expires_in_days=30)
        with bot_app.app_context():
            db.session.execute(db.update(Subscription).values(subscription_charge_id="not-a-charge"))
            db.session.commit()
        mark = fake_telegram.mark()
        fake_telegram.inject_callback_query(alice, "premium:cancel")
        reply = said(fake_telegram, alice, since=mark, contains="Telegram did not change the subscription")
        assert "charge_id_invalid" in reply["text"].lower()
        assert "Telegram renews it" in subscribe(fake_telegram, alice)["text"]


def test_admin_refund_ends_the_period_it_paid_for(bot_app, fake_telegram, make_user):
    alice = fake_telegram.user("Alice")
    admin = make_user("Admin", is_admin=True)
    with run_bot(bot_app) as runtime:
        subscribe(fake_telegram, alice)
        payload = fake_telegram.calls("createInvoiceLink")[-1]["payload"]
        pay_period(fake_telegram, alice, payload, "refund-me", first=True, expires_in_days=30)
        alice_id = user_id_of(bot_app, alice["id"])
        assert until(bot_app, alice_id) is not None
        with bot_app.app_context():
            payment_id = db.session.scalar(select(Payment.id).where(Payment.telegram_payment_charge_id == "refund-me"))
            result = payments.refund_payment(admin, payment_id, runtime.refund_star_payment)
        assert result.completed and result.amount == 250
        refund = fake_telegram.calls("refundStarPayment")[-1]
        assert (int(refund["user_id"]), refund["telegram_payment_charge_id"]) == (alice["id"], "refund-me")
        assert until(bot_app, alice_id) is None
        assert revenue(bot_app) == 0
        said(fake_telegram, alice, contains="Your Premium has ended")  # the outbox tells her

        # Telegram's own refund notice for it afterwards changes nothing more.
        mark = fake_telegram.mark()
        fake_telegram.inject_refunded_payment(alice, payload, 250, "refund-me")
        fake_telegram.inject_message(alice, "/status")
        assert "Premium: none" in said(fake_telegram, alice, since=mark, contains="Premium:")["text"]
    assert revenue(bot_app) == 0


def test_telegram_refund_notice_ends_the_period(bot_app, fake_telegram):
    alice = fake_telegram.user("Alice")
    with run_bot(bot_app):
        subscribe(fake_telegram, alice)
        payload = fake_telegram.calls("createInvoiceLink")[-1]["payload"]
        pay_period(fake_telegram, alice, payload, "told-refund", first=True, expires_in_days=30)
        mark = fake_telegram.mark()
        fake_telegram.inject_refunded_payment(alice, payload, 250, "told-refund")
        reply = said(fake_telegram, alice, since=mark, contains="Premium payment")
        assert reply["text"] == "Telegram refunded your Premium payment of 250 Stars; the period it paid for has ended."
        assert until(bot_app, user_id_of(bot_app, alice["id"])) is None


def test_subscribe_is_in_the_command_menu_in_both_languages(bot_app, fake_telegram):
    with run_bot(bot_app):
        fake_telegram.wait_for_call("setMyCommands", lambda p: p.get("language_code") == "ru")
    menus = {call.get("language_code", "en"): call["commands"] for call in fake_telegram.calls("setMyCommands")}
    for language in ("en", "ru"):
        assert any(command["command"] == "subscribe" for command in menus[language])
    russian = next(c["description"] for c in menus["ru"] if c["command"] == "subscribe")
    assert russian != "Premium: subscribe, renewal on or off"

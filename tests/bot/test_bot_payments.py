"""Buying Stars in the bot through the fake Bot API over real HTTP (python-telegram-bot unpatched)."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select, text

from auction.extensions import db
from auction.models import Payment, StarPurchase, SupportTicket, User
from auction.services import ledger
from tests.support.bidding_helpers import new_auction
from tests.support.fake_telegram import bot_config, run_bot

SITE = "https://auction.example"


@pytest.fixture
def bot_app(make_app, fake_telegram):
    return make_app(**bot_config(fake_telegram, BASE_URL=SITE))


def said(fake, user, since=0, method="sendMessage", contains=None):
    """The bot's next `method` call to the user (after `since`), optionally containing some text."""
    return fake.wait_for_call(
        method,
        lambda p: str(p.get("chat_id")) == str(user["id"]) and (contains is None or contains in p.get("text", "")),
        since=since,
    )


def buttons(params):
    return [button for row in params["reply_markup"]["inline_keyboard"] for button in row]


def user_id_of(app, telegram_id):
    with app.app_context():
        return db.session.scalar(select(User.id).where(User.telegram_id == telegram_id))


def ask_invoice(fake, user, amount):
    mark = fake.mark()
    fake.inject_message(user, f"/buy_stars {amount}")
    return fake.wait_for_call("sendInvoice", lambda p: str(p["chat_id"]) == str(user["id"]), since=mark)


def pay(fake, user, invoice, charge_id):
    """Pre-checkout then payment, as Telegram does; returns the bot's reply to the payment."""
    mark = fake.mark()
    fake.inject_pre_checkout_query(user, invoice["payload"], int(invoice["prices"][0]["amount"]))
    answer = fake.wait_for_call("answerPreCheckoutQuery", since=mark)
    assert answer["ok"] in (True, "true", "True"), answer
    fake.inject_successful_payment(user, invoice["payload"], int(invoice["prices"][0]["amount"]), charge_id)
    return said(fake, user, since=mark, contains="⭐")


def test_done_when_buy_100_pay_status_and_redelivery(bot_app, fake_telegram):
    """The issue's "Done when": /buy_stars 100, pay, /status shows 100, the same payment again changes nothing."""
    alice = fake_telegram.user("Alice", language_code="en")
    with run_bot(bot_app):
        invoice = ask_invoice(fake_telegram, alice, 100)
        assert invoice["currency"] == "XTR"
        assert invoice.get("provider_token", "") == ""
        assert [int(p["amount"]) for p in invoice["prices"]] == [100]
        assert invoice["title"] == "100 Stars for Bot-Auction"

        reply = pay(fake_telegram, alice, invoice, "charge-done-1")
        assert reply["text"] == "Payment received: +100 ⭐. Available now: 100 ⭐."

        mark = fake_telegram.mark()
        fake_telegram.inject_message(alice, "/status")
        status = said(fake_telegram, alice, since=mark)
        assert "Available: 100 ⭐" in status["text"]
        assert "Reserved for bids: 0 ⭐" in status["text"]
        assert "Premium: none" in status["text"]
        assert "Leading in 0 auctions" in status["text"] and "Outbid in 0 auctions" in status["text"]

        mark = fake_telegram.mark()
        fake_telegram.inject_successful_payment(alice, invoice["payload"], 100, "charge-done-1")
        again = said(fake_telegram, alice, since=mark)
        assert again["text"] == "This payment was already credited; nothing changed. Available: 100 ⭐."
    user_id = user_id_of(bot_app, alice["id"])
    with bot_app.app_context():
        assert ledger.balances(user_id).available == 100
        assert db.session.scalar(select(func.count()).select_from(Payment)) == 1
    result = bot_app.test_cli_runner().invoke(args=["ledger", "check"])
    assert result.exit_code == 0 and "Ledger OK" in result.output


def test_package_buttons_and_other_amount(bot_app, fake_telegram):
    boris = fake_telegram.user("Борис", language_code="ru")
    alice = fake_telegram.user("Alice", language_code="en")
    with run_bot(bot_app):
        fake_telegram.inject_message(alice, "/buy_stars")
        menu = said(fake_telegram, alice)
        assert [b["text"] for b in buttons(menu)] == ["50 ⭐", "100 ⭐", "250 ⭐", "500 ⭐", "1,000 ⭐", "Other amount"]
        mark = fake_telegram.mark()
        fake_telegram.inject_callback_query(alice, "buy_stars:250")
        invoice = fake_telegram.wait_for_call("sendInvoice", since=mark)
        assert [int(p["amount"]) for p in invoice["prices"]] == [250]
        mark = fake_telegram.mark()
        fake_telegram.inject_callback_query(alice, "buy_stars:other")
        assert "/buy_stars 300" in said(fake_telegram, alice, since=mark)["text"]

        mark = fake_telegram.mark()
        fake_telegram.inject_message(boris, "/buy_stars 1")
        invoice = fake_telegram.wait_for_call("sendInvoice", since=mark)
        assert invoice["title"] == "1 звезда для Bot-Auction"
    assert fake_telegram.commands["en"][1:4] == [
        {"command": "buy_stars", "description": "Buy Telegram Stars for bidding"},
        {"command": "status", "description": "Your Stars, subscription and bids"},
        {"command": "paysupport", "description": "Help with payments and refunds"},
    ]


def test_bad_amounts_get_a_clear_answer_and_no_invoice(bot_app, fake_telegram):
    alice = fake_telegram.user("Alice", language_code="en")
    with run_bot(bot_app):
        for amount in ("0", "-5", "abc", "10001", "99999999999999999999", "12.5"):
            mark = fake_telegram.mark()
            fake_telegram.inject_message(alice, f"/buy_stars {amount}")
            reply = said(fake_telegram, alice, since=mark)
            assert reply["text"] == "Enter a whole number of Stars between 1 and 10,000.", amount
    assert fake_telegram.calls("sendInvoice") == []
    with bot_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(StarPurchase)) == 0


def test_bad_amount_in_russian(bot_app, fake_telegram):
    dasha = fake_telegram.user("Дарья", language_code="ru")
    with run_bot(bot_app):
        fake_telegram.inject_message(dasha, "/buy_stars 0")
        assert said(fake_telegram, dasha)["text"] == "Введите целое число звёзд от 1 до 10\u00a0000."


REFUSALS = [
    ("tampered", "This invoice is not valid."),
    ("unknown", "This invoice is not valid."),
    ("other_user", "This invoice was issued to another Telegram account."),
    ("wrong_amount", "The amount does not match the invoice."),
    ("wrong_currency", "Only Telegram Stars (XTR) are accepted."),
    ("already_paid", "This invoice has already been paid."),  # last: it pays the invoice
]


def test_pre_checkout_refusals_reach_the_payer(bot_app, fake_telegram):
    alice = fake_telegram.user("Alice", language_code="en")
    bob = fake_telegram.user("Bob", language_code="en")
    with run_bot(bot_app):
        fake_telegram.inject_message(bob, "/start")
        said(fake_telegram, bob)
        invoice = ask_invoice(fake_telegram, alice, 100)
        for case, message in REFUSALS:
            payer, payload, amount, currency = alice, invoice["payload"], 100, "XTR"
            if case == "tampered":
                payload = payload[:-2] + ("xx" if not payload.endswith("xx") else "yy")
            elif case == "unknown":
                payload = "made-up"
            elif case == "other_user":
                payer = bob
            elif case == "already_paid":
                pay(fake_telegram, alice, invoice, "first-charge")
            elif case == "wrong_amount":
                amount = 1
            elif case == "wrong_currency":
                currency = "EUR"
            mark = fake_telegram.mark()
            fake_telegram.inject_pre_checkout_query(payer, payload, amount, currency)
            answer = fake_telegram.wait_for_call("answerPreCheckoutQuery", since=mark)
            assert answer["ok"] in (False, "false", "False"), case
            assert answer["error_message"].startswith(message), case
            with bot_app.app_context():
                expected = 100 if case == "already_paid" else 0
                assert ledger.balances(user_id_of(bot_app, alice["id"])).available == expected
                assert ledger.balances(user_id_of(bot_app, bob["id"])).available == 0


def test_pre_checkout_refusal_in_russian(bot_app, fake_telegram):
    boris = fake_telegram.user("Борис", language_code="ru")
    with run_bot(bot_app):
        fake_telegram.inject_message(boris, "/start")
        said(fake_telegram, boris)
        fake_telegram.inject_pre_checkout_query(boris, "made-up", 10)
        answer = fake_telegram.wait_for_call("answerPreCheckoutQuery")
    assert answer["error_message"].startswith("Этот счёт недействителен.")


def test_two_copies_of_one_payment_at_the_same_moment_credit_once(bot_app, fake_telegram):
    alice = fake_telegram.user("Alice", language_code="en")
    with run_bot(bot_app):
        invoice = ask_invoice(fake_telegram, alice, 250)
        mark = fake_telegram.mark()
        fake_telegram.inject_pre_checkout_query(alice, invoice["payload"], 250)
        fake_telegram.wait_for_call("answerPreCheckoutQuery", since=mark)
        barrier = threading.Barrier(2)

        def deliver():
            barrier.wait()
            fake_telegram.inject_successful_payment(alice, invoice["payload"], 250, "twin-charge")

        threads = [threading.Thread(target=deliver) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        first = said(fake_telegram, alice, since=mark, contains="⭐")
        second = fake_telegram.wait_for_call(
            "sendMessage", lambda p: str(p["chat_id"]) == str(alice["id"]) and p is not first and "⭐" in p["text"], since=mark
        )
    texts = sorted([first["text"], second["text"]])
    assert texts == [
        "Payment received: +250 ⭐. Available now: 250 ⭐.",
        "This payment was already credited; nothing changed. Available: 250 ⭐.",
    ]
    with bot_app.app_context():
        assert ledger.balances(user_id_of(bot_app, alice["id"])).available == 250


def test_status_counts_leading_and_outbid_bids(bot_app, fake_telegram, make_user):
    alice = fake_telegram.user("Alice", language_code="en")
    seller = make_user("Seller")
    first, second = new_auction(bot_app, seller, "Lamp", listed=True), new_auction(bot_app, seller, "Clock", listed=True)
    with run_bot(bot_app):
        pay(fake_telegram, alice, ask_invoice(fake_telegram, alice, 500), "status-charge")
        alice_id = user_id_of(bot_app, alice["id"])
        rival = make_user("Rival")
        from auction.models import Auction, Bid

        with bot_app.app_context():
            ledger.set_hold(alice_id, first, 40)
            for auction_id, leader in ((first, alice_id), (second, rival)):
                db.session.add(Bid(auction_id=auction_id, bidder_id=alice_id, amount=20))
                db.session.get(Auction, auction_id).leading_bidder_id = leader
            db.session.commit()
        mark = fake_telegram.mark()
        fake_telegram.inject_message(alice, "/status")
        status = said(fake_telegram, alice, since=mark)["text"]
    assert "Available: 460 ⭐" in status and "Reserved for bids: 40 ⭐" in status
    assert "Leading in 1 auction\n" in status and "Outbid in 1 auction" in status


def test_paysupport_shows_policy_payments_and_opens_a_request(bot_app, fake_telegram):
    alice = fake_telegram.user("Alice", language_code="en")
    with run_bot(bot_app):
        pay(fake_telegram, alice, ask_invoice(fake_telegram, alice, 50), "support-charge")
        mark = fake_telegram.mark()
        fake_telegram.inject_message(alice, "/paysupport")
        reply = said(fake_telegram, alice, since=mark)
        assert "refunded while they are unspent" in reply["text"]
        assert "50 ⭐ · paid" in reply["text"]
        assert buttons(reply) == [{"text": "Open a payment support request", "callback_data": "paysupport:open"}]
        mark = fake_telegram.mark()
        fake_telegram.inject_callback_query(alice, "paysupport:open")
        opened = said(fake_telegram, alice, since=mark)
        assert "payment support request #" in opened["text"]
        mark = fake_telegram.mark()
        fake_telegram.inject_message(alice, "/paysupport I paid twice by mistake")
        said(fake_telegram, alice, since=mark, contains="request #")
    with bot_app.app_context():
        tickets = db.session.scalars(select(SupportTicket).order_by(SupportTicket.id)).all()
        assert [(t.kind, t.payment_id is not None) for t in tickets] == [("payment", True), ("payment", True)]
        assert tickets[1].messages[0].body == "I paid twice by mistake"


def test_admin_refund_and_refund_larger_than_available(bot_app, fake_telegram, make_user):
    alice = fake_telegram.user("Alice", language_code="en")
    admin = fake_telegram.user("Admin", language_code="en")
    with run_bot(bot_app):
        pay(fake_telegram, alice, ask_invoice(fake_telegram, alice, 100), "refund-charge-1")
        pay(fake_telegram, alice, ask_invoice(fake_telegram, alice, 30), "refund-charge-2")
        fake_telegram.inject_message(admin, "/start")
        said(fake_telegram, admin)
        with bot_app.app_context():
            db.session.get(User, user_id_of(bot_app, admin["id"])).is_admin = True
            db.session.commit()
            first, second = db.session.scalars(select(Payment.id).order_by(Payment.id)).all()
            # Alice spends 40 of her 130 Stars: 100 can no longer be refunded in full, 30 can.
            ledger.pay_now(user_id_of(bot_app, alice["id"]), make_user("Seller"), new_auction(bot_app, make_user("S2"), listed=True), 40, 5)
        mark = fake_telegram.mark()
        fake_telegram.inject_message(admin, f"/refund {first}")
        refused = said(fake_telegram, admin, since=mark)
        assert refused["text"] == (
            "This payment cannot be refunded: the user has 90 Stars available, less than the 100 Stars of the payment."
        )
        assert fake_telegram.calls("refundStarPayment") == []
        mark = fake_telegram.mark()
        fake_telegram.inject_message(admin, f"/refund {second}")
        done = said(fake_telegram, admin, since=mark)
        assert done["text"] == f"Payment #{second} refunded. The user was told; they now have 60 ⭐ available."
        call = fake_telegram.wait_for_call("refundStarPayment")
        assert (str(call["user_id"]), call["telegram_payment_charge_id"]) == (str(alice["id"]), "refund-charge-2")
        told = said(fake_telegram, alice, since=mark, contains="refunded")
        assert "Available now: 60 ⭐" in told["text"]
        # Telegram then reports the refund it made: already recorded, nothing changes.
        fake_telegram.inject_refunded_payment(alice, "x", 30, "refund-charge-2")
        mark = fake_telegram.mark()
        fake_telegram.inject_message(alice, "/status")
        assert "Available: 60 ⭐" in said(fake_telegram, alice, since=mark)["text"]
        # A non-admin cannot refund.
        mark = fake_telegram.mark()
        fake_telegram.inject_message(alice, f"/refund {first}")
        assert said(fake_telegram, alice, since=mark)["text"] == "You are not allowed to do that."


def make_admin(app, fake, admin):
    fake.inject_message(admin, "/start")
    said(fake, admin)
    with app.app_context():
        db.session.get(User, user_id_of(app, admin["id"])).is_admin = True
        db.session.commit()


def refund_reply(fake, admin, payment_id):
    mark = fake.mark()
    fake.inject_message(admin, f"/refund {payment_id}")
    return said(fake, admin, since=mark)["text"]


def available_in_status(fake, user):
    mark = fake.mark()
    fake.inject_message(user, "/status")
    text = said(fake, user, since=mark)["text"]
    return next(line for line in text.splitlines() if line.startswith("Available:"))


def test_refund_telegram_refuses_then_lost_answer_then_retry(bot_app, fake_telegram):
    alice = fake_telegram.user("Alice", language_code="en")
    admin = fake_telegram.user("Admin", language_code="en")
    with run_bot(bot_app):
        pay(fake_telegram, alice, ask_invoice(fake_telegram, alice, 70), "refund-flaky")
        make_admin(bot_app, fake_telegram, admin)
        with bot_app.app_context():
            payment_id = db.session.scalar(select(Payment.id))

        # Telegram refuses: the admin reads why, the Stars are back in Alice's wallet.
        fake_telegram.fail_next("refundStarPayment", 400, description="Bad Request: CHARGE_NOT_FOUND")
        assert refund_reply(fake_telegram, admin, payment_id) == (
            "Telegram refused the refund: Charge_not_found. Nothing was changed."
        )
        assert available_in_status(fake_telegram, alice) == "Available: 70 ⭐"

        # Telegram's answer is lost: the outcome is unknown and the Stars stay set aside.
        fake_telegram.drop_next("refundStarPayment")
        assert refund_reply(fake_telegram, admin, payment_id) == (
            f"Telegram did not answer, so it is unknown whether payment #{payment_id} was refunded. Its 70 ⭐ are set "
            "aside from the user's balance until the refund is confirmed: Telegram's refund notice completes it, "
            f"or send /refund {payment_id} again to retry."
        )
        assert available_in_status(fake_telegram, alice) == "Available: 0 ⭐"
        assert [call.error_code for call in fake_telegram.attempts("refundStarPayment")] == [400, 0]

        # The lost request had in fact refunded: the retry hears so and completes the refund once.
        fake_telegram.fail_next("refundStarPayment", 400, description="Bad Request: CHARGE_ALREADY_REFUNDED")
        mark = fake_telegram.mark()
        assert refund_reply(fake_telegram, admin, payment_id) == (
            f"Payment #{payment_id} refunded. The user was told; they now have 0 ⭐ available."
        )
        assert "Available now: 0 ⭐" in said(fake_telegram, alice, since=mark, contains="refunded")["text"]
        # A second refund of the same payment is refused without asking Telegram.
        assert refund_reply(fake_telegram, admin, payment_id) == "This payment has already been refunded."
        assert [call.error_code for call in fake_telegram.attempts("refundStarPayment")] == [400, 0, 400]
    with bot_app.app_context():
        assert db.session.get(Payment, payment_id).status == "refunded"
        told = [c for c in fake_telegram.calls("sendMessage") if str(c["chat_id"]) == str(alice["id"]) and "was refunded" in c["text"]]
        assert len(told) == 1


def test_lost_refund_answer_completed_by_telegrams_refund_message(bot_app, fake_telegram):
    alice = fake_telegram.user("Alice", language_code="en")
    admin = fake_telegram.user("Admin", language_code="en")
    with run_bot(bot_app):
        invoice = ask_invoice(fake_telegram, alice, 25)
        pay(fake_telegram, alice, invoice, "refund-lost")
        make_admin(bot_app, fake_telegram, admin)
        with bot_app.app_context():
            payment_id = db.session.scalar(select(Payment.id))
        fake_telegram.drop_next("refundStarPayment")
        assert "it is unknown whether" in refund_reply(fake_telegram, admin, payment_id)
        mark = fake_telegram.mark()
        fake_telegram.inject_refunded_payment(alice, invoice["payload"], 25, "refund-lost")
        assert "taken out of your wallet" in said(fake_telegram, alice, since=mark)["text"]
        assert available_in_status(fake_telegram, alice) == "Available: 0 ⭐"
        assert refund_reply(fake_telegram, admin, payment_id) == "This payment has already been refunded."
    with bot_app.app_context():
        assert db.session.get(Payment, payment_id).status == "refunded"


def test_telegram_refund_reverses_or_flags(bot_app, fake_telegram, make_user):
    alice = fake_telegram.user("Alice", language_code="en")
    with run_bot(bot_app):
        first = ask_invoice(fake_telegram, alice, 100)
        pay(fake_telegram, alice, first, "tg-refund-a")
        second = ask_invoice(fake_telegram, alice, 50)
        pay(fake_telegram, alice, second, "tg-refund-b")
        mark = fake_telegram.mark()
        fake_telegram.inject_refunded_payment(alice, first["payload"], 100, "tg-refund-a")
        assert "taken out of your wallet" in said(fake_telegram, alice, since=mark)["text"]
        with bot_app.app_context():
            alice_id = user_id_of(bot_app, alice["id"])
            ledger.set_hold(alice_id, new_auction(bot_app, make_user("Seller"), listed=True), 30)
        mark = fake_telegram.mark()
        fake_telegram.inject_refunded_payment(alice, second["payload"], 50, "tg-refund-b")
        assert "An admin will review your account" in said(fake_telegram, alice, since=mark)["text"]
    with bot_app.app_context():
        assert ledger.balances(alice_id) == ledger.Balances(20, 30)
        ticket = db.session.scalar(select(SupportTicket))
        assert ticket.kind == "payment" and ticket.user_id == alice_id


def test_a_failed_pre_checkout_check_logs_no_invoice_payload(bot_app, fake_telegram, caplog):
    alice = fake_telegram.user("Alice", language_code="en")
    with run_bot(bot_app):
        invoice = ask_invoice(fake_telegram, alice, 40)
        with bot_app.app_context():
            # The check cannot read the purchases any more: it fails, as when the database is down.
            db.session.execute(text("ALTER TABLE star_purchases RENAME TO star_purchases_gone"))
            db.session.commit()
        try:
            mark = fake_telegram.mark()
            fake_telegram.inject_pre_checkout_query(alice, invoice["payload"], 40)
            answer = fake_telegram.wait_for_call("answerPreCheckoutQuery", since=mark)
        finally:
            with bot_app.app_context():
                db.session.execute(text("ALTER TABLE star_purchases_gone RENAME TO star_purchases"))
                db.session.commit()
    assert answer["ok"] in (False, "false", "False")
    assert answer["error_message"] == "Payments are unavailable for a moment. Nothing was charged; please try again."
    failures = [r for r in caplog.records if r.getMessage().startswith("pre-checkout check failed")]
    assert failures and all(invoice["payload"] not in r.getMessage() for r in failures)

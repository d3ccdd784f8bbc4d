"""Numbers and ids from the bot, through the fake Bot API over real HTTP: typed amounts in both
languages, hostile button data and deep links, /buy_stars and /refund; and the bot's registration."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import event, func, select

from auction.extensions import db
from auction.models import StarPurchase
from auction.services.users import TelegramProfile, register_from_bot
from tests.bot.test_bot_bidding import bids_on, open_card, press, said, user_id_of
from tests.support.bidding_helpers import give_stars, new_auction
from tests.support.fake_telegram import bot_config, run_bot

SITE = "https://auction.example"
NBSP = "\u00a0"

NOT_FOUND = {"en": "This auction was not found. It may have been removed.", "ru": "Аукцион не найден. Возможно, его удалили."}
STALE = {"en": "This button is no longer valid. Open the auction again.", "ru": "Эта кнопка больше не действует. Откройте аукцион заново."}
NOT_A_NUMBER = {"en": "That is not a number of Stars.", "ru": "Это не число звёзд."}


@pytest.fixture
def bot_app(make_app, fake_telegram):
    return make_app(**bot_config(fake_telegram, BASE_URL=SITE))


@pytest.fixture
def seller(bot_app, make_user):
    return make_user("Seller")


TYPED = {
    "en": [("1 000", 1000), ("1,200 ⭐", 1200), ("1300⭐", 1300)],
    "ru": [(f"1{NBSP}000", 1000), ("1 200 ⭐", 1200), ("1'300", 1300)],
}


@pytest.mark.parametrize("language", ["en", "ru"])
def test_other_amount_takes_grouped_numbers_and_refuses_other_digits(bot_app, fake_telegram, seller, language):
    auction_id = new_auction(bot_app, seller, start_price=10)
    person = fake_telegram.user("Chen", language_code=language)
    with run_bot(bot_app):
        open_card(fake_telegram, person, auction_id, method="sendMessage")
        give_stars(bot_app, user_id_of(bot_app, person["id"]), 5000)
        for text, maximum in TYPED[language]:
            _, asked = press(fake_telegram, person, f"bidask:{auction_id}")
            said(fake_telegram, person, asked)  # the question
            mark = fake_telegram.mark()
            fake_telegram.inject_message(person, text)
            reply = said(fake_telegram, person, mark)
            grouped = f"{maximum:,}".replace(",", "," if language == "en" else NBSP)
            assert grouped in reply["text"], (text, reply["text"])
            assert bids_on(bot_app, auction_id)[-1][2] == maximum
        count = len(bids_on(bot_app, auction_id))
        _, asked = press(fake_telegram, person, f"bidask:{auction_id}")
        said(fake_telegram, person, asked)
        for text in ("٣٠٠٠", "²", "2.000", "9" * 40):
            mark = fake_telegram.mark()
            fake_telegram.inject_message(person, text)
            assert said(fake_telegram, person, mark)["text"].startswith(NOT_A_NUMBER[language]), text
    assert len(bids_on(bot_app, auction_id)) == count


HOSTILE_PRESSES = [
    ("bid:3000000000:10", NOT_FOUND),
    ("bid:99999999999999999999:10", NOT_FOUND),
    ("bid:٣:10", NOT_FOUND),
    ("bid:{id}:١٠", STALE),
    ("bid:{id}:99999999999999999999", STALE),
    ("bid:{id}", STALE),
    ("bid:", STALE),
    ("bidask:3000000000", NOT_FOUND),
    ("bidask:²", NOT_FOUND),
    ("watch:3000000000", NOT_FOUND),
    ("unwatch:-1", NOT_FOUND),
    ("card:2147483648", NOT_FOUND),
    ("card:abc", NOT_FOUND),
    ("nonsense:1", STALE),
]


@pytest.mark.parametrize("language", ["en", "ru"])
def test_hostile_button_data_says_not_found_or_stale_and_changes_nothing(bot_app, fake_telegram, seller, language, caplog):
    auction_id = new_auction(bot_app, seller, start_price=10)
    person = fake_telegram.user("Mallory", language_code=language)
    with run_bot(bot_app), caplog.at_level(logging.ERROR, logger="auction.bot"):
        open_card(fake_telegram, person, auction_id, method="sendMessage")
        give_stars(bot_app, user_id_of(bot_app, person["id"]), 500)
        for data, texts in HOSTILE_PRESSES:
            answer, _ = press(fake_telegram, person, data.format(id=auction_id))
            assert answer.get("text") == texts[language], data
        for argument in ("auction_3000000000", "auction_99999999999999999999", "auction_٣", "auction_0"):
            mark = fake_telegram.mark()
            fake_telegram.inject_message(person, f"/start {argument}")
            assert said(fake_telegram, person, mark)["text"] == NOT_FOUND[language], argument
    assert bids_on(bot_app, auction_id) == []
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


def test_buy_stars_reads_grouped_amounts_and_refuses_other_digits(bot_app, fake_telegram):
    alice = fake_telegram.user("Alice", language_code="en")
    boris = fake_telegram.user("Борис", language_code="ru")
    with run_bot(bot_app):
        for person, text, title in ((alice, "1 000", "1,000 Stars for Bot-Auction"), (boris, "2,500 ⭐", f"2{NBSP}500 звёзд для Bot-Auction")):
            mark = fake_telegram.mark()
            fake_telegram.inject_message(person, f"/buy_stars {text}")
            invoice = fake_telegram.wait_for_call("sendInvoice", lambda p, who=person: str(p["chat_id"]) == str(who["id"]), since=mark)
            assert invoice["title"] == title
        for text in ("²", "٣٠", "1.000"):
            mark = fake_telegram.mark()
            fake_telegram.inject_message(alice, f"/buy_stars {text}")
            assert said(fake_telegram, alice, mark)["text"] == "Enter a whole number of Stars between 1 and 10,000.", text
    with bot_app.app_context():
        assert sorted(db.session.scalars(select(StarPurchase.amount))) == [1000, 2500]


def test_refund_reads_only_ascii_payment_numbers(make_app, fake_telegram):
    admin = fake_telegram.user("Admin", language_code="en")
    app = make_app(**bot_config(fake_telegram, BASE_URL=SITE, ADMIN_TELEGRAM_IDS=frozenset({admin["id"]})))
    with run_bot(app):
        for argument in ("²", "٤٢", "3000000000", "-1"):
            mark = fake_telegram.mark()
            fake_telegram.inject_message(admin, f"/refund {argument}")
            text = said(fake_telegram, admin, mark)["text"]
            assert text in ("Send /refund followed by the payment number, for example /refund 42.", "Not found."), argument
    assert fake_telegram.calls("refundStarPayment") == []


def test_the_wallet_reads_amounts_with_the_same_reader(bot_app, fake_telegram, make_user):
    from tests.conftest import csrf_token, sign_in

    client = bot_app.test_client()
    user_id = make_user("Alice")
    sign_in(client, user_id)
    with run_bot(bot_app):
        token = csrf_token(client, "/wallet")
        for raw in ("²", "٣٠", "12.5"):
            response = client.post("/wallet/buy", data={"other_amount": raw, "csrf_token": token}, follow_redirects=True)
            assert response.status_code == 200
            assert "Enter a whole number of Stars between 1 and 10,000." in response.get_data(as_text=True), raw
        response = client.post("/wallet/buy", data={"other_amount": "1 000", "csrf_token": token})
        assert response.status_code == 302
    with bot_app.app_context():
        assert list(db.session.scalars(select(StarPurchase.amount))) == [1000]
    assert len(fake_telegram.calls("createInvoiceLink")) == 1


def _writes_during(app, fn):
    statements: list[str] = []

    def record(conn, cursor, statement, *args):
        statements.append(statement.split(None, 1)[0].upper())

    with app.app_context():
        engine = db.engine
        event.listen(engine, "before_cursor_execute", record)
        try:
            fn()
        finally:
            event.remove(engine, "before_cursor_execute", record)
            db.session.remove()
    return [s for s in statements if s in ("INSERT", "UPDATE", "DELETE")]


def test_registering_from_the_bot_writes_only_when_something_changed(app):
    profile = TelegramProfile(telegram_id=810_000_001, first_name="Olga", username="olga", language_code="ru")
    assert _writes_during(app, lambda: register_from_bot(profile)) == ["INSERT"]
    assert _writes_during(app, lambda: register_from_bot(profile)) == []  # a second press: one read, no write
    renamed = TelegramProfile(telegram_id=810_000_001, first_name="Olga", username="olga_k", language_code="ru")
    assert _writes_during(app, lambda: register_from_bot(renamed)) == ["UPDATE"]
    with app.app_context():
        user = register_from_bot(renamed)
        user.bot_blocked = True
        db.session.commit()
    assert _writes_during(app, lambda: register_from_bot(renamed)) == ["UPDATE"]  # writing to the bot unblocks it
    with app.app_context():
        user = register_from_bot(renamed)
        assert (user.username, user.bot_blocked, user.language_code) == ("olga_k", False, "ru")
        assert db.session.scalar(select(func.count()).select_from(type(user))) == 1

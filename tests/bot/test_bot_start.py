"""/start through the fake Bot API over real HTTP, python-telegram-bot unpatched, polling mode."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from auction.extensions import db
from auction.models import User
from auction.services.demo import demo_photo
from auction.services.listings import ListingDraft, create_listing
from tests.support.fake_telegram import bot_config, run_bot

SITE = "https://auction.example"
LANGUAGE_CHOICE = [{"text": "English", "callback_data": "lang:en"}, {"text": "Русский", "callback_data": "lang:ru"}]


@pytest.fixture
def bot_app(make_app, fake_telegram):
    return make_app(**bot_config(fake_telegram, BASE_URL=SITE))


def reply_to(fake, user, method="sendMessage", since=0):
    return fake.wait_for_call(method, lambda p: p["chat_id"] == user["id"], since=since)


def buttons(params):
    return [button for row in params["reply_markup"]["inline_keyboard"] for button in row]


def stored_user(app, telegram_id):
    with app.app_context():
        user = db.session.scalar(select(User).where(User.telegram_id == telegram_id))
        return {"first_name": user.first_name, "username": user.username, "language_code": user.language_code}


def test_start_registers_the_user_and_greets_them_in_russian(bot_app, fake_telegram):
    boris = fake_telegram.user("Борис", language_code="ru", username="boris")
    with run_bot(bot_app):
        fake_telegram.inject_message(boris, "/start")
        reply = reply_to(fake_telegram, boris)
    assert "Добро пожаловать" in reply["text"] and "Борис" in reply["text"]
    # First use: the language choice under the link to the site.
    assert buttons(reply) == [{"text": "Открыть Bot-Auction", "url": SITE}, *LANGUAGE_CHOICE]
    assert stored_user(bot_app, boris["id"]) == {"first_name": "Борис", "username": "boris", "language_code": "ru"}


def test_start_in_english_and_the_command_menu_in_both_languages(bot_app, fake_telegram):
    alice = fake_telegram.user("Alice", language_code="en")
    with run_bot(bot_app):
        fake_telegram.inject_message(alice, "/start")
        reply = reply_to(fake_telegram, alice)
    assert reply["text"].startswith("Welcome to Bot-Auction, Alice!")
    assert buttons(reply) == [{"text": "Open Bot-Auction", "url": SITE}, *LANGUAGE_CHOICE]
    english, russian = fake_telegram.commands["en"], fake_telegram.commands["ru"]
    assert {"command": "start", "description": "Open the auction house"} in english
    assert {"command": "start", "description": "Открыть аукционный дом"} in russian
    assert [c["command"] for c in russian] == [c["command"] for c in english]
    assert fake_telegram.commands[""] == english  # Telegram's default for every other language


def test_deep_link_opens_the_auction_card_with_its_photo(bot_app, fake_telegram, make_user):
    seller = make_user("Seller")
    with bot_app.app_context():
        draft = ListingDraft(title="Chess set in oak", description="Hand-carved.", start_price=150,
                             duration=timedelta(hours=3), photos=[demo_photo("Chess", 3)])
        auction_id = create_listing(seller, draft)
    chen = fake_telegram.user("Chen", language_code="en")
    with run_bot(bot_app):
        fake_telegram.inject_message(chen, f"/start auction_{auction_id}")
        card = reply_to(fake_telegram, chen, "sendPhoto")
    assert card["photo"]["size"] > 10_000 and card["photo"]["filename"].endswith("-large.webp")
    assert "Chess set in oak" in card["caption"]
    assert "Current price: 150 ⭐" in card["caption"]
    assert "Ends in 3 hours" in card["caption"]
    assert buttons(card)[0] == {"text": "Bid 150 ⭐", "callback_data": f"bid:{auction_id}:150"}
    assert buttons(card)[-1] == {"text": "Open on the site", "url": f"{SITE}/auctions/{auction_id}"}


def test_unknown_auction_and_unknown_parameter(bot_app, fake_telegram):
    dasha = fake_telegram.user("Дарья", language_code="ru")
    alice = fake_telegram.user("Alice", language_code="en")
    with run_bot(bot_app):
        fake_telegram.inject_message(dasha, "/start auction_987654")
        fake_telegram.inject_message(alice, "/start promo_spring")
        missing = reply_to(fake_telegram, dasha)
        welcome = reply_to(fake_telegram, alice)
    assert "не найден" in missing["text"]
    assert buttons(missing) == [{"text": "Открыть Bot-Auction", "url": SITE}]
    assert welcome["text"].startswith("Welcome to Bot-Auction, Alice!")


def test_the_language_chosen_on_the_site_wins_over_telegrams(bot_app, fake_telegram, make_user):
    ivan = fake_telegram.user("Ivan", language_code="ru")
    make_user("Ivan", telegram_id=ivan["id"], language_code="ru", locale="en")
    with run_bot(bot_app):
        fake_telegram.inject_message(ivan, "/start")
        reply = reply_to(fake_telegram, ivan)
    assert reply["text"].startswith("Welcome to Bot-Auction, Ivan!")


def test_messages_sent_while_the_bot_was_down_are_answered_once(bot_app, fake_telegram):
    alice = fake_telegram.user("Alice", language_code="en")
    fake_telegram.inject_message(alice, "/start")  # the process is not running yet
    with run_bot(bot_app):
        reply_to(fake_telegram, alice)
    with run_bot(bot_app):  # a restart must not answer the same update again
        mark = fake_telegram.mark()
        fake_telegram.inject_message(alice, "/start again")
        reply_to(fake_telegram, alice, since=mark)
    assert len([p for p in fake_telegram.calls("sendMessage") if p["chat_id"] == alice["id"]]) == 2


def test_a_local_base_url_is_sent_as_text_because_telegram_refuses_such_buttons(make_app, fake_telegram):
    app = make_app(**bot_config(fake_telegram, BASE_URL="http://127.0.0.1:8000"))
    alice = fake_telegram.user("Alice", language_code="en")
    with run_bot(app):
        fake_telegram.inject_message(alice, "/start")
        reply = reply_to(fake_telegram, alice)
    assert reply["text"].endswith("Open Bot-Auction: http://127.0.0.1:8000")
    assert buttons(reply) == LANGUAGE_CHOICE  # only the link became text


def test_bot_off_logs_one_line(make_app, caplog):
    app = make_app(BOT_MODE="off")
    caplog.set_level("INFO", logger="auction.bot")
    with run_bot(app) as runtime:
        assert not runtime.running
    assert [r.getMessage() for r in caplog.records if r.name == "auction.bot"] == ["bot: off (BOT_MODE=off)"]


def test_a_broken_rule_in_a_handler_reaches_the_user_translated(bot_app, fake_telegram):
    from flask_babel import lazy_gettext as _l
    from telegram.ext import CommandHandler

    from auction.services.errors import ServiceError

    async def refuse(update, context):
        raise ServiceError(_l("Something went wrong. Please try again."))

    boris = fake_telegram.user("Борис", language_code="ru")
    with run_bot(bot_app) as runtime:
        runtime.application.add_handler(CommandHandler("refuse", refuse))
        fake_telegram.inject_message(boris, "/refuse")
        reply = reply_to(fake_telegram, boris)
    assert reply["text"] == "Что-то пошло не так. Попробуйте ещё раз."


def test_the_site_starts_when_telegram_is_unreachable_or_refuses_the_token(make_app, fake_telegram, caplog):
    caplog.set_level("INFO", logger="auction.bot")
    unreachable = make_app(**bot_config(fake_telegram, TELEGRAM_API_BASE_URL="http://127.0.0.1:9/bot"))
    with run_bot(unreachable) as runtime:
        assert not runtime.running
    refused = make_app(**bot_config(fake_telegram, TELEGRAM_BOT_TOKEN="999:revoked"))
    with run_bot(refused) as runtime:
        assert not runtime.running
    lines = [r.getMessage() for r in caplog.records if r.name == "auction.bot"]
    assert any(line.startswith("bot: cannot reach Telegram") and "retrying in the background" in line for line in lines)
    assert any(line.startswith("bot: off (Telegram refused to start it") for line in lines)

"""/help, /mybids, /language, /settings, unknown commands and free text, through the fake Bot API
over real HTTP (python-telegram-bot unpatched), in English and Russian."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from auction.extensions import db
from auction.models import Auction, User
from auction.services import bidding, lifecycle, notifications, rules
from tests.support.bidding_helpers import end_now, give_stars, new_auction
from tests.support.fake_telegram import bot_config, run_bot

SITE = "https://auction.example"


@pytest.fixture
def bot_app(make_app, fake_telegram):
    return make_app(**bot_config(fake_telegram, BASE_URL=SITE))


def reply_to(fake, user, method="sendMessage", since=0, contains=None):
    return fake.wait_for_call(
        method, lambda p: p["chat_id"] == user["id"] and (contains is None or contains in p.get("text", "")), since=since
    )


def buttons(params):
    return [button for row in params["reply_markup"]["inline_keyboard"] for button in row]


def user_id(app, telegram_user) -> int:
    with app.app_context():
        return db.session.scalar(select(User.id).where(User.telegram_id == telegram_user["id"]))


@pytest.mark.parametrize(("language", "commands", "proxy"), [("en", "Commands", "Proxy bidding"), ("ru", "Команды", "Автоставка")])
def test_help_lists_every_command_and_three_auction_kinds(bot_app, fake_telegram, language, commands, proxy):
    person = fake_telegram.user("Pat", language_code=language)
    with run_bot(bot_app):
        fake_telegram.inject_message(person, "/help")
        reply = reply_to(fake_telegram, person)
    text = reply["text"]
    assert commands in text and proxy in text
    for command in ("/start", "/buy_stars", "/watchlist", "/mybids", "/settings", "/language", "/help"):
        assert command in text
    assert text.count("\n") >= 20  # three lines for each kind of auction, besides the commands


@pytest.mark.parametrize(("language", "unknown", "chat"), [("en", "I don't know that command", "I answer commands"), ("ru", "Я не знаю такой команды", "Я отвечаю на команды")])
def test_unknown_commands_get_a_helpful_answer(bot_app, fake_telegram, language, unknown, chat):
    person = fake_telegram.user("Pat", language_code=language)
    with run_bot(bot_app):
        fake_telegram.inject_message(person, "/frobnicate")
        first = reply_to(fake_telegram, person)
        mark = fake_telegram.mark()
        fake_telegram.inject_message(person, "/help")  # a known command gets its own answer only
        reply_to(fake_telegram, person, since=mark)
        fake_telegram.wait_for_call("getUpdates", since=fake_telegram.mark())
    assert unknown in first["text"]
    assert {"text": first["reply_markup"]["inline_keyboard"][0][1]["text"], "callback_data": "help:"} in buttons(first)
    assert len([c for c in fake_telegram.calls("sendMessage") if c["chat_id"] == person["id"]]) == 2


def test_other_amount_still_takes_the_next_plain_message(bot_app, fake_telegram, make_user):
    seller = make_user("Sam")
    auction_id = new_auction(bot_app, seller, title="Lamp")
    alice = fake_telegram.user("Alice", language_code="en")
    with run_bot(bot_app):
        fake_telegram.inject_message(alice, "/start")
        reply_to(fake_telegram, alice)
        give_stars(bot_app, user_id(bot_app, alice), 1_000)
        mark = fake_telegram.mark()
        fake_telegram.inject_message(alice, f"/start auction_{auction_id}")
        reply_to(fake_telegram, alice, since=mark)
        mark = fake_telegram.mark()
        fake_telegram.inject_callback_query(alice, f"bidask:{auction_id}")
        reply_to(fake_telegram, alice, since=mark)
        mark = fake_telegram.mark()
        fake_telegram.inject_message(alice, "150")
        answer = reply_to(fake_telegram, alice, since=mark)
    assert "150" in answer["text"] and "I answer commands" not in answer["text"]
    with bot_app.app_context():
        assert db.session.get(Auction, auction_id).leading_bidder_id == user_id(bot_app, alice)


def test_a_suspended_person_is_told_so(bot_app, fake_telegram, make_user):
    person = fake_telegram.user("Sid", language_code="en")
    make_user("Sid", telegram_id=person["id"], is_suspended=True)
    with run_bot(bot_app):
        fake_telegram.inject_message(person, "/frobnicate")
        text = reply_to(fake_telegram, person)["text"]
        mark = fake_telegram.mark()
        fake_telegram.inject_message(person, "/mybids")
        mybids = reply_to(fake_telegram, person, since=mark)["text"]
    assert "suspended" in text and "suspended" in mybids


@pytest.mark.parametrize(("language", "lead", "heading", "bid_word"), [("en", "You lead", "Outbid", "Bid"), ("ru", "Вы лидируете", "Ставку перебили", "Ставка")])
def test_mybids_groups_with_bid_and_open_buttons_and_pages(bot_app, fake_telegram, make_user, language, lead, heading, bid_word):
    person = fake_telegram.user("Pat", language_code=language)
    pat = make_user("Pat", telegram_id=person["id"], language_code=language)
    seller, rival = make_user("Sam"), make_user("Rita")
    give_stars(bot_app, pat, 10_000)
    give_stars(bot_app, rival, 10_000)
    lamp = new_auction(bot_app, seller, title="Lamp")
    bidding_calls = [(lamp, pat, 100), (lamp, rival, 200)]
    more = [new_auction(bot_app, seller, title=f"Vase {n}") for n in range(7)]
    bidding_calls += [(auction_id, pat, 50) for auction_id in more]
    with bot_app.app_context():
        for auction_id, bidder, amount in bidding_calls:
            bidding.place_bid(auction_id, bidder, amount)
    end_now(bot_app, more[0])
    with bot_app.app_context():
        lifecycle.close_auction(more[0])
        min_next = rules.min_next_bid(10, db.session.get(Auction, lamp).current_price, True)
    with run_bot(bot_app):
        fake_telegram.inject_message(person, "/mybids")
        first = fake_telegram.wait_for_call("sendMessage", lambda p: "mybids:2" in str(p.get("reply_markup")))
        mark = fake_telegram.mark()
        next_button = [b for b in buttons(first) if b.get("callback_data") == "mybids:2"][0]
        fake_telegram.inject_callback_query(person, next_button["callback_data"])
        second = fake_telegram.wait_for_call("editMessageText", lambda p: p["chat_id"] == person["id"], since=mark)
    assert lead in first["text"] and "Vase 6" in first["text"] and "Lamp" not in first["text"]
    assert any(b.get("callback_data") == f"card:{more[1]}" for b in buttons(first))
    # Page 2, redrawn in place: outbid (with the bid that would lead again), then the won auction.
    text = second["text"]
    assert heading in text and text.index("Lamp") < text.index("Vase 0")
    assert {"text": f"{bid_word} {min_next} ⭐", "callback_data": f"bid:{lamp}:{min_next}"} in buttons(second)
    assert any(b.get("callback_data") == f"card:{lamp}" for b in buttons(second))
    assert any(b.get("callback_data") == "mybids:1" for b in buttons(second))


@pytest.mark.parametrize(("start", "chosen", "confirmation"), [("en", "ru", "по-русски"), ("ru", "en", "English")])
def test_language_choice_is_shared_with_the_site(bot_app, fake_telegram, start, chosen, confirmation):
    person = fake_telegram.user("Pat", language_code=start)
    with run_bot(bot_app):
        fake_telegram.inject_message(person, "/start")
        welcome = reply_to(fake_telegram, person)
        assert {"text": "Русский", "callback_data": "lang:ru"} in buttons(welcome)  # first use: the choice
        mark = fake_telegram.mark()
        fake_telegram.inject_message(person, "/language")
        question = reply_to(fake_telegram, person, since=mark)
        mark = fake_telegram.mark()
        fake_telegram.inject_callback_query(person, f"lang:{chosen}")
        done = reply_to(fake_telegram, person, since=mark)
        mark = fake_telegram.mark()
        fake_telegram.inject_message(person, "/start")
        again = reply_to(fake_telegram, person, since=mark)
    assert [b["callback_data"] for b in buttons(question)] == ["lang:en", "lang:ru"]
    assert confirmation in done["text"]
    assert not any(b.get("callback_data", "").startswith("lang:") for b in buttons(again))  # chosen: not asked again
    with bot_app.app_context():
        assert db.session.get(User, user_id(bot_app, person)).locale == chosen


@pytest.mark.parametrize(("language", "label", "toast"), [("en", "You were outbid", "Off: You were outbid"), ("ru", "Вашу ставку перебили", "Выкл.: Вашу ставку перебили")])
def test_settings_buttons_turn_telegram_messages_off_and_on(bot_app, fake_telegram, language, label, toast):
    person = fake_telegram.user("Pat", language_code=language)
    with run_bot(bot_app):
        fake_telegram.inject_message(person, "/settings")
        reply = reply_to(fake_telegram, person)
        outbid = [b for b in buttons(reply) if b["callback_data"].startswith("pref:outbid:")][0]
        assert outbid == {"text": f"✅ {label}", "callback_data": "pref:outbid:0"}
        mark = fake_telegram.mark()
        fake_telegram.inject_callback_query(person, outbid["callback_data"])
        answer = fake_telegram.wait_for_call("answerCallbackQuery", since=mark)
        edited = fake_telegram.wait_for_call("editMessageText", lambda p: p["chat_id"] == person["id"], since=mark)
    assert answer["text"] == toast
    assert {"text": f"✖️ {label}", "callback_data": "pref:outbid:1"} in buttons(edited)
    with bot_app.app_context():
        assert "telegram" not in notifications.enabled_channels(user_id(bot_app, person), "outbid")


@pytest.mark.parametrize(
    ("language", "looking", "search_label", "no_match", "commands"),
    [
        ("en", "Looking for “golden dragon”?", "Search for «golden dragon»", "Open auctions matching", "I answer commands and buttons"),
        ("ru", "Ищете «golden dragon»?", "Искать «golden dragon»", "Открытые аукционы по запросу", "Я отвечаю на команды и кнопки"),
    ],
)
def test_plain_words_offer_a_search_that_runs_the_search_command(
    bot_app, fake_telegram, make_user, language, looking, search_label, no_match, commands
):
    seller = make_user("Sam")
    new_auction(bot_app, seller, title="Golden dragon figurine")
    person = fake_telegram.user("Pat", language_code=language)
    with run_bot(bot_app):
        fake_telegram.inject_message(person, "golden   dragon")
        offer = reply_to(fake_telegram, person)
        search = next(b for b in buttons(offer) if b.get("callback_data", "").startswith("search:"))
        mark = fake_telegram.mark()
        fake_telegram.inject_callback_query(person, search["callback_data"])
        found = reply_to(fake_telegram, person, since=mark)
        mark = fake_telegram.mark()
        fake_telegram.inject_message(person, "👍")
        nothing_to_search = reply_to(fake_telegram, person, since=mark)
    assert looking in offer["text"] and commands in offer["text"] and "/search" in offer["text"]
    assert search["text"] == search_label and search["callback_data"] == "search:golden dragon"
    assert {"mybids:1", "help:", "buy_stars:"} <= {b.get("callback_data") for b in buttons(offer)}
    assert no_match in found["text"] and "Golden dragon figurine" in found["text"]
    assert commands in nothing_to_search["text"]
    assert not any(b.get("callback_data", "").startswith("search:") for b in buttons(nothing_to_search))


def test_a_number_outside_a_question_offers_to_buy_that_many_stars(bot_app, fake_telegram):
    person = fake_telegram.user("Pat", language_code="en")
    with run_bot(bot_app):
        fake_telegram.inject_message(person, "/buy_stars")
        reply_to(fake_telegram, person)
        mark = fake_telegram.mark()
        fake_telegram.inject_callback_query(person, "buy_stars:other")
        reply_to(fake_telegram, person, since=mark)
        mark = fake_telegram.mark()
        fake_telegram.inject_message(person, "300")
        offer = reply_to(fake_telegram, person, since=mark)
        mark = fake_telegram.mark()
        fake_telegram.inject_callback_query(person, next(b for b in buttons(offer) if b["text"] == "Buy 300 ⭐")["callback_data"])
        invoice = fake_telegram.wait_for_call("sendInvoice", lambda p: p["chat_id"] == person["id"], since=mark)
    assert "buy 300 Stars" in offer["text"]
    assert invoice["currency"] == "XTR" and invoice["prices"][0]["amount"] == 300


def test_a_long_search_is_cut_to_whole_words_that_fit_a_button(bot_app, fake_telegram):
    person = fake_telegram.user("Пётр", language_code="ru")
    with run_bot(bot_app):
        fake_telegram.inject_message(person, "старинный бронзовый подсвечник ручной работы")
        offer = reply_to(fake_telegram, person)
    data = next(b["callback_data"] for b in buttons(offer) if b.get("callback_data", "").startswith("search:"))
    assert len(data.encode()) <= 64 and data == "search:старинный бронзовый"


def test_a_suspended_person_writing_plain_text_is_told_so(bot_app, fake_telegram, make_user):
    person = fake_telegram.user("Sid", language_code="ru")
    make_user("Sid", telegram_id=person["id"], is_suspended=True, language_code="ru")
    with run_bot(bot_app):
        fake_telegram.inject_message(person, "golden dragon")
        reply = reply_to(fake_telegram, person)
    assert "заблокирован" in reply["text"]
    assert "reply_markup" not in reply or not any(b.get("callback_data", "").startswith("search:") for b in buttons(reply))

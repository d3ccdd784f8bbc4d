"""Bidding from the bot's auction card, through the fake Bot API over real HTTP (python-telegram-bot unpatched)."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from auction.extensions import db
from auction.models import Bid, User
from auction.services import bidding, watchlist
from tests.conftest import page
from tests.support.bidding_helpers import balances, end_now, give_stars, new_auction
from tests.support.fake_telegram import bot_config, run_bot
from tests.support.invariants import assert_ledger_clean

SITE = "https://auction.example"


@pytest.fixture
def bot_app(make_app, fake_telegram):
    return make_app(**bot_config(fake_telegram, BASE_URL=SITE))


@pytest.fixture
def seller(bot_app, make_user):
    return make_user("Seller")


def to(user):
    return lambda p: str(p.get("chat_id")) == str(user["id"])


def said(fake, user, since, contains=None, method="sendMessage"):
    """The bot's first `method` call to the user after `since` (containing `contains`)."""
    return fake.wait_for_call(
        method,
        lambda p: to(user)(p) and (contains is None or contains in (p.get("text") or p.get("caption") or "")),
        since=since,
    )


def buttons(params):
    return [button for row in params["reply_markup"]["inline_keyboard"] for button in row]


def labels(params):
    return [button["text"] for button in buttons(params)]


def open_card(fake, user, auction_id, method="sendPhoto"):
    mark = fake.mark()
    fake.inject_message(user, f"/start auction_{auction_id}")
    card = fake.wait_for_call(method, to(user), since=mark)
    # The fake logs a call just before it stores the message; presses go under the stored one.
    deadline = time.monotonic() + 5
    while (fake.last_message(user["id"]) or {}).get("reply_markup") != card.get("reply_markup"):
        assert time.monotonic() < deadline, "the card was never stored"
        time.sleep(0.01)
    return card


def press(fake, user, data):
    """Press a button under the bot's last message to the user; returns (answerCallbackQuery, mark)."""
    mark = fake.mark()
    query = fake.inject_callback_query(user, data)["callback_query"]
    answer = fake.wait_for_call("answerCallbackQuery", lambda p: p["callback_query_id"] == query["id"], since=mark)
    return answer, mark


def send(fake, user, text):
    mark = fake.mark()
    fake.inject_message(user, text)
    return mark


def user_id_of(app, telegram_id):
    with app.app_context():
        return db.session.scalar(select(User.id).where(User.telegram_id == telegram_id))


def bids_on(app, auction_id):
    with app.app_context():
        rows = db.session.execute(
            select(Bid.bidder_id, Bid.amount, Bid.max_amount, Bid.source).where(Bid.auction_id == auction_id).order_by(Bid.id)
        ).all()
        return [tuple(row) for row in rows]


def web_price(app, auction_id):
    response = app.test_client().get(f"/auctions/{auction_id}")
    assert response.status_code == 200
    html = page(response)
    return html.select_one(f"#auction-{auction_id}-price [data-price]").get_text(strip=True), html


def test_card_shows_quick_bids_from_the_increment_table(bot_app, fake_telegram, seller):
    auction_id = new_auction(bot_app, seller, title="Chess set in oak", start_price=150, listed=True)
    chen = fake_telegram.user("Chen", language_code="en")
    with run_bot(bot_app):
        card = open_card(fake_telegram, chen, auction_id)
    assert card["photo"]["filename"].endswith("-large.webp")
    assert card["caption"].startswith("<b>Chess set in oak</b>\nCurrent price: 150 ⭐\nMinimum bid: 150 ⭐\nEnds in 1 hour")
    # 150 is in the 100-499 band: five increments of 5 make 175.
    assert buttons(card) == [
        {"text": "Bid 150 ⭐", "callback_data": f"bid:{auction_id}:150"},
        {"text": "Bid 175 ⭐", "callback_data": f"bid:{auction_id}:175"},
        {"text": "Other amount", "callback_data": f"bidask:{auction_id}"},
        {"text": "Watch", "callback_data": f"watch:{auction_id}"},
        {"text": "Open on the site", "url": f"{SITE}/auctions/{auction_id}"},
    ]


def test_quick_bids_cross_an_increment_band_and_speak_russian(bot_app, fake_telegram, seller):
    auction_id = new_auction(bot_app, seller, title="Самовар", start_price=95)
    boris = fake_telegram.user("Борис", language_code="ru")
    with run_bot(bot_app):
        card = open_card(fake_telegram, boris, auction_id, method="sendMessage")
    # 95 -> 96 ... 99 -> 100 (step 1 each), the fifth step is still taken at 99: 100.
    assert labels(card) == ["Ставка 95 ⭐", "Ставка 100 ⭐", "Другая сумма", "Следить", "Открыть на сайте"]
    assert "Текущая цена: 95 ⭐" in card["text"]


def test_pressing_bid_places_it_and_the_site_shows_the_new_price(bot_app, fake_telegram, seller, make_user):
    auction_id = new_auction(bot_app, seller, start_price=150, listed=True)
    anna = make_user("Anna")
    give_stars(bot_app, anna, 1000)
    with bot_app.app_context():
        bidding.place_bid(auction_id, anna, 150)  # Anna leads at 150 on the site; next minimum 155
    chen = fake_telegram.user("Chen", language_code="en")
    with run_bot(bot_app):
        card = open_card(fake_telegram, chen, auction_id)
        assert labels(card)[:2] == ["Bid 155 ⭐", "Bid 180 ⭐"]
        give_stars(bot_app, user_id_of(bot_app, chen["id"]), 500)

        answer, mark = press(fake_telegram, chen, f"bid:{auction_id}:155")
        reply = said(fake_telegram, chen, mark)
        redrawn = fake_telegram.wait_for_call("editMessageCaption", to(chen), since=mark)
    assert answer["text"] == "You are the highest bidder."
    assert reply["text"] == "<b>Brass telescope</b>\nYou are the highest bidder at 155 ⭐."
    assert "Current price: 155 ⭐" in redrawn["caption"]
    assert "You are the highest bidder; your maximum is 155 ⭐." in redrawn["caption"]
    assert labels(redrawn)[:2] == ["Bid 156 ⭐", "Bid 181 ⭐"]  # only raising their own maximum is left

    chen_id = user_id_of(bot_app, chen["id"])
    assert bids_on(bot_app, auction_id)[-1] == (chen_id, 155, 155, "bot")
    assert balances(bot_app, chen_id) == (345, 155)
    assert balances(bot_app, anna) == (1000, 0)  # outbid: her hold went back at once
    price, html = web_price(bot_app, auction_id)
    assert price == "155 ⭐"
    assert "2 bids" in html.select_one(f"#auction-{auction_id}-price").get_text(" ", strip=True)
    assert_ledger_clean(bot_app)


def test_a_bid_outbid_at_once_by_a_proxy_says_so(bot_app, fake_telegram, seller, make_user):
    auction_id = new_auction(bot_app, seller, start_price=10)
    anna = make_user("Anna")
    give_stars(bot_app, anna, 1000)
    with bot_app.app_context():
        bidding.place_bid(auction_id, anna, 50)  # a maximum of 50, price 10
    chen = fake_telegram.user("Chen", language_code="en")
    with run_bot(bot_app):
        open_card(fake_telegram, chen, auction_id, method="sendMessage")
        give_stars(bot_app, user_id_of(bot_app, chen["id"]), 100)
        answer, mark = press(fake_telegram, chen, f"bid:{auction_id}:11")
        reply = said(fake_telegram, chen, mark)
    assert answer["text"] == "Outbid: the price is now 12 ⭐."
    assert reply["text"].endswith("Another bidder's maximum is higher: the price is now 12 ⭐. Bid at least 13 ⭐ to lead.")
    assert web_price(bot_app, auction_id)[0] == "12 ⭐"


def test_a_stale_button_is_refused_and_the_card_redrawn(bot_app, fake_telegram, seller, make_user):
    auction_id = new_auction(bot_app, seller, start_price=150, listed=True)
    boris = fake_telegram.user("Борис", language_code="ru")
    with run_bot(bot_app):
        open_card(fake_telegram, boris, auction_id)
        give_stars(bot_app, user_id_of(bot_app, boris["id"]), 500)
        other = _other_bidder(bot_app)
        with bot_app.app_context():
            bidding.place_bid(auction_id, other, 200)  # the price stays 150, the minimum moves to 155
        answer, mark = press(fake_telegram, boris, f"bid:{auction_id}:150")
        redrawn = fake_telegram.wait_for_call("editMessageCaption", to(boris), since=mark)
    assert answer["text"] == "Слишком мало: минимум теперь 155 ⭐."
    assert answer["show_alert"] is True
    assert labels(redrawn)[:2] == ["Ставка 155 ⭐", "Ставка 180 ⭐"]
    assert [row[0] for row in bids_on(bot_app, auction_id)] == [other]


def _other_bidder(app):
    from auction.services.users import TelegramProfile, upsert_telegram_user

    with app.app_context():
        user_id = upsert_telegram_user(TelegramProfile(telegram_id=880_000_001, first_name="Olga")).id
    give_stars(app, user_id, 1000)
    return user_id


def test_other_amount_takes_the_next_number_and_refuses_words_and_low_numbers(bot_app, fake_telegram, seller):
    auction_id = new_auction(bot_app, seller, start_price=150, listed=True)
    chen = fake_telegram.user("Chen", language_code="en")
    with run_bot(bot_app):
        open_card(fake_telegram, chen, auction_id)
        chen_id = user_id_of(bot_app, chen["id"])
        give_stars(bot_app, chen_id, 1000)

        answer, mark = press(fake_telegram, chen, f"bidask:{auction_id}")
        question = said(fake_telegram, chen, mark)
        assert question["text"] == (
            "How many Stars at most will you bid on “Brass telescope”? Send a whole number, at least 150 ⭐, or /cancel."
        )

        mark = send(fake_telegram, chen, "a lot")
        assert said(fake_telegram, chen, mark)["text"] == (
            "That is not a number of Stars. Send a whole number, at least 150 ⭐, or /cancel."
        )
        mark = send(fake_telegram, chen, "20")
        low = said(fake_telegram, chen, mark)
        assert low["text"] == "Too low: the minimum is now 150 ⭐.\nSend another amount, or /cancel."
        assert labels(low) == ["Bid 150 ⭐", "Bid 175 ⭐"]

        mark = send(fake_telegram, chen, "1 000 ⭐")
        placed = said(fake_telegram, chen, mark)
        assert placed["text"] == (
            "<b>Brass telescope</b>\nYou are the highest bidder at 150 ⭐, with your maximum of 1,000 ⭐. "
            "We bid for you only as much as needed."
        )
        redrawn = fake_telegram.wait_for_call("editMessageCaption", to(chen), since=mark)
        assert "your maximum is 1,000 ⭐" in redrawn["caption"]

        # The question is answered: the next number is just a message again (the free-text answer, no bid).
        mark = send(fake_telegram, chen, "2000")
        assert "Do you want to buy 2,000 Stars?" in said(fake_telegram, chen, mark)["text"]
        mark = send(fake_telegram, chen, "/cancel")
        assert said(fake_telegram, chen, mark)["text"] == "There is nothing to cancel."
    assert bids_on(bot_app, auction_id) == [(chen_id, 150, 1000, "bot")]
    assert balances(bot_app, chen_id) == (0, 1000)


def test_cancel_or_another_command_ends_the_question(bot_app, fake_telegram, seller):
    auction_id = new_auction(bot_app, seller, start_price=150, listed=True)
    chen = fake_telegram.user("Chen", language_code="en")
    with run_bot(bot_app):
        open_card(fake_telegram, chen, auction_id)
        give_stars(bot_app, user_id_of(bot_app, chen["id"]), 1000)

        _, mark = press(fake_telegram, chen, f"bidask:{auction_id}")
        said(fake_telegram, chen, mark)
        mark = send(fake_telegram, chen, "/cancel")
        assert said(fake_telegram, chen, mark)["text"] == "Cancelled. No bid was placed."
        mark = send(fake_telegram, chen, "300")

        _, mark = press(fake_telegram, chen, f"bidask:{auction_id}")
        said(fake_telegram, chen, mark, contains="How many Stars")
        mark = send(fake_telegram, chen, "/status")
        said(fake_telegram, chen, mark, contains="Your account")
        send(fake_telegram, chen, "300")
        time.sleep(0.5)  # time for a bid that must not happen
        mark = send(fake_telegram, chen, "/cancel")
        assert said(fake_telegram, chen, mark)["text"] == "There is nothing to cancel."
    assert bids_on(bot_app, auction_id) == []


def test_not_enough_stars_offers_to_buy_some(bot_app, fake_telegram, seller):
    auction_id = new_auction(bot_app, seller, start_price=150, listed=True)
    chen = fake_telegram.user("Chen", language_code="en")
    with run_bot(bot_app):
        open_card(fake_telegram, chen, auction_id)
        give_stars(bot_app, user_id_of(bot_app, chen["id"]), 40)
        answer, mark = press(fake_telegram, chen, f"bid:{auction_id}:150")
        reply = said(fake_telegram, chen, mark)
        assert answer["text"] == "Not enough Stars."
        assert reply["text"] == (
            "Not enough Stars: you need 110 more (available: 40). Buy Stars to continue.\n"
            "Send /buy_stars or press the button to buy Stars."
        )
        assert buttons(reply) == [{"text": "Buy Stars", "callback_data": "buy_stars:"}]

        _, mark = press(fake_telegram, chen, "buy_stars:")
        packages = said(fake_telegram, chen, mark, contains="How many Stars would you like to buy?")
    assert "100 ⭐" in labels(packages)
    assert bids_on(bot_app, auction_id) == []


def test_watch_and_unwatch_toggle_the_button_and_the_count_on_the_site(bot_app, fake_telegram, seller):
    auction_id = new_auction(bot_app, seller, start_price=150, listed=True)
    chen = fake_telegram.user("Chen", language_code="en")
    with run_bot(bot_app):
        open_card(fake_telegram, chen, auction_id)
        answer, mark = press(fake_telegram, chen, f"watch:{auction_id}")
        watching = fake_telegram.wait_for_call("editMessageCaption", to(chen), since=mark)
        assert answer["text"] == "Added to your watchlist."
        assert {"text": "Unwatch", "callback_data": f"unwatch:{auction_id}"} in buttons(watching)
        assert "1 person is watching" in web_price(bot_app, auction_id)[1].select_one(".watchers").get_text()

        mark = send(fake_telegram, chen, "/watchlist")
        listed = said(fake_telegram, chen, mark)
        assert listed["text"] == "Auctions you watch:\n• Brass telescope — 150 ⭐ · Ends in 1 hour"
        assert buttons(listed) == [{"text": "Brass telescope · 150 ⭐", "callback_data": f"card:{auction_id}"}]
        _, mark = press(fake_telegram, chen, f"card:{auction_id}")
        card = said(fake_telegram, chen, mark, method="sendPhoto")
        assert {"text": "Unwatch", "callback_data": f"unwatch:{auction_id}"} in buttons(card)
        while fake_telegram.last_message(chen["id"]).get("reply_markup") != card["reply_markup"]:
            time.sleep(0.01)  # the fake stores the card just after logging the call

        answer, mark = press(fake_telegram, chen, f"unwatch:{auction_id}")
        unwatched = fake_telegram.wait_for_call("editMessageCaption", to(chen), since=mark)
        assert answer["text"] == "Removed from your watchlist."
        assert {"text": "Watch", "callback_data": f"watch:{auction_id}"} in buttons(unwatched)
        mark = send(fake_telegram, chen, "/watchlist")
        assert said(fake_telegram, chen, mark)["text"] == (
            "You watch no auctions yet. Press “Watch” on an auction card to follow it here."
        )
    assert {"command": "watchlist", "description": "Auctions you watch"} in fake_telegram.commands["en"]
    assert {"command": "watchlist", "description": "Аукционы, за которыми вы следите"} in fake_telegram.commands["ru"]
    with bot_app.app_context():
        assert watchlist.watchers_count(auction_id) == 0


def test_a_first_contact_through_a_card_button_registers_the_user(bot_app, fake_telegram, seller):
    auction_id = new_auction(bot_app, seller, start_price=10)
    dana = fake_telegram.user("Dana", language_code="en", username="dana")
    card = {  # a card this chat got before the person ever wrote to the bot (e.g. the bot was re-created)
        "message_id": 424242, "date": int(time.time()), "chat": {"id": dana["id"], "type": "private"},
        "from": fake_telegram.bot, "text": "Vintage camera",
    }
    with run_bot(bot_app):
        mark = fake_telegram.mark()
        fake_telegram.inject_callback_query(dana, f"watch:{auction_id}", message=card)
        answer = fake_telegram.wait_for_call("answerCallbackQuery", since=mark)
        mark = fake_telegram.mark()
        fake_telegram.inject_callback_query(dana, f"bid:{auction_id}:10", message=card)
        reply = said(fake_telegram, dana, mark)
    assert answer["text"] == "Added to your watchlist."
    assert reply["text"].startswith("Not enough Stars")  # a new account has none, but it exists now
    dana_id = user_id_of(bot_app, dana["id"])
    assert dana_id is not None
    with bot_app.app_context():
        assert watchlist.is_watching(dana_id, auction_id)


def test_closed_own_and_invalid_presses_are_answered(bot_app, fake_telegram, seller, make_user):
    auction_id = new_auction(bot_app, seller, start_price=10)
    owner = fake_telegram.user("Owner", language_code="en")
    with bot_app.app_context():
        db.session.get(User, seller).telegram_id = owner["id"]
        db.session.commit()
    chen = fake_telegram.user("Chen", language_code="en")
    with run_bot(bot_app):
        own_card = open_card(fake_telegram, owner, auction_id, method="sendMessage")
        assert "This is your auction." in own_card["text"]
        assert labels(own_card) == ["Open on the site"]
        answer, mark = press(fake_telegram, owner, f"bid:{auction_id}:10")
        assert answer["text"] == "You cannot bid on your own auction."
        assert said(fake_telegram, owner, mark)["text"] == "You cannot bid on your own auction."

        open_card(fake_telegram, chen, auction_id, method="sendMessage")
        answer, _ = press(fake_telegram, chen, f"bid:{auction_id}:x")
        assert answer["text"] == "This button is no longer valid. Open the auction again."

        end_now(bot_app, auction_id)
        answer, mark = press(fake_telegram, chen, f"bid:{auction_id}:10")
        redrawn = fake_telegram.wait_for_call("editMessageText", to(chen), since=mark)
        assert answer["text"] == "This auction is closed; no more bids are accepted."
        assert "This auction has ended." in redrawn["text"]
        assert labels(redrawn) == ["Open on the site"]
        answer, _ = press(fake_telegram, chen, f"bidask:{auction_id}")
        assert answer["text"] == "This auction is closed; no more bids are accepted."
    assert bids_on(bot_app, auction_id) == []


def test_a_local_site_address_goes_into_the_card_text(make_app, fake_telegram, make_user):
    app = make_app(**bot_config(fake_telegram, BASE_URL="http://127.0.0.1:8000"))
    seller_id = make_user("Seller")
    auction_id = new_auction(app, seller_id, start_price=10)
    chen = fake_telegram.user("Chen", language_code="en")
    with run_bot(app):
        card = open_card(fake_telegram, chen, auction_id, method="sendMessage")
    assert card["text"].endswith(f"Open on the site: http://127.0.0.1:8000/auctions/{auction_id}")
    assert labels(card) == ["Bid 10 ⭐", "Bid 15 ⭐", "Other amount", "Watch"]


def test_a_bid_from_the_bot_reaches_an_open_page_live(bot_app, fake_telegram, seller):
    import httpx
    from bs4 import BeautifulSoup

    from tests.live.test_live_stream import SSEClient
    from tests.support.servers import run_server

    auction_id = new_auction(bot_app, seller, title="Pocket watch", start_price=10)
    chen = fake_telegram.user("Chen", language_code="en")
    with run_server(bot_app) as base_url, httpx.Client(base_url=base_url, timeout=10) as visitor:
        html = BeautifulSoup(visitor.get(f"/auctions/{auction_id}").text, "html.parser")
        with SSEClient(base_url + html.select_one("[sse-connect]")["sse-connect"]) as stream:
            open_card(fake_telegram, chen, auction_id, method="sendMessage")
            give_stars(bot_app, user_id_of(bot_app, chen["id"]), 100)
            press(fake_telegram, chen, f"bid:{auction_id}:15")
            seen: dict[str, str] = {}
            while f"auction-{auction_id}-price" not in seen:
                message = stream.next(timeout=2)
                assert message is not None, "the stream ended"
                seen[message["event"]] = message["data"]
    price = BeautifulSoup(seen[f"auction-{auction_id}-price"], "html.parser")
    assert price.select_one("[data-price]").get_text(strip=True) == "10 ⭐"
    assert "1 bid" in price.get_text(" ", strip=True)


def test_sealed_bids_from_the_bot_and_a_dutch_card_without_bid_buttons(bot_app, fake_telegram, seller):
    sealed = new_auction(bot_app, seller, title="Sealed lot", kind="sealed_second", start_price=100)
    dutch = new_auction(bot_app, seller, title="Dutch lot", kind="dutch", start_price=20,
                        dutch_floor=5, dutch_step=1, dutch_interval_seconds=3600)
    chen = fake_telegram.user("Chen", language_code="en")
    with run_bot(bot_app):
        card = open_card(fake_telegram, chen, sealed, method="sendMessage")
        assert labels(card)[:2] == ["Bid 100 ⭐", "Bid 125 ⭐"]
        give_stars(bot_app, user_id_of(bot_app, chen["id"]), 500)
        answer, mark = press(fake_telegram, chen, f"bid:{sealed}:125")
        reply = said(fake_telegram, chen, mark)
        redrawn = fake_telegram.wait_for_call("editMessageText", to(chen), since=mark)
        assert answer["text"] == "Sealed bid placed."
        assert reply["text"] == "<b>Sealed lot</b>\nYour sealed bid of 125 ⭐ is in. Amounts stay hidden until the end."
        assert "Your sealed bid: 125 ⭐." in redrawn["text"]
        assert labels(redrawn)[:2] == ["Bid 126 ⭐", "Bid 151 ⭐"]  # a sealed bid can only go up

        dutch_card = open_card(fake_telegram, chen, dutch, method="sendMessage")
    assert "Price now: 20 ⭐" in dutch_card["text"]
    assert "A Dutch auction is bought on the site at the price of the moment." in dutch_card["text"]
    assert labels(dutch_card) == ["Watch", "Open on the site"]


def test_a_press_answered_too_late_still_places_and_reports_the_bid(bot_app, fake_telegram, seller):
    auction_id = new_auction(bot_app, seller, start_price=10)
    chen = fake_telegram.user("Chen", language_code="en")
    with run_bot(bot_app):
        open_card(fake_telegram, chen, auction_id, method="sendMessage")
        give_stars(bot_app, user_id_of(bot_app, chen["id"]), 100)
        fake_telegram.fail_next("answerCallbackQuery", 400, description="Bad Request: query is too old and response timeout expired")
        mark = fake_telegram.mark()
        fake_telegram.inject_callback_query(chen, f"bid:{auction_id}:10")
        reply = said(fake_telegram, chen, mark)
    assert reply["text"].endswith("You are the highest bidder at 10 ⭐.")
    assert [call.error_code for call in fake_telegram.attempts("answerCallbackQuery")] == [400]


def test_the_auction_page_links_to_its_card_in_the_bot(bot_app, make_app, fake_telegram, seller):
    auction_id = new_auction(bot_app, seller, title="Pocket watch", start_price=10)
    link = page(bot_app.test_client().get(f"/auctions/{auction_id}")).find("a", href=lambda h: h and "?start=" in h)
    assert link["href"] == f"https://t.me/bot_auction_test_bot?start=auction_{auction_id}"
    chen = fake_telegram.user("Chen", language_code="en")
    with run_bot(bot_app):
        card = open_card(fake_telegram, chen, auction_id, method="sendMessage")
    assert card["text"].startswith("<b>Pocket watch</b>")

    no_bot = make_app(TELEGRAM_BOT_USERNAME="")
    html = page(no_bot.test_client().get(f"/auctions/{auction_id}"))
    assert html.find("a", href=lambda h: h and "?start=" in h) is None

"""Rate limits (issue 10 item 3): sign-in, bids, listings, invoices per person or address; the bot
through the same budgets per Telegram user; a translated 429 with Retry-After, a fragment for htmx."""

from __future__ import annotations

import pytest

from tests.conftest import csrf_token, page, sign_in
from tests.support.bidding_helpers import give_stars, new_auction
from tests.support.fake_telegram import bot_config, run_bot


@pytest.fixture
def limited_app(make_app):
    return make_app(
        RATELIMIT_ENABLED=True,
        RATE_LIMIT_SIGN_IN="3 per minute",
        RATE_LIMIT_BIDS="2 per minute",
        RATE_LIMIT_LISTINGS="1 per minute",
        RATE_LIMIT_INVOICES="1 per minute",
        RATE_LIMIT_SUPPORT="2 per minute",
    )


def test_sign_in_attempts_are_limited_per_address(limited_app):
    client = limited_app.test_client()
    statuses = [client.get("/login/telegram?id=1&hash=forged").status_code for _ in range(4)]
    assert statuses == [403, 403, 403, 429]
    refused = client.get("/login/telegram?id=2&hash=forged", headers={"Accept-Language": "ru"})
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    assert "Слишком много запросов" in refused.get_data(as_text=True)
    other = limited_app.test_client()
    assert other.get("/login/telegram?id=1&hash=forged", environ_base={"REMOTE_ADDR": "10.0.0.9"}).status_code == 403


def test_bids_are_limited_per_person_and_htmx_gets_the_message_in_place(limited_app, make_user):
    seller, bidder = make_user("Seller"), make_user("Bidder")
    give_stars(limited_app, bidder, 1000)
    auction_id = new_auction(limited_app, seller)
    client = limited_app.test_client()
    sign_in(client, bidder)
    token = csrf_token(client, f"/auctions/{auction_id}")
    headers = {"X-CSRFToken": token, "HX-Request": "true"}
    answers = [client.post(f"/auctions/{auction_id}/bids", data={"amount": str(20 + n * 10)}, headers=headers) for n in range(3)]
    assert [a.status_code for a in answers[:2]] != [429, 429], [a.get_data(as_text=True)[:300] for a in answers]
    assert answers[2].status_code == 429, [(a.status_code, a.headers.get("X-RateLimit-Remaining")) for a in answers]
    assert answers[2].headers["Retry-After"]
    fragment = page(answers[2])
    assert fragment.select_one("[role=alert]").get_text(strip=True).startswith("You are doing that too often")
    assert fragment.html is None  # a fragment, not a whole page
    # Another person has a budget of their own.
    other = limited_app.test_client()
    sign_in(other, make_user("Other"))
    assert other.post(f"/auctions/{auction_id}/bids", data={"amount": "500"}, headers={"X-CSRFToken": csrf_token(other, "/")}).status_code != 429


@pytest.mark.parametrize("action", ["buy-now", "accept"])
def test_every_press_that_buys_draws_on_the_bid_budget(limited_app, make_user, action):
    """Buying at once (buy it now, a Dutch accept) moves Stars like a bid: the same budget per person."""
    seller, buyer = make_user("Seller"), make_user("Buyer")
    auction_id = new_auction(limited_app, seller)  # refused as an English auction's accept: the budget still counts
    client = limited_app.test_client()
    sign_in(client, buyer)
    token = csrf_token(client, f"/auctions/{auction_id}")
    statuses = [client.post(f"/auctions/{auction_id}/{action}", headers={"X-CSRFToken": token}).status_code for _ in range(3)]
    assert statuses[:2] != [429, 429] and statuses[2] == 429, statuses


def test_invoices_and_listings_are_limited_per_person(limited_app, make_user):
    client = limited_app.test_client()
    sign_in(client, make_user("Seller"))
    token = csrf_token(client, "/wallet")
    assert client.post("/wallet/buy", data={"amount": "50"}, headers={"X-CSRFToken": token}).status_code != 429
    assert client.post("/wallet/buy", data={"amount": "50"}, headers={"X-CSRFToken": token}).status_code == 429
    assert client.post("/auctions/new", data={"title": "x"}, headers={"X-CSRFToken": token}).status_code != 429
    assert client.post("/auctions/new", data={"title": "x"}, headers={"X-CSRFToken": token}).status_code == 429


def test_support_messages_are_limited_per_person(limited_app, make_user):
    client = limited_app.test_client()
    sign_in(client, make_user("Asker"))
    token = csrf_token(client, "/support")
    send = {"subject": "Where are my Stars?", "body": "I bought 50 Stars and see none."}
    opened = client.post("/support", data=send, headers={"X-CSRFToken": token})
    assert opened.status_code == 302
    ticket = opened.headers["Location"]
    assert client.post(ticket, data={"body": "Any news?"}, headers={"X-CSRFToken": token}).status_code == 302
    refused = client.post(ticket, data={"body": "Hello?"}, headers={"X-CSRFToken": token})
    assert refused.status_code == 429 and "You are doing that too often" in refused.get_data(as_text=True)
    other = limited_app.test_client()
    sign_in(other, make_user("Other"))
    assert other.post("/support", data=send, headers={"X-CSRFToken": csrf_token(other, "/support")}).status_code == 302


def test_the_bot_holds_back_a_flood_politely(make_app, fake_telegram):
    app = make_app(**bot_config(fake_telegram), RATELIMIT_ENABLED=True, RATE_LIMIT_BOT="2 per minute")
    boris = fake_telegram.user("Борис", language_code="ru")
    with run_bot(app):
        for _ in range(2):
            mark = len(fake_telegram.calls())
            fake_telegram.inject_message(boris, "/start")
            fake_telegram.wait_for_call("sendMessage", lambda p: p["chat_id"] == boris["id"], since=mark)
        mark = len(fake_telegram.calls())
        fake_telegram.inject_message(boris, "/start")
        refusal = fake_telegram.wait_for_call("sendMessage", lambda p: p["chat_id"] == boris["id"], since=mark)
    assert refusal["text"].startswith("Вы делаете это слишком часто")
    assert "Добро пожаловать" not in refusal["text"]

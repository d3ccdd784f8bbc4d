"""The auction page as a user sees it: price, bid form with inline errors, history, buy now."""

from __future__ import annotations

import pytest

from auction.extensions import db
from auction.services import bidding, lifecycle
from tests.conftest import csrf_token, page, sign_in
from tests.support.bidding_helpers import balances, give_stars, new_auction
from tests.support.invariants import assert_ledger_clean

HX = {"HX-Request": "true"}


@pytest.fixture
def seller(make_user):
    return make_user("Sam", last_name="Seller")


def bid(client, auction_id, htmx=True, **fields):
    token = csrf_token(client, f"/auctions/{auction_id}")
    headers = {**HX, "X-CSRFToken": token} if htmx else {}
    data = fields if htmx else {**fields, "csrf_token": token}
    return client.post(f"/auctions/{auction_id}/bids", data=data, headers=headers)


def price_text(response) -> str:
    return page(response).select_one("[data-price]").get_text(strip=True)


def test_visitor_sees_price_reserve_and_a_sign_in_button(app, client, seller):
    auction_id = new_auction(app, seller, reserve_price=500, title="Brass telescope")
    response = client.get(f"/auctions/{auction_id}")
    assert response.status_code == 200
    doc = page(response)
    assert doc.h1.get_text(strip=True) == "Brass telescope"
    assert "10" in price_text(response)
    assert "Reserve not met" in doc.get_text()
    assert doc.find("a", string="Sign in to bid")
    assert "No bids yet" in doc.get_text()
    assert client.get("/auctions/999999").status_code == 404


def test_bid_accepted_shows_the_new_price(app, user_client, seller, make_user):
    auction_id = new_auction(app, seller)
    give_stars(app, user_client.user_id, 500)
    response = bid(user_client, auction_id, amount="25")
    assert response.status_code == 200
    doc = page(response)
    assert "you are the highest bidder" in doc.get_text()
    # The htmx answer also refreshes the price panel and history out of band.
    assert "10" in doc.select_one("[data-price]").get_text()
    assert "11" in doc.select_one("[data-min-next]").get_text()

    rival = make_user("Bob")
    give_stars(app, rival, 500)
    with app.app_context():
        bidding.place_bid(auction_id, rival, 15)  # outbid at once by the 25 maximum
        db.session.remove()
    doc = page(user_client.get(f"/auctions/{auction_id}"))
    assert "16" in doc.select_one("[data-price]").get_text()
    rows = doc.select(".bid-history .bid-row")
    assert [r.select_one(".bidder").contents[0].strip() for r in rows] == ["A***e", "B***b", "A***e"]
    assert len(doc.select(".bid-row.mine")) == 2 and doc.select_one(".bid-row.mine .you")
    assert balances(app, user_client.user_id) == (475, 25)


def test_plain_form_bid_redirects_back_with_the_new_price(app, user_client, seller):
    auction_id = new_auction(app, seller)
    give_stars(app, user_client.user_id, 500)
    response = bid(user_client, auction_id, htmx=False, amount="12")
    assert response.status_code == 303
    response = user_client.get(response.headers["Location"])
    assert "you are the highest bidder" in page(response).get_text()


def test_too_low_shows_an_inline_translated_error_and_changes_nothing(app, user_client, seller, make_user):
    auction_id = new_auction(app, seller, start_price=100)
    give_stars(app, user_client.user_id, 500)
    response = bid(user_client, auction_id, amount="50")
    error = page(response).select_one("#bid-error")
    assert error is not None and "at least 100" in error.get_text()
    assert page(response).select_one("#bid-amount")["aria-invalid"] == "true"

    with app.app_context():
        from auction.models import User
        db.session.get(User, user_client.user_id).locale = "ru"
        db.session.commit()
    response = bid(user_client, auction_id, htmx=False, amount="50")
    assert response.status_code == 422
    assert "100" in page(response).select_one("#bid-error").get_text()
    assert "Your bid must be" not in page(response).select_one("#bid-error").get_text()

    doc = page(user_client.get(f"/auctions/{auction_id}"))
    assert "100" in doc.select_one("[data-price]").get_text() and not doc.select(".bid-row")
    assert balances(app, user_client.user_id) == (500, 0)


def test_not_enough_stars_links_to_the_wallet(app, user_client, seller):
    auction_id = new_auction(app, seller)
    give_stars(app, user_client.user_id, 5)
    response = bid(user_client, auction_id, amount="40")
    error = page(response).select_one("#bid-error")
    assert "Not enough Stars" in error.get_text()
    assert error.find("a", href="/wallet")
    assert balances(app, user_client.user_id) == (5, 0)
    assert_ledger_clean(app)


def test_own_auction_is_refused(app, client, seller):
    auction_id = new_auction(app, seller)
    give_stars(app, seller, 500)
    sign_in(client, seller)
    doc = page(client.get(f"/auctions/{auction_id}"))
    assert "This is your auction" in doc.get_text() and not doc.select_one("#bid-form")
    response = bid(client, auction_id, htmx=False, amount="50")
    assert "cannot bid on your own auction" in page(response).get_text()


def test_sealed_amounts_are_hidden_from_others(app, user_client, seller, make_user):
    auction_id = new_auction(app, seller, kind="sealed_second", start_price=20)
    rival = make_user("Bob")
    for user in (user_client.user_id, rival):
        give_stars(app, user, 500)
    bid(user_client, auction_id, amount="70")
    with app.app_context():
        bidding.place_bid(auction_id, rival, 90)
        db.session.remove()
    text = page(user_client.get(f"/auctions/{auction_id}")).get_text()
    assert "2 sealed bids" in text and "90" not in text and "70" in text


def test_buy_now_ends_the_auction(app, user_client, seller):
    auction_id = new_auction(app, seller, buy_now_price=300)
    give_stars(app, user_client.user_id, 500)
    token = csrf_token(user_client, f"/auctions/{auction_id}")
    response = user_client.post(f"/auctions/{auction_id}/buy-now", data={"csrf_token": token}, follow_redirects=True)
    text = page(response).get_text()
    assert "You bought it for 300 Stars" in text and "Sold for" in text
    assert balances(app, user_client.user_id) == (200, 0)
    assert_ledger_clean(app)


def test_sealed_bids_are_revealed_after_the_end_and_cards_link_to_the_page(app, client, seller, make_user):
    from tests.support.bidding_helpers import end_now

    auction_id = new_auction(app, seller, kind="sealed_first", start_price=20, title="Tea set")
    anna, boris = make_user("Anna"), make_user("Boris")
    for user, amount in ((anna, 70), (boris, 90)):
        give_stars(app, user, 500)
        with app.app_context():
            bidding.place_bid(auction_id, user, amount)
            db.session.remove()
    end_now(app, auction_id)
    with app.app_context():
        lifecycle.close_auction(auction_id)
        db.session.remove()
    doc = page(client.get(f"/auctions/{auction_id}"))
    assert [r.select_one(".bid-amount").get_text(strip=True) for r in doc.select(".bid-row")] == ["90 ⭐", "70 ⭐"]
    assert "Sold for" in doc.get_text() and "Winner: B***s" in doc.get_text()

    live = new_auction(app, seller, title="Copper kettle")
    card = page(client.get("/")).find("a", string="Copper kettle")
    assert card["href"] == f"/auctions/{live}"


def test_dutch_page_offers_the_current_price(app, user_client, seller):
    from datetime import timedelta

    from auction.models import utcnow

    auction_id = new_auction(
        app, seller, kind="dutch", start_price=500, dutch_floor=100, dutch_step=50, dutch_interval_seconds=60,
        starts_at=utcnow() - timedelta(seconds=70),
    )
    give_stars(app, user_client.user_id, 1_000)
    doc = page(user_client.get(f"/auctions/{auction_id}"))
    assert "450" in doc.select_one("[data-price]").get_text() and "50 ⭐ every 1 min, down to 100 ⭐" in doc.select_one(".dutch-terms").get_text()
    # The button asks first (a page of its own without JavaScript): nothing is bought by looking.
    link = doc.find("a", string="Buy at the current price")
    confirm = page(user_client.get(link["href"]))
    assert "Buy «" in confirm.select_one("#confirm-title").get_text() and "450 ⭐" in confirm.select_one("#confirm-title").get_text()
    assert confirm.select_one("form.confirm-form")["action"] == f"/auctions/{auction_id}/accept"
    assert balances(app, user_client.user_id) == (1_000, 0)
    token = csrf_token(user_client, f"/auctions/{auction_id}")
    response = user_client.post(f"/auctions/{auction_id}/accept", data={"csrf_token": token}, follow_redirects=True)
    assert "You bought it for 450 Stars" in page(response).get_text()
    assert balances(app, user_client.user_id) == (550, 0)

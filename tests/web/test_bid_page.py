"""The auction page after a user review: numbers as the site prints them, honest hints, personal outcomes."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from babel.messages.pofile import read_po
from bs4 import BeautifulSoup

from auction.extensions import db
from auction.live.renderers import render_event
from auction.models import utcnow
from auction.services import bidding, lifecycle
from tests.conftest import csrf_token, page, sign_in
from tests.live.test_auction_live_gaps import in_app
from tests.support.bidding_helpers import end_now, give_stars, new_auction

HX = {"HX-Request": "true"}


def bid(client, auction_id, htmx=True, **fields):
    token = csrf_token(client, f"/auctions/{auction_id}")
    headers = {**HX, "X-CSRFToken": token} if htmx else {}
    data = fields if htmx else {**fields, "csrf_token": token}
    return client.post(f"/auctions/{auction_id}/bids", data=data, headers=headers)


def as_user(app, user_id):
    client = app.test_client()
    sign_in(client, user_id)
    return client


def shown(client, auction_id) -> BeautifulSoup:
    return page(client.get(f"/auctions/{auction_id}"))


def live_controls(app, event, auction_id, locale="en") -> BeautifulSoup:
    rendered = dict(render_event(app, event, {"auction_id": auction_id}, locale) or [])
    return BeautifulSoup(rendered[f"auction-{auction_id}-controls"], "html.parser")


def live_shared(app, event, auction_id, locale="en") -> str:
    """Everything one event pushes to every open page of the auction."""
    return "".join(html for _, html in render_event(app, event, {"auction_id": auction_id}, locale) or [])


def own_controls(app, auction_id, user_id, outbid=False, locale="en") -> BeautifulSoup:
    """What one person's own channel brings their open pages of the auction."""
    rendered = dict(render_event(app, "auction_viewer", {"auction_id": auction_id, "user_id": user_id, "outbid": outbid}, locale) or [])
    return BeautifulSoup(rendered[f"auction-{auction_id}-mine"], "html.parser")


# 1. The grouping the site prints is accepted back.


@pytest.mark.parametrize("typed", ["1,200", "1 200", "1\u00a0200", "1\u202f200", "1'200", "1200", " 1,200 "])
def test_a_bid_typed_the_way_the_page_prints_it_is_accepted(app, people, typed):
    seller, alice, _ = people
    give_stars(app, alice, 5_000)
    auction_id = new_auction(app, seller, start_price=1_200)
    client = as_user(app, alice)
    assert "1,200 ⭐" in shown(client, auction_id).select_one("[data-min-next]").get_text()
    doc = page(bid(client, auction_id, amount=typed))
    assert doc.select_one("#bid-error") is None
    assert "you are the highest bidder" in doc.get_text()


@pytest.mark.parametrize("typed", ["1.200", "1,5", "12,00", "1,2000", "1,,200", ",200", "12a", "-5", "1e3", "٣٠٠"])
def test_decimals_and_anything_else_are_still_refused(app, people, typed):
    seller, alice, _ = people
    auction_id = new_auction(app, seller)
    doc = page(bid(as_user(app, alice), auction_id, amount=typed))
    assert doc.select_one("#bid-error").get_text(strip=True) == "Enter a whole number of Stars."


# 2. The hint and placeholder say what this viewer can offer.


def test_the_leader_is_told_their_own_maximum_plus_one(app, people):
    seller, alice, bob = people
    auction_id = new_auction(app, seller, start_price=200)
    in_app(app, bidding.place_bid, auction_id, alice, 300)
    in_app(app, bidding.place_bid, auction_id, bob, 205)  # Alice leads at 210, her maximum is 300
    alice_client = as_user(app, alice)
    doc = shown(alice_client, auction_id)
    assert doc.select_one("#bid-help").get_text().strip() == "At least 301 ⭐."
    assert doc.select_one("#bid-amount")["placeholder"] == "301"
    assert shown(as_user(app, bob), auction_id).select_one("#bid-help").get_text().strip() == "At least 215 ⭐."
    refused = page(bid(alice_client, auction_id, amount="300"))
    assert "at least 301" in refused.select_one("#bid-error").get_text()
    assert page(bid(alice_client, auction_id, amount="301")).select_one("#bid-error") is None

    # The shared render never carries her maximum; her own channel does, with her least offer.
    shared = live_shared(app, "bid_placed", auction_id)
    assert "300 ⭐" not in shared and "301" not in shared
    assert own_controls(app, auction_id, alice).select_one("#bid-help").get_text().strip() == "At least 302 ⭐."


def test_a_sealed_bidder_is_told_their_own_bid_plus_one(app, people):
    seller, alice, bob = people
    auction_id = new_auction(app, seller, kind="sealed_first", start_price=50)
    in_app(app, bidding.place_bid, auction_id, alice, 85)
    alice_client = as_user(app, alice)
    doc = shown(alice_client, auction_id)
    assert doc.select_one("#bid-help").get_text().strip() == "At least 86 ⭐."
    assert doc.select_one("#bid-amount")["placeholder"] == "86"
    assert shown(as_user(app, bob), auction_id).select_one("#bid-help").get_text().strip() == "At least 50 ⭐."
    assert "at least 86" in page(bid(alice_client, auction_id, amount="85")).select_one("#bid-error").get_text()
    assert page(bid(alice_client, auction_id, amount="86")).select_one("#bid-error") is None

    shared = live_shared(app, "bid_placed", auction_id)
    assert "86 ⭐" not in shared and "85 ⭐" not in shared
    assert own_controls(app, auction_id, alice).select_one("#bid-help").get_text().strip() == "At least 87 ⭐."


# 3. A sealed reserve says nothing about the hidden amounts while the auction runs.


def test_a_live_sealed_auction_only_says_it_has_a_reserve(app, people, client):
    seller, alice, _ = people
    auction_id = new_auction(app, seller, kind="sealed_second", start_price=10, reserve_price=100)
    for viewer in (client, as_user(app, alice)):
        text = shown(viewer, auction_id).get_text()
        assert "This auction has a reserve price" in text and "Reserve not met" not in text
    in_app(app, bidding.place_bid, auction_id, alice, 150)
    text = shown(client, auction_id).get_text()
    assert "This auction has a reserve price" in text and "Reserve met" not in text and "Reserve not met" not in text
    end_now(app, auction_id)
    in_app(app, lifecycle.close_auction, auction_id)
    text = shown(client, auction_id).get_text()
    assert "Sold for" in text and "reserve price" not in text


# 4. Russian: a number before a form of "звезда" agrees with some numbers only.


def test_no_russian_message_puts_a_number_before_a_word_for_stars():
    with open("translations/ru/LC_MESSAGES/messages.po", "rb") as f:
        catalog = read_po(f, locale="ru")
    number_then_stars = re.compile(r"%\(\w+\)[sd]\s+(?:[\w-]*-)?(звёзд|звезд|звезды|звёзды|звезда)\b")
    wrong = [m.id for m in catalog if not m.pluralizable and m.string and number_then_stars.search(m.string)]
    assert wrong == []


def test_a_russian_bid_error_uses_the_star_sign(app, people, make_user):
    seller, _, _ = people
    ivan = make_user("Ivan", locale="ru")
    give_stars(app, ivan, 5_000)
    auction_id = new_auction(app, seller, start_price=1_200)
    error = page(bid(as_user(app, ivan), auction_id, amount="21")).select_one("#bid-error").get_text(strip=True)
    assert error == "Ставка должна быть не меньше 1\u00a0200 ⭐."


# 5. Not enough Stars: grouped amounts and a real link to the wallet.


def test_a_bid_beyond_the_balance_links_to_the_wallet_with_grouped_amounts(app, people):
    seller, alice, _ = people
    auction_id = new_auction(app, seller, start_price=10)
    doc = page(bid(as_user(app, alice), auction_id, amount="95999"))
    error = doc.select_one("#bid-error")
    assert "you need 94,999 more (available: 1,000)" in error.get_text()
    link = error.find("a")
    assert link["href"] == "/wallet" and link.get_text(strip=True) == "Open your wallet"


@pytest.mark.parametrize("action", ["buy-now", "accept"])
def test_buying_without_enough_stars_flashes_a_link_to_the_wallet(app, people, action):
    seller, alice, _ = people
    if action == "buy-now":
        auction_id = new_auction(app, seller, buy_now_price=5_000)
    else:
        auction_id = new_auction(app, seller, kind="dutch", start_price=5_000, dutch_floor=4_000, dutch_step=10,
                                 dutch_interval_seconds=3600)
    client = as_user(app, alice)
    token = csrf_token(client, f"/auctions/{auction_id}")
    response = client.post(f"/auctions/{auction_id}/{action}", data={"csrf_token": token}, follow_redirects=True)
    flash = page(response).select_one(".flashes .flash-error")
    assert "you need 4,000 more" in flash.get_text() and "/wallet" not in flash.get_text()
    assert flash.find("a", string="Open your wallet")["href"] == "/wallet"


# 6. The outcome speaks to the winner and the seller.


def test_the_winner_the_seller_and_the_others_each_see_their_outcome(app, people, client, make_user):
    seller, alice, bob = people
    with app.app_context():
        from auction.models import User

        db.session.get(User, seller).username = "sam_sells"
        db.session.get(User, alice).username = "alice_buys"
        db.session.commit()
    auction_id = new_auction(app, seller, start_price=100)
    in_app(app, bidding.place_bid, auction_id, alice, 300)
    in_app(app, bidding.place_bid, auction_id, bob, 195)
    end_now(app, auction_id)
    in_app(app, lifecycle.close_auction, auction_id)

    won = shown(as_user(app, alice), auction_id).select_one(f"#auction-{auction_id}-controls")
    assert won.select_one(".auction-outcome").get_text(strip=True) == "You won this auction for 200 ⭐"
    assert won.find("a", string="See your wallet")["href"] == "/wallet"
    assert won.find("a", string="Message them on Telegram")["href"] == "https://t.me/sam_sells"

    sold = shown(as_user(app, seller), auction_id).select_one(f"#auction-{auction_id}-controls")
    assert sold.select_one(".auction-outcome").get_text(strip=True) == "Sold for 200 ⭐ to Alice"
    assert sold.find("a", string="Message them on Telegram")["href"] == "https://t.me/alice_buys"

    assert won.find(string=lambda text: text and "Winner: Alice" in text)  # her own name, not masked

    guest = shown(client, auction_id).select_one(f"#auction-{auction_id}-controls")
    assert guest.select_one(".auction-outcome").get_text(strip=True) == "Sold for 200 ⭐ to A***e"
    assert "alice_buys" not in str(guest) and "You won" not in guest.get_text()
    lost = shown(as_user(app, bob), auction_id).select_one(f"#auction-{auction_id}-controls")
    assert lost.select_one(".auction-outcome").get_text(" ", strip=True) == "You did not win «Vintage camera»."
    assert "Sold for 200 ⭐ to A***e" in lost.get_text() and "alice_buys" not in str(lost)

    # Shared with every open page: nobody's name or contact; each party's own comes on their channel.
    live = live_controls(app, "auction_closed", auction_id)
    assert live.select_one(".auction-outcome").get_text(strip=True) == "Sold for 200 ⭐ to A***e"
    assert "Alice" not in live.get_text() and "alice_buys" not in str(live) and "sam_sells" not in str(live)
    assert "You won this auction for 200 ⭐" in own_controls(app, auction_id, alice).get_text()
    assert "Sold for 200 ⭐ to Alice" in own_controls(app, auction_id, seller).get_text()
    assert "You did not win" in own_controls(app, auction_id, bob).get_text()


def test_being_outbid_comes_on_the_persons_own_channel_as_a_warning(app, people):
    seller, alice, bob = people
    give_stars(app, bob, 500)
    auction_id = new_auction(app, seller)
    in_app(app, bidding.place_bid, auction_id, alice, 30)
    in_app(app, bidding.place_bid, auction_id, bob, 60)
    assert "outbid" not in live_shared(app, "bid_placed", auction_id)
    line = own_controls(app, auction_id, alice, outbid=True).select_one(".form-message.warning")
    assert line.get_text(strip=True) == "You have been outbid. The price is now 31 ⭐."
    assert own_controls(app, auction_id, bob).select_one(".form-message") is None


# 7. Times and texts.


def test_the_end_reads_as_a_date_without_javascript_and_counts_down_with_it(app, people, client, make_user):
    seller, _, _ = people
    auction_id = new_auction(app, seller)
    ends = shown(client, auction_id).select_one(f"#auction-{auction_id}-ends")
    time_tag = ends.select_one("time[data-countdown]")
    assert ends.get_text(strip=True).startswith("Ends ") and "Time left" not in ends.get_text()
    assert time_tag["data-format"] == "Ends in %s" and time_tag["data-days"] == "%sd"
    card_time = page(client.get("/")).select_one(".card-time time[data-countdown]")
    assert card_time["data-format"] == "Ends in %s"

    ivan = make_user("Ivan", locale="ru")
    russian = shown(as_user(app, ivan), auction_id).select_one(f"#auction-{auction_id}-ends time")
    assert russian["data-days"] == "%s д" and russian["data-format"] == "До конца %s"

    end_now(app, auction_id)
    in_app(app, lifecycle.close_auction, auction_id)
    ends = shown(client, auction_id).select_one(f"#auction-{auction_id}-ends")
    assert ends.select_one("[data-countdown]") is None and ends.get_text().strip().startswith("Ended ")


def test_a_scheduled_auction_counts_down_to_its_opening_and_stops_saying_so_once_open(app, people, client):
    seller, _, _ = people
    opens = utcnow() + timedelta(hours=1)
    auction_id = new_auction(app, seller, status="scheduled", starts_at=opens, ends_at=opens + timedelta(hours=2))
    ends = shown(client, auction_id).select_one(f"#auction-{auction_id}-ends")
    countdown = ends.select_one("time[data-countdown]")
    assert countdown["datetime"] == opens.isoformat() and countdown["data-format"] == "Opens in %s"
    assert countdown.get_text(strip=True).startswith("Opens ")
    with app.app_context():
        from auction.models import Auction

        db.session.get(Auction, auction_id).starts_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
        lifecycle.open_scheduled_auctions()
        db.session.remove()
    rendered = dict(render_event(app, "auction_opened", {"auction_id": auction_id}, "en"))
    ends = BeautifulSoup(rendered[f"auction-{auction_id}-ends"], "html.parser")
    assert "Opens" not in ends.get_text() and ends.select_one("time")["data-format"] == "Ends in %s"
    assert "Opens" not in shown(client, auction_id).select_one(".auction-ends").get_text()


def test_dutch_and_sealed_pages_without_bids_say_what_fits(app, people, client):
    seller, _, _ = people
    dutch = new_auction(app, seller, kind="dutch", start_price=100, dutch_floor=10, dutch_step=5, dutch_interval_seconds=60)
    sealed = new_auction(app, seller, kind="sealed_first", start_price=100)
    assert "Nobody has bought it yet" in shown(client, dutch).select_one(f"#auction-{dutch}-bids").get_text()
    assert shown(client, sealed).select_one(f"#auction-{sealed}-bids").get_text(strip=True) == "No sealed bids yet."
    assert "This is your auction." in shown(as_user(app, seller), dutch).select_one("#bid-form-box").get_text()


# 8. Reloading the address a plain-form bid error left behind.


def test_reloading_the_bids_address_goes_back_to_the_auction(app, people):
    seller, alice, _ = people
    auction_id = new_auction(app, seller, start_price=100)
    client = as_user(app, alice)
    refused = bid(client, auction_id, htmx=False, amount="5")
    assert refused.status_code == 422
    reload = client.get(f"/auctions/{auction_id}/bids")
    assert reload.status_code == 303 and reload.headers["Location"].endswith(f"/auctions/{auction_id}")

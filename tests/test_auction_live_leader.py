"""The controls pushed after a bid: who leads (by a tag, never a user id or a maximum), the new
minimum, buy it now only while it lasts; sealed auctions say nothing about leaders."""

from __future__ import annotations

import re

from auction.services import bidding
from tests.bidding_helpers import give_stars, new_auction
from tests.conftest import page, sign_in
from tests.test_auction_live_gaps import fragments, in_app


def controls_after_bid(app, auction_id: int, locale: str = "en"):
    return fragments(app, "bid_placed", auction_id, locale)[f"auction-{auction_id}-controls"]


def bidder_variants(controls) -> dict[str, object]:
    return {block.get("data-leading", "only"): block for block in controls.select("[data-for-viewer=bidder]")}


def viewer_tag(client, user_id: int, auction_id: int) -> str:
    sign_in(client, user_id)
    return page(client.get(f"/auctions/{auction_id}")).select_one(".auction-page")["data-viewer-tag"]


def test_after_a_bid_the_controls_say_who_leads_by_tag_only(app, client, make_user):
    seller, alice, bob = make_user("Sam"), make_user("Alice"), make_user("Bob")
    give_stars(app, alice, 500)
    give_stars(app, bob, 500)
    auction_id = new_auction(app, seller, start_price=20)
    in_app(app, bidding.place_bid, auction_id, alice, 30)
    in_app(app, bidding.place_bid, auction_id, bob, 47)  # Bob leads at 31; the minimum is 32

    controls = controls_after_bid(app, auction_id)
    variants = bidder_variants(controls)
    assert set(variants) == {"yes", "no"} and all(block.has_attr("hidden") for block in variants.values())
    leading, trailing = variants["yes"], variants["no"]
    assert leading.select_one("[data-note=leading]").get_text(strip=True) == "You are the highest bidder."
    assert trailing.select_one("[data-note=leading]") is None and "highest bidder" not in trailing.get_text()
    # The leader's least offer is their own maximum + 1: private, so the shared render only says
    # how to bid more (auction.js keeps the page's own hint, data-note="least-leading").
    assert trailing.select_one("#bid-help").get_text(strip=True) == "At least 32 ⭐."
    assert trailing.select_one("#bid-amount")["placeholder"] == "32" and not trailing.select_one("#bid-help").has_attr("data-note")
    assert leading.select_one("#bid-help")["data-note"] == "least-leading"
    assert leading.select_one("#bid-help").get_text(strip=True) == "To bid more, raise your maximum above the one you set."
    assert leading.select_one("#bid-amount")["placeholder"] == ""
    assert {block["data-leader"] for block in variants.values()} == {leading["data-leader"]}

    # Nobody's maximum is in the shared render, and the marker is no user id.
    text = str(controls)
    assert "47" not in text and "Your maximum" not in text
    marker = leading["data-leader"]
    assert re.fullmatch(r"[0-9a-f]{12}", marker) and str(bob) not in marker.split()
    assert {block["data-for-viewer"] for block in controls.select("[data-for-viewer]")} == {"bidder", "guest", "seller"}

    # Each signed-in page carries its own viewer's tag: only Bob's matches the leader's.
    assert viewer_tag(client, bob, auction_id) == marker
    assert viewer_tag(client, alice, auction_id) != marker
    assert viewer_tag(client, seller, auction_id) != marker

    # Bob's own page still tells him his maximum; Alice's says nothing of leading.
    sign_in(client, bob)
    box = page(client.get(f"/auctions/{auction_id}")).select_one("#bid-form-box")
    assert box["data-leading"] == "yes"
    assert box.select_one("[data-note=leading]").get_text(strip=True) == "You are the highest bidder. Your maximum: 47 ⭐"
    sign_in(client, alice)
    box = page(client.get(f"/auctions/{auction_id}")).select_one("#bid-form-box")
    assert box["data-leading"] == "no" and box.select_one("[data-note]") is None

    ru = controls_after_bid(app, auction_id, locale="ru")
    assert "47" not in str(ru) and bidder_variants(ru)["yes"]["data-leader"] == marker


def test_the_leader_marker_differs_per_auction_and_per_user(app, client, make_user):
    seller, alice, bob = make_user("Sam"), make_user("Alice"), make_user("Bob")
    give_stars(app, alice, 500)
    give_stars(app, bob, 500)
    first, second = new_auction(app, seller), new_auction(app, seller)
    in_app(app, bidding.place_bid, first, alice, 30)
    in_app(app, bidding.place_bid, second, alice, 30)
    alice_first = bidder_variants(controls_after_bid(app, first))["yes"]["data-leader"]
    alice_second = bidder_variants(controls_after_bid(app, second))["yes"]["data-leader"]
    assert alice_first != alice_second
    in_app(app, bidding.place_bid, first, bob, 50)
    assert bidder_variants(controls_after_bid(app, first))["yes"]["data-leader"] not in (alice_first, alice_second)


def test_buy_now_leaves_the_pushed_controls_with_the_first_bid(app, make_user):
    seller, alice = make_user("Sam"), make_user("Alice")
    give_stars(app, alice, 500)
    auction_id = new_auction(app, seller, buy_now_price=100)
    opened = fragments(app, "auction_opened", auction_id)[f"auction-{auction_id}-controls"]
    assert bidder_variants(opened)["only"].select_one(".buy-now-form button").get_text(strip=True) == "Buy it now for 100 ⭐"
    assert opened.select_one("[data-for-viewer=seller] .cancel-form") is not None
    in_app(app, bidding.place_bid, auction_id, alice, 30)
    controls = controls_after_bid(app, auction_id)
    assert controls.select_one(".buy-now-form") is None
    # The seller may no longer edit or cancel; an admin still may (their page keeps that block).
    assert controls.select_one("[data-for-viewer=seller] .cancel-form") is None
    assert controls.select_one("[data-for-admin] .cancel-form") is not None


def test_with_a_reserve_buy_now_lasts_until_the_reserve_is_met(app, make_user):
    seller, alice, bob = make_user("Sam"), make_user("Alice"), make_user("Bob")
    give_stars(app, alice, 500)
    give_stars(app, bob, 500)
    auction_id = new_auction(app, seller, reserve_price=60, buy_now_price=150)
    in_app(app, bidding.place_bid, auction_id, alice, 40)
    assert all(block.select_one(".buy-now-form") for block in bidder_variants(controls_after_bid(app, auction_id)).values())
    in_app(app, bidding.place_bid, auction_id, bob, 70)
    assert controls_after_bid(app, auction_id).select_one(".buy-now-form") is None


def test_sealed_controls_carry_no_leader_and_no_amount(app, client, make_user):
    seller, alice, bob = make_user("Sam"), make_user("Alice"), make_user("Bob")
    give_stars(app, alice, 500)
    give_stars(app, bob, 500)
    auction_id = new_auction(app, seller, kind="sealed_first", start_price=20, buy_now_price=300)
    in_app(app, bidding.place_bid, auction_id, alice, 90)
    in_app(app, bidding.place_bid, auction_id, bob, 70)
    controls = controls_after_bid(app, auction_id)
    assert controls.select("[data-leader]") == [] and controls.select("[data-leading]") == []
    assert "90" not in str(controls) and "70" not in str(controls) and "highest bidder" not in controls.get_text()
    variants = bidder_variants(controls)
    assert set(variants) == {"only"}
    # An empty slot for the reader's own sealed bid, which auction.js fills from the page.
    assert variants["only"].select_one("[data-note=sealed]").get_text(strip=True) == ""
    assert controls.select_one(".buy-now-form") is None
    sign_in(client, alice)
    doc = page(client.get(f"/auctions/{auction_id}"))
    assert doc.select_one("[data-note=sealed]").get_text(strip=True).startswith("Your sealed bid: 90 ⭐")

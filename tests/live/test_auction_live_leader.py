"""What a bid pushes: to every open page the public state only (price, rows, the public least
offer, buy it now while it lasts); who leads, their maximum and "you have been outbid" go on
each person's own channel. Sealed auctions say nothing about leaders or amounts."""

from __future__ import annotations

from auction.services import bidding
from tests.conftest import page, sign_in
from tests.live.test_auction_live_gaps import fragments, in_app, last_bid_at
from tests.support.bidding_helpers import give_stars, new_auction


def shared_after_bid(app, auction_id: int, locale: str = "en"):
    return fragments(app, "bid_placed", auction_id, locale, at=last_bid_at(app, auction_id))


def own(app, auction_id: int, user_id: int, outbid: bool = False, locale: str = "en"):
    return fragments(app, "auction_viewer", auction_id, locale, user_id=user_id, outbid=outbid)[f"auction-{auction_id}-mine"]


def test_after_a_bid_everyone_gets_the_public_state_and_only_the_leader_hears_they_lead(app, client, make_user):
    seller, alice, bob = make_user("Sam"), make_user("Alice"), make_user("Bob")
    give_stars(app, alice, 500)
    give_stars(app, bob, 500)
    auction_id = new_auction(app, seller, start_price=20)
    in_app(app, bidding.place_bid, auction_id, alice, 30)
    in_app(app, bidding.place_bid, auction_id, bob, 47)  # Bob leads at 31; the minimum is 32

    shared = shared_after_bid(app, auction_id)
    text = "".join(str(fragment) for fragment in shared.values())
    assert "47 ⭐" not in text and "highest bidder" not in text and "outbid" not in text
    assert "data-for-viewer" not in text and "data-leader" not in text
    assert shared[f"auction-{auction_id}-least"].get_text(strip=True) == "32 ⭐"

    leading = own(app, auction_id, bob)
    assert leading.select_one(".form-note").get_text(strip=True) == "You are the highest bidder. Your maximum: 47 ⭐"
    assert leading.select_one("#bid-help").get_text().strip() == "At least 48 ⭐."
    assert leading.select_one("#bid-amount")["placeholder"] == "48"
    trailing = own(app, auction_id, alice, outbid=True)
    assert trailing.select_one(".form-message.warning").get_text(strip=True) == "You have been outbid. The price is now 31 ⭐."
    assert trailing.select_one("#bid-help").get_text().strip() == "At least 32 ⭐."
    # Hers keeps following the public minimum as others bid.
    assert trailing.select_one(f"#auction-{auction_id}-least")["sse-swap"] == f"auction-{auction_id}-least"
    assert "47 ⭐" not in str(trailing)

    # Without JavaScript each page is right for its viewer.
    sign_in(client, bob)
    box = page(client.get(f"/auctions/{auction_id}")).select_one("#bid-form-box")
    assert box.select_one(".form-note").get_text(strip=True) == "You are the highest bidder. Your maximum: 47 ⭐"
    sign_in(client, alice)
    box = page(client.get(f"/auctions/{auction_id}")).select_one("#bid-form-box")
    assert box.select_one(".form-note") is None and box.select_one("#bid-help").get_text().strip() == "At least 32 ⭐."

    ru = shared_after_bid(app, auction_id, locale="ru")
    assert "47" not in "".join(str(fragment.select_one(".price") or "") for fragment in ru.values())
    assert "47\u00a0⭐" not in "".join(str(fragment) for fragment in ru.values()) and "47 ⭐" not in "".join(str(fragment) for fragment in ru.values())


def test_a_bid_reaches_the_people_it_changes_on_their_own_channels(app, make_user):
    from auction.services.transaction import add_event_sink

    seller, alice, bob = make_user("Sam"), make_user("Alice"), make_user("Bob")
    give_stars(app, alice, 500)
    give_stars(app, bob, 500)
    auction_id = new_auction(app, seller)
    seen: list[tuple[str, str, dict]] = []
    add_event_sink(app, seen.extend)
    in_app(app, bidding.place_bid, auction_id, alice, 30)  # the first bid: the seller can no longer edit
    in_app(app, bidding.place_bid, auction_id, bob, 60, "bot")  # Alice outbid; all Bob's pages hear of his bid
    personal = [(channel, data["outbid"], data.get("bid")) for channel, name, data in seen if name == "auction_viewer"]
    assert personal == [(f"user:{seller}", False, None), (f"user:{alice}", False, "leading"),
                        (f"user:{alice}", True, None), (f"user:{bob}", False, "leading")]
    # Every page of the bidder's says what their bid came to, as the answer to the bid did.
    mine = fragments(app, "auction_viewer", auction_id, user_id=bob, outbid=False, bid="leading")[f"auction-{auction_id}-mine"]
    assert mine.select_one(".form-message").get_text(strip=True) == "Your bid is in: you are the highest bidder."


def test_buy_now_leaves_with_the_first_bid_and_so_do_the_sellers_edit_and_cancel(app, make_user):
    seller, alice = make_user("Sam"), make_user("Alice")
    admin = make_user("Ada", is_admin=True)
    give_stars(app, alice, 500)
    auction_id = new_auction(app, seller, buy_now_price=100)
    opened = fragments(app, "auction_opened", auction_id)[f"auction-{auction_id}-controls"]
    assert opened.select_one(".buy-now-form a").get_text(strip=True) == "Buy it now for 100 ⭐"
    assert own(app, auction_id, seller).select_one(".cancel-form") is not None
    in_app(app, bidding.place_bid, auction_id, alice, 30)
    assert shared_after_bid(app, auction_id)[f"auction-{auction_id}-buy-now"].select_one(".buy-now-form") is None
    # The seller may no longer edit or cancel; an admin still may.
    assert own(app, auction_id, seller).select_one(".cancel-form") is None
    assert own(app, auction_id, admin).select_one(".cancel-form") is not None


def test_with_a_reserve_buy_now_lasts_until_the_reserve_is_met(app, make_user):
    seller, alice, bob = make_user("Sam"), make_user("Alice"), make_user("Bob")
    give_stars(app, alice, 500)
    give_stars(app, bob, 500)
    auction_id = new_auction(app, seller, reserve_price=60, buy_now_price=150)
    in_app(app, bidding.place_bid, auction_id, alice, 40)
    assert shared_after_bid(app, auction_id)[f"auction-{auction_id}-buy-now"].select_one(".buy-now-form") is not None
    in_app(app, bidding.place_bid, auction_id, bob, 70)
    assert shared_after_bid(app, auction_id)[f"auction-{auction_id}-buy-now"].select_one(".buy-now-form") is None


def test_sealed_pushes_carry_no_leader_and_no_amount(app, client, make_user):
    seller, alice, bob = make_user("Sam"), make_user("Alice"), make_user("Bob")
    give_stars(app, alice, 500)
    give_stars(app, bob, 500)
    auction_id = new_auction(app, seller, kind="sealed_first", start_price=20, buy_now_price=300)
    in_app(app, bidding.place_bid, auction_id, alice, 90)
    in_app(app, bidding.place_bid, auction_id, bob, 70)
    shared = shared_after_bid(app, auction_id)
    text = "".join(str(fragment) for fragment in shared.values())
    assert "90 ⭐" not in text and "70 ⭐" not in text and "highest bidder" not in text
    assert f"auction-{auction_id}-buy-now" not in shared and f"auction-{auction_id}-least" not in shared
    assert own(app, auction_id, alice).select_one(".form-note").get_text(strip=True).startswith("Your sealed bid: 90 ⭐")
    sign_in(client, alice)
    doc = page(client.get(f"/auctions/{auction_id}"))
    assert doc.select_one(".form-note").get_text(strip=True).startswith("Your sealed bid: 90 ⭐")

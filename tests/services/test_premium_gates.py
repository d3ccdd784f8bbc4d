"""What Premium unlocks (issue 13, part 5): each gate refused to a free seller with the upgrade
link, accepted with Premium; the fee fixed at listing; featured placement on home and search."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from auction.extensions import db
from auction.models import Auction, Notification, Subscription, utcnow
from auction.services import lifecycle
from tests.conftest import csrf_token, page, sign_in
from tests.support.bidding_helpers import balances, end_now, give_stars, new_auction
from tests.support.premium_helpers import make_premium
from tests.web.test_listing_form import png_bytes, post_listing


@pytest.fixture
def app(make_app):
    """The shipped limits (tests/conftest.py lifts the live-auction limit for everyone else)."""
    return make_app(FREE_LIVE_AUCTIONS=3, PREMIUM_LIVE_AUCTIONS=50)


@pytest.fixture
def seller(make_user):
    return make_user("Sam", username="sam")


@pytest.fixture
def seller_client(client, seller):
    sign_in(client, seller)
    return client


def _count_auctions(app, seller_id: int) -> int:
    with app.app_context():
        return len(db.session.scalars(select(Auction.id).where(Auction.seller_id == seller_id)).all())


def _upgrade_link(doc) -> bool:
    return any(a.get("href") == "/premium" and "Premium allows" in a.get_text() for a in doc.select("a"))


# --- auction types ------------------------------------------------------------------------

DUTCH = {"kind": "dutch", "buy_now_price": "", "snipe_window_minutes": "", "snipe_extension_minutes": "",
         "dutch_floor": "10", "dutch_step": "5", "dutch_interval_minutes": "10"}


def test_a_free_seller_sees_the_premium_types_marked_and_is_refused_one(app, seller_client, seller):
    form = page(seller_client.get("/auctions/new"))
    options = {o["value"]: o.get_text() for o in form.select("#f-kind option")}
    assert "Premium" in options["dutch"] and "Premium" in options["sealed_second"] and "Premium" not in options["english"]
    response = post_listing(seller_client, [("a.png", png_bytes())], title="Tulip bulbs", **DUTCH)
    assert response.status_code == 422
    doc = page(response)
    assert "Dutch and sealed-bid auctions need Premium" in doc.select_one("#err-kind").get_text()
    assert _upgrade_link(doc)
    assert doc.select_one("#f-title")["value"] == "Tulip bulbs"  # what was typed is kept
    assert _count_auctions(app, seller) == 0


def test_a_premium_seller_lists_a_dutch_auction(app, seller_client, seller):
    make_premium(app, seller)
    form = page(seller_client.get("/auctions/new"))
    assert all("Premium" not in o.get_text() for o in form.select("#f-kind option"))
    response = post_listing(seller_client, [("a.png", png_bytes())], **DUTCH)
    assert response.status_code == 303
    with app.app_context():
        assert db.session.scalars(select(Auction.kind).where(Auction.seller_id == seller)).one() == "dutch"


# --- live auctions at once ------------------------------------------------------------------


def test_the_form_counts_live_auctions_and_a_free_seller_at_the_limit_is_refused(app, seller_client, seller):
    new_auction(app, seller)
    new_auction(app, seller, status="scheduled", starts_at=utcnow() + timedelta(hours=1), ends_at=utcnow() + timedelta(hours=2))
    new_auction(app, seller, status="ended")  # over: does not count
    assert "2 of 3 live auctions" in page(seller_client.get("/auctions/new")).select_one("#listing-limits").get_text(" ", strip=True)
    new_auction(app, seller)
    response = post_listing(seller_client, [("a.png", png_bytes())], title="Fourth thing")
    assert response.status_code == 422
    doc = page(response)
    assert "You have 3 of 3 live auctions" in doc.get_text() and "Premium allows 50" in doc.get_text()
    assert _upgrade_link(doc)
    assert doc.select_one("#f-title")["value"] == "Fourth thing"
    assert _count_auctions(app, seller) == 4


def test_a_premium_seller_lists_past_the_free_limit(app, seller_client, seller):
    make_premium(app, seller)
    for _ in range(3):
        new_auction(app, seller)
    assert "3 of 50 live auctions" in page(seller_client.get("/auctions/new")).get_text(" ", strip=True)
    assert post_listing(seller_client, [("a.png", png_bytes())]).status_code == 303
    assert _count_auctions(app, seller) == 4


# --- photos ---------------------------------------------------------------------------------


def test_photos_free_three_premium_more(app, seller_client, seller):
    label = page(seller_client.get("/auctions/new")).select_one("label[for=f-photos]").get_text()
    assert "1 to 3" in label
    four = [(f"{n}.png", png_bytes()) for n in range(4)]
    response = post_listing(seller_client, four, title="Four views")
    assert response.status_code == 422
    doc = page(response)
    assert "A free account adds up to 3 photos to a listing; Premium allows 10." in doc.select_one("#err-photos").get_text()
    assert _upgrade_link(doc) and doc.select_one("#f-title")["value"] == "Four views"
    make_premium(app, seller)
    assert "1 to 10" in page(seller_client.get("/auctions/new")).select_one("label[for=f-photos]").get_text()
    assert post_listing(seller_client, four).status_code == 303


# --- relisting ------------------------------------------------------------------------------


def _post(client, url, data):
    return client.post(url, data={"csrf_token": csrf_token(client), **data})


def test_relisting_is_refused_at_the_free_limit_and_allowed_with_premium(app, seller_client, seller):
    unsold = new_auction(app, seller, status="ended")
    for _ in range(3):
        new_auction(app, seller)
    response = _post(seller_client, f"/auctions/{unsold}/relist", {"when": "now"})
    assert response.status_code == 303
    doc = page(seller_client.get(response.headers["Location"]))
    flash = doc.select_one(".flash-error")
    assert "3 of 3 live auctions" in flash.get_text() and flash.select_one("a[href='/premium']") is not None
    make_premium(app, seller)
    response = _post(seller_client, f"/auctions/{unsold}/relist", {"when": "now"})
    new_id = int(response.headers["Location"].rsplit("/", 1)[1])
    with app.app_context():
        assert db.session.get(Auction, new_id).fee_percent == app.config["PREMIUM_FEE_PERCENT"]


def test_a_dutch_auction_is_not_relisted_by_hand_once_premium_ended(app, seller_client, seller):
    unsold = new_auction(app, seller, status="ended", kind="dutch", dutch_floor=2, dutch_step=1, dutch_interval_seconds=60)
    response = _post(seller_client, f"/auctions/{unsold}/relist", {"when": "now"})
    flash = page(seller_client.get(response.headers["Location"])).select_one(".flash-error")
    assert "need Premium" in flash.get_text()


def test_an_automatic_relist_over_the_limit_does_not_happen_and_the_seller_is_told(app, seller):
    running = new_auction(app, seller, relists_left=2)
    for _ in range(3):
        new_auction(app, seller)  # with `running`, four live: this seller once had Premium
    end_now(app, running)
    with app.app_context():
        lifecycle.close_auction(running)
        auction = db.session.get(Auction, running)
        assert auction.relisted_as_id is None and auction.relists_left == 0
        notice = db.session.scalars(select(Notification).where(Notification.user_id == seller, Notification.kind == "relist_skipped")).one()
        from auction.services.notifications import text_of

        assert "was not relisted automatically" in str(text_of(notice))


def test_an_automatic_relist_within_the_limit_takes_the_premium_fee(app, seller):
    make_premium(app, seller)
    running = new_auction(app, seller, relists_left=1, kind="sealed_first")
    end_now(app, running)
    with app.app_context():
        lifecycle.close_auction(running)
        new = db.session.get(Auction, db.session.get(Auction, running).relisted_as_id)
        assert new.kind == "sealed_first" and new.fee_percent == app.config["PREMIUM_FEE_PERCENT"]


# --- the fee, fixed when listed ---------------------------------------------------------------


def _buy_now(app, auction_id: int, buyer: int) -> None:
    with app.app_context():
        lifecycle.buy_now(auction_id, buyer)
        db.session.remove()


def test_the_form_states_the_fee_that_will_apply(app, seller_client, seller):
    assert "Platform fee: 5%" in page(seller_client.get("/auctions/new")).select_one("#listing-fee").get_text()
    make_premium(app, seller)
    assert "Platform fee: 2%" in page(seller_client.get("/auctions/new")).select_one("#listing-fee").get_text()


def test_a_premium_sale_pays_two_percent_and_keeps_it_after_premium_ends(app, seller_client, seller, make_user):
    subscription = make_premium(app, seller)
    assert post_listing(seller_client, [("a.png", png_bytes())], buy_now_price="1000").status_code == 303
    assert post_listing(seller_client, [("b.png", png_bytes())], buy_now_price="1000").status_code == 303
    with app.app_context():
        first, second = db.session.scalars(select(Auction.id).where(Auction.seller_id == seller).order_by(Auction.id)).all()
    buyer = make_user("Bea")
    give_stars(app, buyer, 5000)
    _buy_now(app, first, buyer)
    assert balances(app, seller) == (980, 0)
    with app.app_context():  # Premium runs out; the listed auction keeps its terms
        db.session.execute(update(Subscription).where(Subscription.id == subscription).values(expires_at=utcnow() - timedelta(minutes=1)))
        db.session.commit()
    assert "Platform fee: 5%" in page(seller_client.get("/auctions/new")).select_one("#listing-fee").get_text()
    assert "Platform fee: 2%" in page(seller_client.get(f"/auctions/{second}/edit")).select_one("#listing-fee").get_text()
    _buy_now(app, second, buyer)
    assert balances(app, seller) == (980 + 980, 0)
    wallet = page(seller_client.get("/wallet")).get_text(" ", strip=True)
    assert "platform fee −20" in wallet


def test_a_free_sale_pays_the_platform_fee(app, seller_client, seller, make_user):
    assert post_listing(seller_client, [("a.png", png_bytes())], buy_now_price="1000").status_code == 303
    with app.app_context():
        auction_id = db.session.scalars(select(Auction.id).where(Auction.seller_id == seller)).one()
    buyer = make_user("Bea")
    give_stars(app, buyer, 5000)
    _buy_now(app, auction_id, buyer)
    assert balances(app, seller) == (950, 0)


# --- featured placement -----------------------------------------------------------------------


def _featured_pair(app, make_user):
    free, plus = make_user("Fran"), make_user("Pia")
    make_premium(app, plus)
    soon = new_auction(app, free, title="Brass lamp soon", ends_at=utcnow() + timedelta(minutes=30))
    later = new_auction(app, plus, title="Brass lamp later", ends_at=utcnow() + timedelta(hours=5))
    return soon, later


def _card_ids(doc) -> list[int]:
    return [int(card["id"].rsplit("-", 1)[1]) for card in doc.select("li.auction-card")]


def test_premium_sellers_auctions_come_first_on_the_home_page_with_a_mark(app, client, make_user):
    soon, later = _featured_pair(app, make_user)
    doc = page(client.get("/"))
    assert _card_ids(doc) == [later, soon]
    assert doc.select_one(f"#auction-card-{later} .badge-featured").get_text(strip=True) == "Featured"
    assert doc.select_one(f"#auction-card-{soon} .badge-featured") is None


def test_featured_first_in_search_by_best_match_only(app, client, make_user):
    soon, later = _featured_pair(app, make_user)
    doc = page(client.get("/search?q=brass"))
    assert _card_ids(doc) == [later, soon]
    assert doc.select_one(f"#auction-card-{later} .badge-featured") is not None
    assert _card_ids(page(client.get("/search?q=brass&sort=ending"))) == [soon, later]


# --- seller statistics ------------------------------------------------------------------------


def test_views_are_counted_in_memory_and_added_per_day_by_the_flush(app, client, seller, make_user):
    from auction.models import AuctionView
    from auction.services import view_counts

    auction_id = new_auction(app, seller)
    viewer = make_user("Vic")
    sign_in(client, viewer)
    for _ in range(3):
        assert client.get(f"/auctions/{auction_id}").status_code == 200
    sign_in(client, seller)
    client.get(f"/auctions/{auction_id}")  # the seller's own look is not a view
    with app.app_context():
        assert db.session.scalars(select(AuctionView)).all() == []  # nothing written by a page view
        assert view_counts.flush_views() == 3
        view_counts.count_view(auction_id)
        assert view_counts.flush_views() == 1
        row = db.session.scalars(select(AuctionView)).one()
        assert (row.auction_id, row.day, row.count) == (auction_id, utcnow().date(), 4)


def test_a_running_server_adds_its_views_when_it_stops(app, seller):
    import httpx

    from auction.models import AuctionView
    from tests.support.servers import run_server

    auction_id = new_auction(app, seller)
    with run_server(app) as base_url:  # the scheduler is off here, but not this process's own jobs
        for _ in range(2):
            assert httpx.get(f"{base_url}/auctions/{auction_id}").status_code == 200
    with app.app_context():
        assert db.session.scalars(select(AuctionView.count).where(AuctionView.auction_id == auction_id)).one() == 2


def _dataset(app, seller, make_user) -> tuple[int, int]:
    """Two auctions: views 5 two days ago and 7 today on the first, 2 today on the second; 2 watchers
    (yesterday, today) on the first; bids 1 two days ago and 2 today on the first, 1 yesterday on the second."""
    from auction.models import AuctionView, Bid, WatchlistEntry

    now = utcnow()
    first = new_auction(app, seller, title="Globe", starts_at=now - timedelta(days=3))
    second = new_auction(app, seller, title="Atlas", starts_at=now - timedelta(days=2))
    a, b = make_user("Ann"), make_user("Ben")
    days = [now - timedelta(days=n) for n in range(3)]
    with app.app_context():
        db.session.add_all([
            AuctionView(auction_id=first, day=days[2].date(), count=5),
            AuctionView(auction_id=first, day=days[0].date(), count=7),
            AuctionView(auction_id=second, day=days[0].date(), count=2),
            WatchlistEntry(user_id=a, auction_id=first, created_at=days[1]),
            WatchlistEntry(user_id=b, auction_id=first, created_at=days[0]),
            Bid(auction_id=first, bidder_id=a, amount=10, created_at=days[2]),
            Bid(auction_id=first, bidder_id=b, amount=11, created_at=days[0]),
            Bid(auction_id=first, bidder_id=a, amount=12, created_at=days[0]),
            Bid(auction_id=second, bidder_id=b, amount=10, created_at=days[1]),
        ])
        db.session.commit()
    return first, second


def test_statistics_numbers_on_the_dashboard_for_a_premium_seller(app, seller_client, seller, make_user):
    from auction.services.seller_stats import seller_statistics

    first, second = _dataset(app, seller, make_user)
    make_premium(app, seller)
    with app.app_context():
        stats = seller_statistics(seller)
        assert stats.total.views[-3:] == (5, 0, 9) and stats.total.watchers[-3:] == (0, 1, 1) and stats.total.bids[-3:] == (1, 1, 2)
    doc = page(seller_client.get("/dashboard?tab=selling"))
    total = doc.select_one("#stats-total")
    assert [s.get_text(strip=True) for s in total.select("[data-stat]")] == ["14 views", "2 new watchers", "4 bids"]
    assert len(total.select("svg polyline")) == 3
    globe = doc.select_one(f"#stats-auction-{first}")
    assert [s.get_text(strip=True) for s in globe.select("[data-stat]")] == ["12 views", "2 new watchers", "3 bids"]
    atlas = doc.select_one(f"#stats-auction-{second}")
    assert [s.get_text(strip=True) for s in atlas.select("[data-stat]")] == ["2 views", "0 new watchers", "1 bid"]


def test_a_free_seller_sees_what_statistics_would_show(app, seller_client, seller, make_user):
    _dataset(app, seller, make_user)
    doc = page(seller_client.get("/dashboard?tab=selling"))
    assert doc.select_one("#stats-total") is None
    upsell = doc.select_one("#stats-upsell")
    assert "viewed, watched and bid" in upsell.get_text() and upsell.select_one("a[href='/premium']") is not None


def test_the_bot_tells_the_seller_a_relist_was_skipped_with_a_premium_button(make_app, fake_telegram, make_user):
    from tests.support.fake_telegram import bot_config, run_bot

    app = make_app(**bot_config(fake_telegram, BASE_URL="https://auction.example"))
    seller_tg = fake_telegram.user("Sam")
    seller = make_user("Sam", telegram_id=seller_tg["id"])
    dutch = new_auction(app, seller, title="Tulips", kind="dutch", dutch_floor=2, dutch_step=1, dutch_interval_seconds=60, relists_left=3)
    end_now(app, dutch)
    with app.app_context():
        lifecycle.close_auction(dutch)  # Premium ended (or never was): a Dutch auction is not relisted
        db.session.remove()
    with run_bot(app):
        sent = fake_telegram.wait_for_call("sendMessage", lambda p: p["chat_id"] == seller_tg["id"] and "not relisted" in p["text"])
    assert sent["text"] == "“Tulips” was not relisted automatically: Dutch and sealed-bid auctions need Premium."
    assert sent["reply_markup"]["inline_keyboard"][0][0] == {"text": "What Premium allows", "url": "https://auction.example/premium"}


def test_choosing_a_premium_type_is_refused_inline_for_a_free_seller(app, seller_client, seller):
    token = csrf_token(seller_client, "/auctions/new")
    headers = {"HX-Request": "true", "HX-Trigger-Name": "kind", "X-CSRFToken": token}
    refused = page(seller_client.post("/auctions/new/validate", data={"kind": "sealed_first"}, headers=headers))
    assert "need Premium" in refused.select_one("#err-kind").get_text()
    make_premium(app, seller)
    accepted = page(seller_client.post("/auctions/new/validate", data={"kind": "sealed_first"}, headers=headers))
    assert accepted.select_one("#err-kind").get_text(strip=True) == ""

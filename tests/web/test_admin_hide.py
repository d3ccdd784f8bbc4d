"""Hiding an auction by moderation: out of every listing, its page only for the people in it, no new bids."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from auction.bot.replies.search import search_reply
from auction.extensions import db
from auction.models import AdminAction, Notification, utcnow
from auction.services import bidding, moderation, saved_searches, watchlist
from auction.services.errors import AuctionHidden, NotFound
from auction.services.search import parse_request
from tests.conftest import csrf_token, page, sign_in
from tests.support.bidding_helpers import auction_row, balances, give_stars, new_auction


@pytest.fixture
def admin(make_user):
    return make_user("Ada", is_admin=True)


def client_of(app, user_id=None):
    client = app.test_client()
    if user_id is not None:
        sign_in(client, user_id)
    return client


def titles(html) -> str:
    return html.get_text(" ", strip=True)


def test_a_hidden_auction_leaves_every_listing_but_its_people_still_see_it(app, people, make_user, admin):
    seller, alice, bob = people
    carol = make_user("Carol", telegram_id=700_950_003)
    give_stars(app, carol, 100)
    hidden = new_auction(app, seller, title="Forbidden dragon")
    new_auction(app, seller, title="Plain dragon")
    with app.app_context():
        bidding.place_bid(hidden, alice, 20)
        watchlist.watch(bob, hidden)  # watching without a stake
        watchlist.watch(alice, hidden)

    admin_client = client_of(app, admin)
    token = csrf_token(admin_client, "/admin/auctions")
    form = page(admin_client.get("/admin/auctions")).select_one(f"#auction-{hidden} form[action$='/hide']")
    refused = admin_client.post(form["action"], data={"csrf_token": token, "reason": "  "}, follow_redirects=True)
    assert "Write the reason" in page(refused).select_one(".flash-error").get_text()
    done = admin_client.post(form["action"], data={"csrf_token": token, "reason": "Counterfeit goods"}, follow_redirects=True)
    html = page(done)
    assert "is hidden; the seller was told" in html.select_one(".flash-success").get_text()
    assert "Hidden by moderation: Counterfeit goods" in html.select_one(f"#auction-{hidden}").get_text()
    assert [li["id"] for li in page(admin_client.get("/admin/auctions?hidden=1")).select(".admin-item")] == [f"auction-{hidden}"]

    guest = client_of(app)
    for url in ("/", "/search?q=dragon", f"/users/{seller}"):
        text = titles(page(guest.get(url)))
        assert "Plain dragon" in text and "Forbidden dragon" not in text, url
    assert guest.get(f"/auctions/{hidden}").status_code == 404
    assert client_of(app, bob).get(f"/auctions/{hidden}").status_code == 404  # a watcher with no stake
    for viewer in (seller, alice, admin):
        shown = page(client_of(app, viewer).get(f"/auctions/{hidden}"))
        assert shown.select_one(".moderation-banner").get_text(strip=True) == "Hidden by moderation: Counterfeit goods"

    with app.app_context():
        assert [a.id for a in watchlist.watched_auctions(bob)] == []
        assert [a.id for a in watchlist.watched_auctions(alice)] == [hidden]
        # No new bids while hidden; the bid already made stands, its hold too.
        with pytest.raises(AuctionHidden):
            bidding.place_bid(hidden, carol, 40)
        with pytest.raises(AuctionHidden):
            bidding.place_bid(hidden, alice, 60)
        assert search_reply("dragon", 700_950_003, "en")["text"].count("dragon") == 2  # the query line and Plain dragon
        assert "Forbidden" not in search_reply("dragon", 700_950_003, "en")["text"]
        note = db.session.scalar(select(Notification).where(Notification.user_id == seller, Notification.kind == "auction_hidden"))
        assert note.payload["reason"] == "Counterfeit goods"
        entry = db.session.scalar(select(AdminAction).where(AdminAction.action == "hide_auction"))
        assert entry.before["hidden"] is False and entry.after == {"hidden": True, "reason": "Counterfeit goods", "status": "live"}
    assert balances(app, alice) == (980, 20)

    # Shown again: back everywhere, bids taken.
    form = page(admin_client.get("/admin/auctions")).select_one(f"#auction-{hidden} form[action$='/unhide']")
    admin_client.post(form["action"], data={"csrf_token": token})
    assert "Forbidden dragon" in titles(page(guest.get("/")))
    assert page(guest.get(f"/auctions/{hidden}")).select_one(".moderation-banner") is None
    with app.app_context():
        bidding.place_bid(hidden, carol, 40)
        assert db.session.scalar(select(AdminAction).where(AdminAction.action == "unhide_auction")).after["hidden"] is False
    assert auction_row(app, hidden).hidden_at is None


def test_bidding_through_the_page_on_a_hidden_auction_gets_a_clear_message(app, people, admin):
    seller, alice, _ = people
    auction_id = new_auction(app, seller)
    with app.app_context():
        bidding.place_bid(auction_id, alice, 20)
        moderation.hide_auction(admin, auction_id, "Checking the listing")
    client = client_of(app, alice)
    html = page(client.get(f"/auctions/{auction_id}"))
    assert html.select_one(".moderation-banner")
    response = client.post(f"/auctions/{auction_id}/bids", data={"csrf_token": csrf_token(client, f"/auctions/{auction_id}"), "amount": "50"})
    assert response.status_code == 422  # the bid form again, with the reason
    assert "hidden by moderation; it takes no new bids" in response.get_data(as_text=True)
    assert balances(app, alice) == (980, 20)


def test_a_hidden_auction_sends_no_saved_search_alert(app, make_user, admin):
    seller = make_user("Seller")
    boris = make_user("Boris")
    with app.app_context():
        saved_searches.save_search(boris, parse_request({"q": "dragon"}))
    t0 = utcnow()
    hidden = new_auction(app, seller, title="Hidden dragon", created_at=t0 + timedelta(minutes=2))
    with app.app_context():
        moderation.hide_auction(admin, hidden, "Stolen photos")
        assert saved_searches.alert_saved_searches(t0 + timedelta(minutes=3)) == 0


def test_only_admins_hide(app, people, admin):
    seller, alice, _ = people
    auction_id = new_auction(app, seller)
    with app.app_context():
        with pytest.raises(NotFound):
            moderation.hide_auction(alice, auction_id, "I do not like it")
        with pytest.raises(NotFound):
            moderation.unhide_auction(alice, auction_id)
    assert auction_row(app, auction_id).hidden_at is None


def test_only_bidders_hear_that_a_hidden_auction_ends_soon(app, people, admin):
    seller, alice, bob = people
    auction_id = new_auction(app, seller, ends_at=utcnow() + timedelta(minutes=5))
    with app.app_context():
        bidding.place_bid(auction_id, alice, 20)
        watchlist.watch(bob, auction_id)
        moderation.hide_auction(admin, auction_id, "Under review")
        watchlist.remind_ending_soon()
        told = set(db.session.scalars(select(Notification.user_id).where(Notification.kind == "ending_soon")))
    assert told == {alice}

"""People (issue 13): my activity, public profiles, ratings and reviews, achievements, relisting."""

from __future__ import annotations

import io
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from auction.extensions import db
from auction.models import Auction, Bid, Notification, OutboxMessage, Rating, UserAchievement, utcnow
from auction.services import achievements, bidding, lifecycle, notifications, ratings, relisting
from tests.conftest import csrf_token, page, sign_in
from tests.support.bidding_helpers import end_now, give_stars, new_auction


def _sold(app, seller, buyer, price=50, **fields) -> int:
    """An English auction `buyer` won from `seller` at `price` (its start price, the only bid), closed."""
    fields.setdefault("start_price", price)
    auction_id = new_auction(app, seller, **fields)
    with app.app_context():
        bidding.place_bid(auction_id, buyer, price)
        # The bid came long before the end (a bid in the last minute would earn "sniper").
        db.session.execute(update(Bid).where(Bid.auction_id == auction_id).values(created_at=utcnow() - timedelta(minutes=10)))
        db.session.commit()
    end_now(app, auction_id)
    with app.app_context():
        lifecycle.close_auction(auction_id)
    return auction_id


def _unsold(app, seller, **fields) -> int:
    auction_id = new_auction(app, seller, **fields)
    end_now(app, auction_id)
    with app.app_context():
        lifecycle.close_auction(auction_id)
    return auction_id


def post(client, url, data=None, **kwargs):
    """A form post with the page's CSRF token, as a browser sends it."""
    return client.post(url, data={"csrf_token": csrf_token(client), **(data or {})}, **kwargs)


def _outbox(app, kind):
    with app.app_context():
        return list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == kind).order_by(OutboxMessage.id)))


# --- my activity ----------------------------------------------------------------------


def test_dashboard_bidding_tab_shows_leading_outbid_won_and_lost(app, client, people):
    seller, alice, bob = people
    leading = new_auction(app, seller, title="Leica M3")
    outbid = new_auction(app, seller, title="Rolleiflex")
    won = _sold(app, seller, alice, 40, title="Zeiss lens")
    _sold(app, seller, bob, 30, title="Tripod")
    with app.app_context():
        bidding.place_bid(leading, alice, 20)
        bidding.place_bid(outbid, alice, 20)
        bidding.place_bid(outbid, bob, 60)
    sign_in(client, alice)
    soup = page(client.get("/dashboard"))
    assert "Leica M3" in soup.select_one("#dash-leading").text
    box = soup.select_one("#dash-outbid")
    assert "Rolleiflex" in box.text
    form = box.select_one("form.row-bid")
    assert form["action"] == f"/auctions/{outbid}/bids"
    # Bob's maximum of 60 beats her 20 at 21 (one increment); the least she can offer is 22.
    assert form.select_one("input[name=amount]")["value"] == "22"
    won_box = soup.select_one("#dash-won")
    assert "Zeiss lens" in won_box.text and "Sam" in won_box.text
    assert won_box.select_one(f"a[href='/auctions/{won}/rate']") is not None
    assert soup.select_one("#dash-lost") is None  # she never bid on the tripod


def test_dashboard_lost_tab_after_being_outbid_to_the_end(app, client, people):
    seller, alice, bob = people
    auction_id = new_auction(app, seller, title="Old radio")
    with app.app_context():
        bidding.place_bid(auction_id, alice, 20)
        bidding.place_bid(auction_id, bob, 80)
    end_now(app, auction_id)
    with app.app_context():
        lifecycle.close_auction(auction_id)
    sign_in(client, alice)
    lost = page(client.get("/dashboard")).select_one("#dash-lost")
    assert "Old radio" in lost.text and "hold was released" in lost.text


def test_dashboard_selling_tab_shows_fee_and_what_the_seller_received(app, client, people):
    seller, alice, _ = people
    live = new_auction(app, seller, title="Live camera")
    _sold(app, seller, alice, 400, title="Leica M3")
    _unsold(app, seller, title="Nobody wanted it")
    with app.app_context():
        from auction.services import watchlist

        watchlist.watch(alice, live)
    sign_in(client, seller)
    soup = page(client.get("/dashboard?tab=selling"))
    assert "1 watcher" in soup.select_one("#dash-selling-live").text
    sold = soup.select_one("#dash-sold").text
    assert "400 ⭐" in sold and "−20 ⭐" in sold and "380 ⭐" in sold and "Alice" in sold
    unsold = soup.select_one("#dash-unsold")
    assert unsold.select_one("form.row-relist") is not None


def test_dashboard_tab_is_an_htmx_fragment_and_needs_sign_in(app, client, people):
    seller, alice, _ = people
    assert client.get("/dashboard").status_code == 302
    sign_in(client, alice)
    response = client.get("/dashboard?tab=watching", headers={"HX-Request": "true"})
    assert response.status_code == 200 and "<html" not in response.get_data(as_text=True)
    assert page(response).select_one(".tab[aria-current=page]")["href"].endswith("tab=watching")
    full = page(client.get("/dashboard?tab=nonsense"))
    assert full.select_one(".tab[aria-current=page]")["href"].endswith("tab=bidding")
    assert full.select_one("#dashboard-balance .price").text.strip() == "1,000 ⭐"


def test_header_name_links_to_profile_and_dashboard(app, client, people):
    _, alice, _ = people
    sign_in(client, alice)
    soup = page(client.get("/"))
    assert soup.select_one("a.user-chip")["href"] == f"/users/{alice}"
    assert soup.select_one("a[href='/dashboard']") is not None


# --- profiles -------------------------------------------------------------------------


def test_profile_shows_public_name_never_the_telegram_id_or_last_name(app, client, make_user):
    user = make_user("Alice", last_name="Smithson", username="alice_s", telegram_id=777_000_123)
    text = page(client.get(f"/users/{user}")).text
    assert "Alice S." in text
    assert "Smithson" not in text and "777000123" not in text
    assert client.get("/users/999999").status_code == 404


def test_profile_lists_live_auctions_and_past_sales_and_auction_page_links_seller(app, client, people):
    seller, alice, _ = people
    live = new_auction(app, seller, title="Running now")
    _sold(app, seller, alice, 70, title="Sold before")
    soup = page(client.get(f"/users/{seller}"))
    assert "Running now" in soup.select_one("#live-auctions").text
    assert "Sold before" in soup.select_one("#past-sales").text and "70 ⭐" in soup.select_one("#past-sales").text
    auction_page = page(client.get(f"/auctions/{live}"))
    assert auction_page.select_one(f".seller-name a[href='/users/{seller}']") is not None


# --- ratings --------------------------------------------------------------------------


def test_both_sides_rate_once_and_the_rating_shows_on_profile_and_auction_page(app, client, people):
    seller, alice, _ = people
    auction_id = _sold(app, seller, alice, 60)
    asks = _outbox(app, "rate_request")
    assert sorted(m.user_id for m in asks) == sorted([seller, alice])
    buttons = [b["callback_data"] for row in asks[0].payload["buttons"][:2] for b in row]
    assert buttons == [f"rate:{auction_id}:{s}" for s in range(1, 6)]
    sign_in(client, alice)
    response = post(client, f"/auctions/{auction_id}/rate", data={"score": "5", "comment": "Fast and friendly"})
    assert response.status_code == 303
    soup = page(client.get(f"/users/{seller}"))
    assert "5.0" in soup.select_one("#rating-as-seller").text and "1 rating" in soup.select_one("#rating-as-seller").text
    assert "Fast and friendly" in soup.select_one("#reviews").text
    live = new_auction(app, seller)
    assert "1 rating" in page(client.get(f"/auctions/{live}")).select_one(".seller").text
    # A change within 48 hours replaces it; nothing is added.
    post(client, f"/auctions/{auction_id}/rate", data={"score": "4", "comment": ""})
    with app.app_context():
        assert db.session.scalar(select(func.count(Rating.id))) == 1
        assert db.session.scalar(select(Rating.score)) == 4


def test_rating_by_a_non_party_is_refused_whatever_they_post(app, client, people):
    seller, alice, bob = people
    auction_id = _sold(app, seller, alice, 60)
    sign_in(client, bob)
    assert client.get(f"/auctions/{auction_id}/rate").status_code == 403
    response = post(client, f"/auctions/{auction_id}/rate", data={"score": "1", "comment": "bad"})
    assert response.status_code == 422
    assert "Only the buyer and the seller" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count(Rating.id))) == 0
        with pytest.raises(ratings.NotParty):
            ratings.rate(auction_id, bob, 3)
        # An unsold or running auction has no sides to rate.
        running = new_auction(app, seller)
        with pytest.raises(ratings.NotParty):
            ratings.rate(running, seller, 5)


def test_rating_rules_score_length_windows(app, people):
    seller, alice, _ = people
    auction_id = _sold(app, seller, alice, 60)
    with app.app_context():
        with pytest.raises(ratings.InvalidRating):
            ratings.rate(auction_id, alice, 6)
        with pytest.raises(ratings.CommentTooLong):
            ratings.rate(auction_id, alice, 5, "x" * 1001)
        ratings.rate(auction_id, alice, 5, "x" * 1000)
        rating = db.session.scalar(select(Rating))
        rating.created_at = utcnow() - timedelta(hours=49)
        db.session.commit()
        with pytest.raises(ratings.EditClosed):
            ratings.rate(auction_id, alice, 1)
        auction = db.session.get(Auction, auction_id)
        auction.closed_at = utcnow() - timedelta(days=31)
        db.session.commit()
        with pytest.raises(ratings.RatingClosed):
            ratings.rate(auction_id, seller, 5)


def test_bad_rating_form_input_gets_a_message_not_a_500(app, client, people):
    seller, alice, _ = people
    auction_id = _sold(app, seller, alice, 60)
    sign_in(client, alice)
    response = post(client, f"/auctions/{auction_id}/rate", data={"score": "five", "comment": "kept"})
    assert response.status_code == 422
    soup = page(response)
    assert "Choose from 1 to 5 stars." in soup.select_one(".field-error").text
    assert soup.select_one("textarea").text == "kept"


def test_report_review_and_admin_resolution_hides_it(app, client, people, make_user):
    seller, alice, bob = people
    auction_id = _sold(app, seller, alice, 60)
    with app.app_context():
        rating_id = ratings.rate(auction_id, alice, 1, "Rude words")
    sign_in(client, bob)
    response = post(client, f"/reviews/{rating_id}/report", data={"reason": "insults", "next": f"/users/{seller}"})
    assert response.status_code == 303
    again = post(client, f"/reviews/{rating_id}/report", data={"reason": "again", "next": f"/users/{seller}"}, follow_redirects=True)
    assert "reported this review already" in again.get_data(as_text=True)
    admin = make_user("Ada", is_admin=True)
    with app.app_context():
        reports = ratings.reported_reviews()
        assert [r.rating_id for r in reports] == [rating_id]
        with pytest.raises(ratings.Forbidden):
            ratings.resolve_report(reports[0].id, bob, uphold=True)
        ratings.resolve_report(reports[0].id, admin, uphold=True)
        assert ratings.reported_reviews() == []
    assert "Rude words" not in page(client.get(f"/users/{seller}")).text


# --- achievements ---------------------------------------------------------------------


def _codes(app, user_id):
    with app.app_context():
        return {b.code for b in achievements.badges(user_id) if b.awarded}


def test_first_bid_first_win_and_first_sale_are_awarded_once_with_a_notification(app, client, people):
    seller, alice, _ = people
    _sold(app, seller, alice, 60)
    _sold(app, seller, alice, 70)
    assert {"first_bid", "first_win"} <= _codes(app, alice)
    assert "first_sale" in _codes(app, seller)
    told = [m for m in _outbox(app, "achievement") if m.user_id == alice and m.channel == "telegram"]
    assert len(told) == 2 and all("New badge" in m.payload["text"] for m in told)
    with app.app_context():
        keys = db.session.scalars(select(Notification.dedupe_key).where(Notification.kind == "achievement", Notification.user_id == alice))
        assert sorted(keys) == sorted([f"achievement:first_bid:{alice}", f"achievement:first_win:{alice}"])
    soup = page(client.get(f"/users/{alice}"))
    assert "badge-awarded" in soup.select_one("#badge-first_win")["class"]
    assert "2 of 10" in soup.select_one("#badge-wins_10").text
    # Large thresholds are grouped the way the viewer's language groups numbers.
    assert soup.select_one("#badge-big_spender .badge-count").get_text(strip=True) == "130 of 10,000"


def test_early_bird_collector_big_spender_and_sniper(app, people, make_user):
    from auction.models import Category

    seller, alice, _ = people
    give_stars(app, alice, 20_000)
    with app.app_context():
        categories = [Category(slug=f"c{i}", name_en=f"C{i}", name_ru=f"К{i}") for i in range(5)]
        db.session.add_all(categories)
        db.session.commit()
        category_ids = [c.id for c in categories]
    for number, category_id in enumerate(category_ids):
        _sold(app, seller, alice, 2_100 if number < 4 else 2_000, category_id=category_id)
    codes = _codes(app, alice)
    assert {"early_bird", "collector", "big_spender"} <= codes
    assert "sniper" not in codes
    # A bid in the last minute that wins.
    auction_id = new_auction(app, seller, ends_at=utcnow() + timedelta(seconds=30), snipe_extension_seconds=30)
    with app.app_context():
        bidding.place_bid(auction_id, alice, 20)
    end_now(app, auction_id)
    with app.app_context():
        lifecycle.close_auction(auction_id)
    assert "sniper" in _codes(app, alice)


def test_trusted_seller_needs_ten_ratings_averaging_4_8(app, people, make_user):
    seller, _, _ = people
    buyers = [make_user(f"Buyer{i}") for i in range(10)]
    for number, buyer in enumerate(buyers):
        give_stars(app, buyer, 100)
        auction_id = _sold(app, seller, buyer, 20)
        with app.app_context():
            ratings.rate(auction_id, buyer, 4 if number == 0 else 5)
            if number == 8:
                assert "trusted_seller" not in {b.code for b in achievements.badges(seller) if b.awarded}
    assert "trusted_seller" in _codes(app, seller)


def test_an_achievement_is_awarded_once_under_20_concurrent_threads(app, people):
    seller, alice, _ = people
    auction_id = new_auction(app, seller)
    with app.app_context():
        bidding.place_bid(auction_id, alice, 20)
        # Forget the badges the bid earned, as if they had never been evaluated.
        db.session.execute(UserAchievement.__table__.delete())
        db.session.execute(OutboxMessage.__table__.delete().where(OutboxMessage.kind == "achievement"))
        db.session.execute(Notification.__table__.delete().where(Notification.kind == "achievement"))
        db.session.commit()
    barrier = threading.Barrier(20)
    results, errors = [], []

    def award():
        with app.app_context():
            try:
                barrier.wait()
                results.append(achievements.recheck(alice))
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=award) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sum(r.count("first_bid") for r in results) == 1
    with app.app_context():
        assert db.session.scalar(select(func.count(UserAchievement.id))) == 1
    assert len(_outbox(app, "achievement")) == 1


def test_a_racing_second_award_meets_the_unique_constraint_and_tells_nobody(app, people):
    """What the loser of a race sees: the row is there although its own read said it was not."""
    from auction.services.transaction import atomic

    _, alice, _ = people
    rule = achievements.RULES["first_win"]
    award = atomic(achievements._award)
    with app.app_context():
        assert award(alice, rule) is True
        assert award(alice, rule) is False
        assert db.session.scalar(select(func.count(UserAchievement.id))) == 1
    assert len(_outbox(app, "achievement")) == 1


# --- relisting ------------------------------------------------------------------------


def test_relist_now_copies_photos_and_terms_and_only_once(app, client, people):
    from auction.services.demo import demo_photo
    from auction.services.listings import ListingDraft, create_listing

    seller, _, bob = people
    draft = ListingDraft(title="Chess set", description="Wooden.", start_price=10, duration=timedelta(hours=3),
                         photos=[demo_photo("Chess", seed) for seed in range(2)])
    with app.app_context():
        auction_id = create_listing(seller, draft)
    end_now(app, auction_id)
    with app.app_context():
        lifecycle.close_auction(auction_id)
    sign_in(client, bob)
    assert post(client, f"/auctions/{auction_id}/relist", data={"when": "now"}).status_code == 403
    sign_in(client, seller)
    response = post(client, f"/auctions/{auction_id}/relist", data={"when": "now"})
    assert response.status_code == 303
    new_id = int(response.headers["Location"].rsplit("/", 1)[1])
    with app.app_context():
        old, new = db.session.get(Auction, auction_id), db.session.get(Auction, new_id)
        assert new.status == "live" and new.title == old.title and new.start_price == old.start_price
        assert len(new.images) == len(old.images) and new.images[0].large_path != old.images[0].large_path
        assert old.relisted_as_id == new_id
        with pytest.raises(relisting.CannotRelist):
            relisting.relist(auction_id, seller)


def test_relist_later_schedules_and_a_sold_auction_cannot_be_relisted(app, client, people):
    seller, alice, _ = people
    unsold = _unsold(app, seller)
    sold = _sold(app, seller, alice, 40)
    sign_in(client, seller)
    later = (utcnow() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    response = post(client, f"/auctions/{unsold}/relist", data={"when": "later", "starts_at": later})
    new_id = int(response.headers["Location"].rsplit("/", 1)[1])
    with app.app_context():
        assert db.session.get(Auction, new_id).status == "scheduled"
    refused = post(client, f"/auctions/{sold}/relist", data={"when": "now"}, follow_redirects=True)
    assert "Only an auction that ended unsold can be relisted" in refused.get_data(as_text=True)
    bad = post(client, f"/auctions/{unsold}/relist", data={"when": "later", "starts_at": "soon"}, follow_redirects=True)
    assert bad.status_code == 200


def test_automatic_relist_runs_up_to_n_times(app, people):
    seller, _, _ = people
    auction_id = new_auction(app, seller, relists_left=2)
    chain = [auction_id]
    for _ in range(3):
        end_now(app, chain[-1])
        with app.app_context():
            lifecycle.close_auction(chain[-1])
            next_id = db.session.get(Auction, chain[-1]).relisted_as_id
        if next_id is None:
            break
        chain.append(next_id)
    assert len(chain) == 3


def test_listing_form_shows_the_fee_and_sets_automatic_relists(app, client, people):
    from auction.services.demo import demo_photo

    seller, _, _ = people
    sign_in(client, seller)
    form = page(client.get("/auctions/new"))
    assert "Platform fee: 5% of the final price" in form.select_one("#listing-fee").text
    data = {"title": "Lamp", "description": "", "kind": "english", "start_price": "10", "duration_value": "1",
            "duration_unit": "days", "start_mode": "now", "relists": "2"}
    refused = post(client, "/auctions/new", data={**data, "relists": "11", "photos": (io.BytesIO(demo_photo("Lamp", 1)), "lamp.jpg")},
                   content_type="multipart/form-data")
    assert refused.status_code == 422 and "from 0 to 10 times" in refused.get_data(as_text=True)
    created = post(client, "/auctions/new", data={**data, "photos": (io.BytesIO(demo_photo("Lamp", 1)), "lamp.jpg")},
                   content_type="multipart/form-data")
    assert created.status_code in (302, 303)
    with app.app_context():
        assert db.session.scalar(select(Auction.relists_left).where(Auction.title == "Lamp")) == 2


def test_badges_and_rating_requests_are_notification_kinds_that_follow_preferences(app, client, people):
    seller, alice, _ = people
    with app.app_context():
        notifications.set_preference(alice, "achievement", "telegram", False)
        db.session.remove()
    auction_id = _sold(app, seller, alice, 60)
    assert [m.user_id for m in _outbox(app, "achievement") if m.channel == "telegram"] == [seller]  # alice turned them off
    sign_in(client, alice)
    centre = page(client.get("/notifications")).text
    assert "New badge" in centre and "First bid" in centre  # the site still tells her
    asks = [m for m in _outbox(app, "rate_request") if m.user_id == alice]
    assert len(asks) == 1 and "Rate the seller" in asks[0].payload["text"]
    assert asks[0].next_attempt_at >= utcnow() + timedelta(minutes=59)  # after the sale's own messages
    assert asks[0].payload["buttons"][2][0]["url"].endswith(f"/auctions/{auction_id}/rate")
    assert page(client.get("/notifications")).select_one(f"a[href='/auctions/{auction_id}/rate']") is not None

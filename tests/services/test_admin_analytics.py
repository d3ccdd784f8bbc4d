"""Analytics numbers against a dataset built through the real services, with some rows moved into the past."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from auction.extensions import db
from auction.models import Auction, Bid, Category, User, utcnow
from auction.services import analytics, bidding, lifecycle, payments
from auction.services.ledger import fee_for
from tests.conftest import page, sign_in
from tests.support.bidding_helpers import end_now, give_stars, new_auction


def test_a_known_dataset(app, make_user):
    today = utcnow().date()
    with app.app_context():
        category = Category(slug="gifts", name_en="Telegram gifts", name_ru="Подарки Telegram")
        db.session.add(category)
        db.session.commit()
        category_id = category.id
    seller = make_user("Sam")
    alice = make_user("Alice", telegram_id=555_100_001)
    bob = make_user("Bob")
    old = make_user("Old")
    with app.app_context():
        db.session.get(User, old).created_at = utcnow() - timedelta(days=60)
        db.session.commit()
    give_stars(app, bob, 1_000)
    with app.app_context():
        purchase = payments.start_purchase(alice, 300, "bot")
        payments.complete_payment(555_100_001, purchase.payload, 300, "XTR", "tg-analytics-1", "")

    sold = new_auction(app, seller, start_price=100, category_id=category_id)
    new_auction(app, seller, kind="dutch", start_price=500, dutch_floor=100, dutch_step=10, dutch_interval_seconds=60)
    canceled = new_auction(app, seller, category_id=category_id)
    long_ago = new_auction(app, seller, title="Old listing")
    with app.app_context():
        bidding.place_bid(sold, alice, 200, source="web")
        bidding.place_bid(sold, bob, 150, source="web")
        lifecycle.cancel_auction(canceled, seller)
        db.session.get(Auction, long_ago).created_at = utcnow() - timedelta(days=40)
        db.session.commit()
    end_now(app, sold)
    with app.app_context():
        lifecycle.close_auction(sold)
        final_price = db.session.get(Auction, sold).final_price
        bid_rows = db.session.scalar(select(func.count()).select_from(Bid))

        start, end = analytics.date_range(today - timedelta(days=6), today, today)
        report = analytics.report(start, end)

    assert final_price > 100
    assert (report.people_total, report.people_new) == (4, 3)
    assert report.people_bidding == 2
    assert report.auctions_by_status == {"ended": 1, "live": 1, "canceled": 1}
    assert report.auctions_by_kind == {"english": 2, "dutch": 1}
    assert report.bids.total == bid_rows and report.bids.days[-1] == (today, bid_rows)
    assert len(report.bids.days) == 7 and report.bids.bars[-1].height == 100
    assert (report.gross_volume, report.sales) == (final_price, 1)
    assert report.fees == fee_for(final_price, app.config["PLATFORM_FEE_PERCENT"])
    assert report.revenue == report.fees and report.other_revenue == 0
    assert (report.stars_bought, report.stars_refunded) == (300, 0)
    assert [(c.name, c.count, c.volume) for c in report.top_categories] == [("Telegram gifts", 2, final_price)]
    assert [(s.name, s.count, s.volume) for s in report.top_sellers] == [("Sam", 1, final_price)]

    # Yesterday alone: nothing happened then.
    with app.app_context():
        quiet = analytics.report(today - timedelta(days=1), today - timedelta(days=1))
    assert (quiet.people_new, quiet.bids.total, quiet.gross_volume, quiet.fees) == (0, 0, 0, 0)

    admin = make_user("Ada", is_admin=True)
    client = app.test_client()
    sign_in(client, admin)
    html = page(client.get(f"/admin/?start={start.isoformat()}&end={end.isoformat()}"))
    assert html.select_one("[data-figure=gross_volume]").get_text(strip=True) == f"{final_price} ⭐"
    assert html.select_one("[data-figure=bids_total]").get_text(strip=True) == str(bid_rows)
    assert len(html.select("#bids svg rect")) == 7
    # A mistyped or reversed range still renders: the default range, or the ends swapped.
    assert client.get("/admin/?start=yesterday&end=2026-13-45").status_code == 200
    swapped = page(client.get(f"/admin/?start={end.isoformat()}&end={start.isoformat()}"))
    assert swapped.select_one("#range-start")["value"] == start.isoformat()


def test_date_range_defaults_and_limits():
    from datetime import date

    today = date(2026, 11, 30)
    assert analytics.date_range(None, None, today) == (date(2026, 11, 1), today)
    assert analytics.date_range(date(2020, 1, 1), today, today)[0] == today - timedelta(days=analytics.MAX_DAYS - 1)

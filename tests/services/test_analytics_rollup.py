"""The per-day totals kept for complete days (`analytics_daily`) against the bids and sales themselves."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import select

from auction.extensions import db
from auction.jobs import JOBS
from auction.models import AnalyticsDay, Auction, Bid, utcnow
from auction.services import analytics, bidding, lifecycle
from tests.conftest import page, sign_in
from tests.support.bidding_helpers import end_now, give_stars, new_auction


def _at(day, hour: int = 12) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=UTC)


def _dataset(app, make_user, today):
    """Bids on three past days and today, two sales on past days; returns nothing, the rows say it all."""
    seller = make_user("Sam")
    alice, bob = make_user("Alice"), make_user("Bob")
    give_stars(app, alice, 5_000)
    give_stars(app, bob, 5_000)
    first, second, live = (new_auction(app, seller, start_price=100) for _ in range(3))
    with app.app_context():
        for auction_id in (first, second, live):
            bidding.place_bid(auction_id, alice, 150, source="web")
            bidding.place_bid(auction_id, bob, 200, source="web")
    for auction_id in (first, second):
        end_now(app, auction_id)
        with app.app_context():
            lifecycle.close_auction(auction_id)
    with app.app_context():
        # Moved into the past: the first auction's bids five and four days ago and its sale four
        # days ago (one second before midnight: the edge of the day), the second's two days ago.
        bids = {b.id: b for b in db.session.scalars(select(Bid).order_by(Bid.id))}
        ids = sorted(bids)
        bids[ids[0]].created_at = _at(today - timedelta(days=5))
        bids[ids[1]].created_at = _at(today - timedelta(days=4))
        bids[ids[2]].created_at = _at(today - timedelta(days=2), 0)
        bids[ids[3]].created_at = _at(today - timedelta(days=2), 23)
        db.session.get(Auction, first).closed_at = _at(today - timedelta(days=3), 0) - timedelta(seconds=1)
        db.session.get(Auction, second).closed_at = _at(today - timedelta(days=2), 0)
        db.session.commit()


def _truth(start, end) -> dict:
    """Each day's bids, sales and volume counted in Python from every row: the reference."""
    bids = Counter(b.created_at.astimezone(UTC).date() for b in db.session.scalars(select(Bid)))
    sales, volume = Counter(), Counter()
    for a in db.session.scalars(select(Auction).where(Auction.status == "ended", Auction.winner_id.is_not(None))):
        day = a.closed_at.astimezone(UTC).date()
        sales[day] += 1
        volume[day] += a.final_price
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    return {day: (bids[day], sales[day], volume[day]) for day in days}


def _kept() -> dict:
    return {row.day: (row.bids, row.sales, row.volume) for row in db.session.scalars(select(AnalyticsDay))}


def test_roll_up_equals_the_rows_is_idempotent_and_leaves_today_out(app, make_user):
    today = utcnow().date()
    _dataset(app, make_user, today)
    with app.app_context():
        written = analytics.roll_up(today)
        kept = _kept()
        truth = _truth(today - timedelta(days=analytics.MAX_DAYS), today)
        assert written == analytics.MAX_DAYS
        assert today not in kept and max(kept) == today - timedelta(days=1)
        assert kept == {day: figures for day, figures in truth.items() if day != today}
        assert kept[today - timedelta(days=2)][0] == 2 and kept[today - timedelta(days=4)][1] == 1
        assert truth[today][0] == 2  # the live auction's bids: today, counted live only

        # Run again (a second process, a restart): only the last days are counted again, same figures.
        assert analytics.roll_up(today) == analytics.REFRESH_DAYS
        assert _kept() == kept

        # The report reads the kept days and counts today live: the same as the rows say.
        report = analytics.report(today - timedelta(days=6), today, today=today)
        expected = _truth(today - timedelta(days=6), today)
        assert report.bids.days == [(day, figures[0]) for day, figures in expected.items()]
        assert report.volume.days == [(day, figures[2]) for day, figures in expected.items()]
        assert report.sales == 2 and report.gross_volume == sum(figures[2] for figures in expected.values()) > 200


    # A bid placed now shows at once: today is never taken from the table.
    cy = make_user("Cy")
    give_stars(app, cy, 1_000)
    with app.app_context():
        live = db.session.scalar(select(Auction.id).where(Auction.status == "live"))
        bidding.place_bid(live, cy, 300, source="web")
        assert analytics.report(today, today, today=today).bids.total == 3
        assert today not in _kept()


def test_a_missing_day_is_counted_on_demand_and_a_late_row_reaches_it(app, make_user):
    today = utcnow().date()
    _dataset(app, make_user, today)
    admin = make_user("Ada", is_admin=True)
    client = app.test_client()
    sign_in(client, admin)
    start = today - timedelta(days=6)
    # No job has run yet (just after a restart): the page is right all the same, and keeps the days it counted.
    html = page(client.get(f"/admin/?start={start.isoformat()}&end={today.isoformat()}"))
    assert html.select_one("[data-figure=bids_total]").get_text(strip=True) == "6"
    with app.app_context():
        sold = sum(db.session.scalars(select(Auction.final_price).where(Auction.status == "ended")))
        assert html.select_one("[data-figure=gross_volume]").get_text(strip=True) == f"{sold} ⭐"
        kept = _kept()
        assert sorted(kept) == [start + timedelta(days=i) for i in range(6)]
        assert kept == {day: figures for day, figures in _truth(start, today).items() if day != today}

        # A row stamped before midnight whose transaction committed after the day was kept: the
        # next run counts the last REFRESH_DAYS days again and takes it in.
        late = db.session.scalar(select(Bid).where(Bid.created_at >= _at(today, 0)).order_by(Bid.id))
        late.created_at = _at(today - timedelta(days=1), 23)
        db.session.commit()
        assert _kept()[today - timedelta(days=1)][0] == 0
        analytics.roll_up(today)
        assert _kept()[today - timedelta(days=1)][0] == 1
        assert _kept() == {day: figures for day, figures in _truth(today - timedelta(days=analytics.MAX_DAYS), today).items()
                           if day != today}
    html = page(client.get(f"/admin/?start={start.isoformat()}&end={today.isoformat()}"))
    assert html.select_one("[data-figure=bids_total]").get_text(strip=True) == "6"
    assert len(html.select("#bids svg rect")) == 7


def test_the_roll_up_is_a_scheduled_job():
    assert any(job.run is analytics.roll_up for job in JOBS)

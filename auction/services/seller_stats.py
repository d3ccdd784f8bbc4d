"""Seller statistics (a Premium feature): views, new watchers and bids per UTC day, per auction and in total.

Views come from `auction_views` (services/view_counts.py), watchers from the watch list's
`created_at` (people who still watch), bids from the bids' `created_at`; every figure is a
whole count, every day a UTC day.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import or_, select

from auction.extensions import db
from auction.models import Auction, AuctionView, Bid, WatchlistEntry, utcnow
from auction.services import premium

STATS_DAYS = 14  # days shown, today included
STATS_AUCTIONS = 20  # the seller's auctions shown, the latest first


@dataclass(frozen=True)
class DailySeries:
    """Counts per day for `days` (oldest first): page views, new watchers and bids."""

    days: tuple[date, ...]
    views: tuple[int, ...]
    watchers: tuple[int, ...]
    bids: tuple[int, ...]

    @property
    def total_views(self) -> int:
        return sum(self.views)

    @property
    def total_watchers(self) -> int:
        return sum(self.watchers)

    @property
    def total_bids(self) -> int:
        return sum(self.bids)


@dataclass(frozen=True)
class AuctionStats:
    auction_id: int
    title: str
    status: str
    series: DailySeries


@dataclass(frozen=True)
class SellerStats:
    """The dashboard's statistics panel: `premium` False means the panel only tells what Premium would show."""

    premium: bool
    total: DailySeries | None = None
    auctions: tuple[AuctionStats, ...] = ()


def _series(days: list[date], views: Counter, watchers: Counter, bids: Counter, key) -> DailySeries:
    return DailySeries(
        tuple(days),
        tuple(views[(key, d)] for d in days),
        tuple(watchers[(key, d)] for d in days),
        tuple(bids[(key, d)] for d in days),
    )


def seller_statistics(seller_id: int, at: datetime | None = None, days: int = STATS_DAYS) -> SellerStats:
    """The seller's statistics over the `days` UTC days up to `at` (default now); only with Premium at `at`."""
    at = at or utcnow()
    if not premium.is_premium(seller_id, at):
        return SellerStats(premium=False)
    first = at.date() - timedelta(days=days - 1)
    since = datetime.combine(first, datetime.min.time(), tzinfo=at.tzinfo)
    span = [first + timedelta(days=n) for n in range(days)]
    auctions = db.session.execute(
        select(Auction.id, Auction.title, Auction.status)
        .where(Auction.seller_id == seller_id, or_(Auction.closed_at.is_(None), Auction.closed_at >= since), Auction.starts_at <= at)
        .order_by(Auction.starts_at.desc(), Auction.id.desc())
        .limit(STATS_AUCTIONS)
    ).all()
    ids = [row.id for row in auctions]
    views: Counter = Counter()
    watchers: Counter = Counter()
    bids: Counter = Counter()
    if ids:
        for auction_id, day, count in db.session.execute(
            select(AuctionView.auction_id, AuctionView.day, AuctionView.count).where(AuctionView.auction_id.in_(ids), AuctionView.day >= first)
        ):
            views[(auction_id, day)] += count
        for auction_id, created in db.session.execute(
            select(WatchlistEntry.auction_id, WatchlistEntry.created_at).where(WatchlistEntry.auction_id.in_(ids), WatchlistEntry.created_at >= since)
        ):
            watchers[(auction_id, created.date())] += 1
        for auction_id, created in db.session.execute(
            select(Bid.auction_id, Bid.created_at).where(Bid.auction_id.in_(ids), Bid.created_at >= since)
        ):
            bids[(auction_id, created.date())] += 1
    totals = [Counter({(None, d): sum(c[(i, d)] for i in ids) for d in span}) for c in (views, watchers, bids)]
    return SellerStats(
        premium=True,
        total=_series(span, *totals, key=None),
        auctions=tuple(AuctionStats(row.id, row.title, row.status, _series(span, views, watchers, bids, row.id)) for row in auctions),
    )

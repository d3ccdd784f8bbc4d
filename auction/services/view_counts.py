"""Counting auction page views for the sellers' statistics without a write per page view.

An auction page GET is a read; making it a write would queue every visitor behind the bid
path (on SQLite one writer at a time). So a view only adds 1 to a counter in this process's
memory, and the `flush_views` job adds the counters to `auction_views` (one row per auction
and UTC day) once a minute, in one short transaction. Each process counts and adds its own (the
job runs in every process, scheduler leader or not, and once more at shutdown), so several
processes add up; what a process counted in its last minute before a crash is lost, which a
statistic can afford.
"""

from __future__ import annotations

import threading
from collections import Counter
from datetime import date, datetime

from flask import current_app
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from auction.extensions import db
from auction.models import Auction, AuctionView, utcnow
from auction.services.transaction import atomic


class ViewCounter:
    """The views one app counted since its last flush, keyed by (auction id, UTC day)."""

    def __init__(self) -> None:
        self.pending: Counter[tuple[int, date]] = Counter()
        self.lock = threading.Lock()

    def add(self, auction_id: int, day: date) -> None:
        with self.lock:
            self.pending[(auction_id, day)] += 1

    def take(self) -> Counter[tuple[int, date]]:
        with self.lock:
            taken, self.pending = self.pending, Counter()
        return taken

    def give_back(self, counts: Counter[tuple[int, date]]) -> None:
        with self.lock:
            self.pending.update(counts)


def _counter() -> ViewCounter:
    # One per app (and so per database): tests run many apps in one process.
    return current_app.extensions.setdefault("view_counts", ViewCounter())


def count_view(auction_id: int, by_seller: bool = False, at: datetime | None = None) -> None:
    """Count one page view of the auction on the UTC day of `at` (default now); no database work.

    The seller looking at their own auction is not a view (`by_seller`).
    """
    if not by_seller:
        _counter().add(auction_id, (at or utcnow()).date())


@atomic
def _add(counts: Counter[tuple[int, date]]) -> None:
    existing = set(db.session.scalars(select(Auction.id).where(Auction.id.in_({auction_id for auction_id, _ in counts}))))
    rows = [{"auction_id": a, "day": day, "count": n} for (a, day), n in sorted(counts.items()) if a in existing]
    if not rows:
        return
    insert = postgresql.insert if db.engine.dialect.name == "postgresql" else sqlite.insert
    statement = insert(AuctionView).values(rows)
    db.session.execute(
        statement.on_conflict_do_update(
            index_elements=[AuctionView.auction_id, AuctionView.day], set_={"count": AuctionView.count + statement.excluded.count}
        )
    )


def flush_views() -> int:
    """Add the views counted since the last flush to `auction_views`; returns how many. Kept for the next run if it fails."""
    counter = _counter()
    counts = counter.take()
    if not counts:
        return 0
    try:
        _add(counts)
    except Exception:
        counter.give_back(counts)
        raise
    return sum(counts.values())

"""Counting auction page views for the sellers' statistics without a write per page view.

An auction page GET is a read; making it a write would queue every visitor behind the bid
path (on SQLite one writer at a time). So a view only adds 1 to a counter in this process's
memory, and the `flush_views` job adds the counters to `auction_views` (one row per auction
and UTC day) once a minute, in one short transaction. Each process counts and adds its own, so
several processes add up; what a process counted in its last minute before a crash is lost,
which a statistic can afford.
"""

from __future__ import annotations

import threading
from collections import Counter
from datetime import date, datetime

from sqlalchemy.dialects import postgresql, sqlite

from auction.extensions import db
from auction.models import AuctionView, utcnow
from auction.services.transaction import atomic

_pending: Counter[tuple[int, date]] = Counter()
_lock = threading.Lock()


def count_view(auction_id: int, at: datetime | None = None) -> None:
    """Count one page view of the auction on the UTC day of `at` (default now); no database work."""
    day = (at or utcnow()).date()
    with _lock:
        _pending[(auction_id, day)] += 1


def _take() -> Counter[tuple[int, date]]:
    global _pending
    with _lock:
        taken, _pending = _pending, Counter()
    return taken


def _give_back(counts: Counter[tuple[int, date]]) -> None:
    with _lock:
        _pending.update(counts)


@atomic
def _add(counts: Counter[tuple[int, date]]) -> None:
    insert = postgresql.insert if db.engine.dialect.name == "postgresql" else sqlite.insert
    rows = [{"auction_id": auction_id, "day": day, "count": n} for (auction_id, day), n in sorted(counts.items())]
    statement = insert(AuctionView).values(rows)
    db.session.execute(
        statement.on_conflict_do_update(
            index_elements=[AuctionView.auction_id, AuctionView.day], set_={"count": AuctionView.count + statement.excluded.count}
        )
    )


def flush_views() -> int:
    """Add the views counted since the last flush to `auction_views`; returns how many. Kept for the next run if it fails."""
    counts = _take()
    if not counts:
        return 0
    try:
        _add(counts)
    except Exception:
        _give_back(counts)
        raise
    return sum(counts.values())

"""Watchlists: the auctions a user follows (the page shows how many people watch each one),
and the bot's reminder when a watched auction is about to end."""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from auction.extensions import db
from auction.models import Auction, Bid, WatchlistEntry, utcnow
from auction.services import events, notifications, rules
from auction.services.errors import Forbidden, NotFound, ServiceError
from auction.services.transaction import atomic, emit


class AuctionOver(ServiceError):
    message = _l("This auction is over; there is nothing left to watch.")
    status = 409


class OwnAuction(Forbidden):
    message = _l("You cannot watch your own auction.")


@atomic
def watch(user_id: int, auction_id: int) -> bool:
    """Follow an open auction; True when it was not on the user's watchlist before."""
    auction = db.session.get(Auction, auction_id)
    if auction is None:
        raise NotFound()
    if auction.seller_id == user_id:
        raise OwnAuction()
    if auction.status not in rules.OPEN_STATUSES or auction.ends_at <= utcnow():
        raise AuctionOver()
    if is_watching(user_id, auction_id):
        return False
    try:
        # Two presses at once on PostgreSQL: the unique constraint refuses the second
        # insert; the savepoint keeps the rest of the transaction usable.
        with db.session.begin_nested():
            db.session.add(WatchlistEntry(user_id=user_id, auction_id=auction_id))
    except IntegrityError:
        return False
    _announce_watchers(auction_id)
    return True


@atomic
def unwatch(user_id: int, auction_id: int) -> bool:
    """Stop following an auction; True when it was on the watchlist."""
    removed = db.session.execute(
        delete(WatchlistEntry).where(WatchlistEntry.user_id == user_id, WatchlistEntry.auction_id == auction_id)
    )
    if removed.rowcount == 0:
        return False
    _announce_watchers(auction_id)
    return True


def set_watching(user_id: int, auction_id: int, on: bool) -> bool:
    """Watch (`on`) or stop watching: the toggle of the web page and the bot's card; True when it changed."""
    return watch(user_id, auction_id) if on else unwatch(user_id, auction_id)


def _announce_watchers(auction_id: int) -> None:
    # The count itself is read when the fragment is rendered, after commit.
    emit(*events.watchers_changed(auction_id))


def is_watching(user_id: int | None, auction_id: int) -> bool:
    if user_id is None:
        return False
    found = db.session.scalar(
        select(WatchlistEntry.id).where(WatchlistEntry.user_id == user_id, WatchlistEntry.auction_id == auction_id)
    )
    return found is not None


def watchers_count(auction_id: int) -> int:
    return db.session.scalar(select(func.count(WatchlistEntry.id)).where(WatchlistEntry.auction_id == auction_id)) or 0


def watched_auctions(user_id: int, include_closed: bool = False) -> list[Auction]:
    """The user's watchlist, the auctions ending soonest first.

    An auction hidden by moderation stays only where the user has a stake in it (a bid).
    """
    stake = select(Bid.id).where(Bid.auction_id == Auction.id, Bid.bidder_id == user_id).exists()
    query = (
        select(Auction)
        .join(WatchlistEntry, WatchlistEntry.auction_id == Auction.id)
        .where(WatchlistEntry.user_id == user_id, or_(Auction.hidden_at.is_(None), stake))
        .options(selectinload(Auction.images))
        .order_by(Auction.ends_at, Auction.id)
    )
    if not include_closed:
        query = query.where(Auction.status.in_(rules.OPEN_STATUSES), Auction.ends_at > utcnow())
    return list(db.session.scalars(query))


def remind_ending_soon(now: datetime | None = None) -> int:
    """Remind watchers and bidders that an auction ends soon (services/notifications.py); returns how many."""
    return notifications.remind_ending_soon(now)

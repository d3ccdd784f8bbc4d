"""One auction row inside a write transaction: locking it, opening it by the clock, the
checks every offer passes, and recording a bid. Shared by bidding, the lifecycle and listings.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from auction.extensions import db
from auction.models import Auction, Bid, User
from auction.services import events, notifications, rules
from auction.services.errors import (
    AuctionClosed,
    AuctionHidden,
    AuctionNotStarted,
    BidderSuspended,
    NotFound,
    OwnAuction,
)
from auction.services.transaction import emit


def lock_auction(auction_id: int) -> Auction:
    """The auction row, locked for this transaction; raises NotFound."""
    # FOR UPDATE serialises writers on PostgreSQL; SQLite omits it (BEGIN IMMEDIATE already
    # serialises writers). populate_existing refreshes a row an earlier read left in the session.
    auction = db.session.scalars(
        select(Auction).where(Auction.id == auction_id).with_for_update().execution_options(populate_existing=True)
    ).first()
    if auction is None:
        raise NotFound()
    return auction


def open_if_due(auction: Auction, now: datetime) -> None:
    """Scheduled auctions open by the clock (UTC), whether or not the job has run yet."""
    if auction.status == "scheduled" and auction.starts_at <= now:
        auction.status = "live"
        emit(*events.auction_opened(auction.id))
        emit(*events.auction_created(auction.id))  # now it belongs on the home page
        emit(*events.listing_repriced(auction))  # its card there turns from "Opens in" to "Ends in"
        for event in events.auction_viewers(auction.id, [auction.seller_id]):
            emit(*event)
        notifications.auction_opened(auction)


def check_open(auction: Auction, now: datetime) -> None:
    """Raises AuctionNotStarted, AuctionClosed or AuctionHidden unless the auction takes offers at `now`.

    A hidden auction (moderation) keeps running to its end, but takes no new offers while hidden.
    """
    open_if_due(auction, now)
    if auction.status == "scheduled":
        raise AuctionNotStarted()
    if not rules.takes_offers(auction.status, auction.starts_at, auction.ends_at, now):
        raise AuctionClosed()
    if auction.hidden_at is not None:
        raise AuctionHidden()


def check_bidder(auction: Auction, bidder: User | None) -> User:
    """Raises NotFound, BidderSuspended or OwnAuction unless `bidder` may make offers here."""
    if bidder is None:
        raise NotFound()
    if bidder.is_suspended:
        raise BidderSuspended()
    if auction.seller_id == bidder.id:
        raise OwnAuction()
    return bidder


def leader_max(auction: Auction) -> int | None:
    """The English leader's proxy maximum in Stars (never shown to anyone else)."""
    if auction.leading_bidder_id is None:
        return None
    return db.session.scalar(
        select(func.max(Bid.max_amount)).where(Bid.auction_id == auction.id, Bid.bidder_id == auction.leading_bidder_id)
    )


def current_dutch_price(auction: Auction, now: datetime) -> int:
    """A Dutch auction's price in Stars at `now` by the server clock."""
    return rules.dutch_price(
        auction.start_price, auction.dutch_floor, auction.dutch_step, auction.dutch_interval_seconds, auction.starts_at, now
    )


def min_next(auction: Auction) -> int:
    """The minimum next bid (English) or the start price (sealed), in Stars."""
    if auction.kind == "english":
        return rules.min_next_bid(auction.start_price, auction.current_price, auction.leading_bidder_id is not None, auction.increment)
    return auction.start_price


def record_bid(auction: Auction, bidder_id: int, amount: int, max_amount: int | None, kind: str, source: str, now: datetime, automatic: bool = False) -> Bid:
    bid = Bid(
        auction_id=auction.id,
        bidder_id=bidder_id,
        kind=kind,
        amount=amount,
        max_amount=max_amount,
        is_automatic=automatic,
        source=source,
        created_at=now,
    )
    db.session.add(bid)
    return bid

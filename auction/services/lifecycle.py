"""The auction lifecycle: opening by the clock, Dutch price steps, buy-it-now, accepting a
Dutch price, closing and settling, cancelling, and the clock's due jobs.

Each action is one write transaction that locks the auction row first, applies the pure
rules (services/rules.py), moves Stars through the ledger, queues notices and events.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from auction.extensions import db
from auction.models import Auction, Bid, Hold, User, utcnow
from auction.services import events, ledger, listings, notices, rules
from auction.services.auction_lock import (
    check_bidder,
    check_open,
    current_dutch_price,
    leader_max,
    lock_auction,
    open_if_due,
    record_bid,
)
from auction.services.errors import AuctionClosed, CannotCancel, Forbidden, NotAvailable
from auction.services.transaction import atomic, emit

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CloseResult:
    auction_id: int
    status: str
    winner_id: int | None
    price: int | None


def _end(auction: Auction, now: datetime, winner_id: int | None, price: int | None) -> None:
    auction.status = "ended"
    auction.winner_id = winner_id
    auction.final_price = price
    auction.closed_at = now
    if price is not None:
        auction.current_price = price


def _release_all_holds(auction: Auction, keep: int | None = None) -> list[int]:
    """Release every active hold on the auction except `keep`'s; returns whose were released."""
    holders = list(
        db.session.scalars(
            select(Hold.user_id).where(Hold.auction_id == auction.id, Hold.status == "active").order_by(Hold.user_id)
        )
    )
    released = [user_id for user_id in holders if user_id != keep]
    for user_id in released:
        ledger.release_hold(user_id, auction.id)
    return released


def _bidders(auction: Auction) -> list[int]:
    return list(db.session.scalars(select(Bid.bidder_id).where(Bid.auction_id == auction.id).distinct()))


def _announce_close(auction: Auction) -> None:
    for event in events.auction_closed(auction):
        emit(*event)
    for event in events.auction_viewers(auction.id, [auction.seller_id, auction.winner_id, *_bidders(auction)]):
        emit(*event)


@atomic
def buy_now(auction_id: int, buyer_id: int, source: str = "web") -> CloseResult:
    """Buy at the buy-it-now price; pays at once and ends the auction."""
    now = utcnow()
    auction = lock_auction(auction_id)
    check_open(auction, now)
    check_bidder(auction, db.session.get(User, buyer_id))
    if auction.kind != "english" or not rules.buy_now_available(
        auction.buy_now_price, auction.bid_count > 0, auction.reserve_price, leader_max(auction)
    ):
        raise NotAvailable(_l("Buy it now is no longer available for this auction."))
    price = auction.buy_now_price
    # The buyer's own hold (a reserve-not-met bid) goes back first so those Stars can pay.
    released = _release_all_holds(auction)
    ledger.pay_now(buyer_id, auction.seller_id, auction.id, price, auction.fee_percent)
    record_bid(auction, buyer_id, price, None, "buy_now", source, now)
    auction.bid_count += 1
    _end(auction, now, buyer_id, price)
    db.session.flush()
    _announce_close(auction)
    _notify_close(auction, losers=[u for u in released if u != buyer_id])
    return CloseResult(auction.id, auction.status, buyer_id, price)


@atomic
def accept_dutch(auction_id: int, buyer_id: int, source: str = "web") -> CloseResult:
    """Take a Dutch auction at the price the server clock gives right now."""
    now = utcnow()
    auction = lock_auction(auction_id)
    check_open(auction, now)
    check_bidder(auction, db.session.get(User, buyer_id))
    if auction.kind != "dutch":
        raise NotAvailable()
    price = current_dutch_price(auction, now)
    ledger.pay_now(buyer_id, auction.seller_id, auction.id, price, auction.fee_percent)
    record_bid(auction, buyer_id, price, None, "accept", source, now)
    auction.bid_count += 1
    _end(auction, now, buyer_id, price)
    db.session.flush()
    _announce_close(auction)
    _notify_close(auction, losers=[])
    return CloseResult(auction.id, auction.status, buyer_id, price)


def _settlement(auction: Auction) -> rules.Settlement | None:
    if auction.kind == "english":
        return rules.settle_english(auction.leading_bidder_id, leader_max(auction), auction.current_price, auction.reserve_price)
    if rules.is_sealed(auction.kind):
        bids = [
            rules.SealedBid(b.bidder_id, b.amount, b.created_at, b.id)
            for b in db.session.scalars(select(Bid).where(Bid.auction_id == auction.id, Bid.kind == "sealed"))
        ]
        return rules.settle_sealed(bids, auction.kind == "sealed_second", auction.start_price, auction.reserve_price)
    return None  # a Dutch auction nobody accepted


@atomic
def close_auction(auction_id: int) -> CloseResult | None:
    """Settle an auction whose end has passed; a second call (or an early one) changes nothing."""
    now = utcnow()
    auction = lock_auction(auction_id)
    if auction.status in rules.CLOSED_STATUSES or now < auction.ends_at:
        return None
    settlement = _settlement(auction)
    winner_id = settlement.winner_id if settlement else None
    losers = _release_all_holds(auction, keep=winner_id)
    if settlement is not None:
        ledger.capture_hold(winner_id, auction.id, settlement.price, auction.seller_id, auction.fee_percent)
    _end(auction, now, winner_id, settlement.price if settlement else None)
    db.session.flush()
    _announce_close(auction)
    _notify_close(auction, losers=[u for u in _bidders(auction) if u != winner_id] or losers)
    return CloseResult(auction.id, auction.status, winner_id, auction.final_price)


@atomic
def cancel_auction(auction_id: int, actor_id: int) -> CloseResult:
    """The seller may cancel before the first bid; an admin at any time (every hold released)."""
    auction = lock_auction(auction_id)
    actor = db.session.get(User, actor_id)
    if actor is None:
        raise Forbidden()
    if auction.status in rules.CLOSED_STATUSES:
        raise AuctionClosed()
    if not actor.is_admin:
        if actor.id != auction.seller_id:
            raise Forbidden()
        if not listings.editable(auction):
            raise CannotCancel()
    _release_all_holds(auction)
    auction.status = "canceled"
    auction.closed_at = utcnow()
    db.session.flush()
    _announce_close(auction)
    for user_id in _bidders(auction):
        notices.notify(user_id, "auction_canceled", auction)
    if actor.id != auction.seller_id:
        notices.notify(auction.seller_id, "auction_canceled", auction)
    return CloseResult(auction.id, auction.status, None, None)


def due_auction_ids(now: datetime | None = None, limit: int = 200) -> list[int]:
    """Live auctions whose end has passed, oldest first (the closing job's work list)."""
    now = now or utcnow()
    query = select(Auction.id).where(Auction.status == "live", Auction.ends_at <= now).order_by(Auction.ends_at).limit(limit)
    return list(db.session.scalars(query))


@atomic
def open_scheduled_auctions() -> list[int]:
    """Open every scheduled auction whose start time has come."""
    now = utcnow()
    due = list(
        db.session.scalars(
            select(Auction).where(Auction.status == "scheduled", Auction.starts_at <= now).with_for_update()
        )
    )
    for auction in due:
        open_if_due(auction, now)
    return [a.id for a in due]


def _dutch_steps_due(now: datetime) -> list[int]:
    live = db.session.scalars(
        select(Auction).where(Auction.kind == "dutch", Auction.status == "live", Auction.current_price > Auction.dutch_floor)
    )
    return [a.id for a in live if current_dutch_price(a, now) != a.current_price]


@atomic
def _apply_dutch_steps(auction_ids: list[int]) -> list[int]:
    now = utcnow()
    moved = []
    for auction_id in sorted(auction_ids):
        auction = lock_auction(auction_id)
        if auction.status != "live" or now >= auction.ends_at:
            continue
        price = current_dutch_price(auction, now)
        if price == auction.current_price:
            continue
        # The stored price only mirrors the clock for lists and cards; buying always uses the clock.
        auction.current_price = price
        for event in events.dutch_price(auction):
            emit(*event)
        moved.append(auction.id)
    return moved


def announce_dutch_steps() -> list[int]:
    """Publish each Dutch price drop as it happens (the job runs every second)."""
    due = _dutch_steps_due(utcnow())
    db.session.rollback()  # end the read before the write transaction begins
    return _apply_dutch_steps(due) if due else []


def close_due_auctions() -> list[CloseResult]:
    """Close every overdue auction, each in its own transaction (one failure never blocks the rest)."""
    results = []
    for auction_id in due_auction_ids():
        try:
            result = close_auction(auction_id)
        except Exception:
            # Logged and retried on the next tick; the auctions behind it still close now.
            log.exception("closing auction %s failed", auction_id)
            continue
        if result is not None:
            results.append(result)
    return results


# Built per message so each text is a lazy string rendered in the recipient's language.


def _notify_close(auction: Auction, losers: list[int]) -> None:
    price = auction.final_price
    net = price - ledger.fee_for(price, auction.fee_percent) if auction.winner_id is not None else None
    notices.notify_close(auction, losers, net=net)

"""Bidding: the auction rules (pure functions) and the transactions that apply them.

The first half of this module is pure: no database, no clock of its own, so every rule
is a table-driven unit test. The second half runs each user action (bid, buy now,
accept a Dutch price, close, cancel) as one write transaction that locks the auction
row, applies the rules, moves Stars through the ledger and emits events after commit.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from auction.extensions import db
from auction.models import Auction, Bid, Hold, User, utcnow
from auction.services import ledger, listings, outbox
from auction.services.errors import Forbidden, NotFound, ServiceError
from auction.services.transaction import atomic, emit

log = logging.getLogger(__name__)

# Default increment table: (lower bound of the current price, increment), highest first.
INCREMENT_TABLE: tuple[tuple[int, int], ...] = (
    (50_000, 250),
    (10_000, 100),
    (5_000, 50),
    (1_000, 25),
    (500, 10),
    (100, 5),
    (0, 1),
)


# ---------------------------------------------------------------------------
# Pure rules
# ---------------------------------------------------------------------------


def default_increment(price: int) -> int:
    """The step between bids at `price` when the seller set none."""
    for floor, step in INCREMENT_TABLE:
        if price >= floor:
            return step
    return 1


def increment_for(price: int, custom: int | None = None) -> int:
    """A seller's custom increment replaces the default table."""
    return custom if custom else default_increment(price)


def min_next_bid(start_price: int, current_price: int, has_bids: bool, custom: int | None = None) -> int:
    """The smallest maximum a newcomer may offer: the start price, or price + increment."""
    if not has_bids:
        return start_price
    return current_price + increment_for(current_price, custom)


@dataclass(frozen=True)
class EnglishState:
    """What the proxy rule needs to know about an English auction."""

    start_price: int
    price: int
    leader_id: int | None = None
    leader_max: int | None = None
    reserve: int | None = None
    custom_increment: int | None = None

    @property
    def min_next(self) -> int:
        return min_next_bid(self.start_price, self.price, self.leader_id is not None, self.custom_increment)


@dataclass(frozen=True)
class ProxyOutcome:
    """The auction after one maximum was offered."""

    leader_id: int
    leader_max: int
    price: int
    previous_leader_id: int | None
    newcomer_leads: bool

    @property
    def outbid_id(self) -> int | None:
        """Who lost the lead to this bid (and must get their hold back)."""
        if self.newcomer_leads and self.previous_leader_id not in (None, self.leader_id):
            return self.previous_leader_id
        return None


class RuleViolation(Exception):
    """A pure rule refused the action; `code` names which, `minimum` helps the message."""

    def __init__(self, code: str, minimum: int | None = None):
        self.code = code
        self.minimum = minimum
        super().__init__(code)


def _with_reserve(price: int, leader_max: int, reserve: int | None) -> int:
    # A hidden reserve is revealed as the price as soon as a maximum reaches it.
    if reserve is not None and leader_max >= reserve and price < reserve:
        return reserve
    return price


def resolve_proxy(state: EnglishState, bidder_id: int, new_max: int) -> ProxyOutcome:
    """eBay-style proxy bidding: the system bids for the leader only as much as needed.

    Raises RuleViolation('too_low', minimum) for a maximum below the minimum next bid,
    and RuleViolation('not_raised', minimum) when the leader does not raise their maximum.
    """
    if state.leader_id is None:
        if new_max < state.start_price:
            raise RuleViolation("too_low", state.start_price)
        price = _with_reserve(state.start_price, new_max, state.reserve)
        return ProxyOutcome(bidder_id, new_max, price, None, True)

    leader_max = state.leader_max if state.leader_max is not None else state.price
    if bidder_id == state.leader_id:
        if new_max <= leader_max:
            raise RuleViolation("not_raised", leader_max + 1)
        price = _with_reserve(state.price, new_max, state.reserve)
        return ProxyOutcome(bidder_id, new_max, price, state.leader_id, False)

    minimum = state.min_next
    if new_max < minimum:
        raise RuleViolation("too_low", minimum)
    if new_max > leader_max:
        price = min(new_max, leader_max + increment_for(leader_max, state.custom_increment))
        price = _with_reserve(max(price, state.price), new_max, state.reserve)
        return ProxyOutcome(bidder_id, new_max, price, state.leader_id, True)
    # At or below the leader's maximum: the earlier maximum keeps the lead.
    price = min(leader_max, new_max + increment_for(new_max, state.custom_increment))
    price = _with_reserve(max(price, state.price), leader_max, state.reserve)
    return ProxyOutcome(state.leader_id, leader_max, price, state.leader_id, False)


def reserve_met(reserve: int | None, leader_max: int | None) -> bool:
    return reserve is None or (leader_max is not None and leader_max >= reserve)


def extended_end(ends_at: datetime, now: datetime, window_seconds: int, extension_seconds: int) -> datetime:
    """Anti-sniping: a bid with less than the window left pushes the end to now + extension."""
    if ends_at - now < timedelta(seconds=window_seconds):
        return max(ends_at, now + timedelta(seconds=extension_seconds))
    return ends_at


def dutch_price(start_price: int, floor: int, step: int, interval_seconds: int, starts_at: datetime, now: datetime) -> int:
    """The Dutch price at `now`: one step down per whole interval elapsed, never below the floor."""
    elapsed = max(0.0, (now - starts_at).total_seconds())
    steps = int(elapsed // interval_seconds)
    return max(floor, start_price - step * steps)


def next_dutch_step_at(start_price: int, floor: int, step: int, interval_seconds: int, starts_at: datetime, now: datetime) -> datetime | None:
    """When the Dutch price drops next, or None once it rests on the floor."""
    if dutch_price(start_price, floor, step, interval_seconds, starts_at, now) <= floor:
        return None
    elapsed = max(0.0, (now - starts_at).total_seconds())
    steps = int(elapsed // interval_seconds) + 1
    return starts_at + timedelta(seconds=steps * interval_seconds)


@dataclass(frozen=True)
class SealedBid:
    bidder_id: int
    amount: int
    placed_at: datetime
    bid_id: int = 0


@dataclass(frozen=True)
class Settlement:
    winner_id: int
    price: int


def settle_sealed(bids: list[SealedBid], second_price: bool, start_price: int, reserve: int | None) -> Settlement | None:
    """Highest bid wins (earliest on ties); pays its own bid, or the runner-up's (start price if alone).

    With a reserve, the winner must have bid at least the reserve and never pays below it.
    """
    if not bids:
        return None
    ranked = sorted(bids, key=lambda b: (-b.amount, b.placed_at, b.bid_id))
    winner = ranked[0]
    if reserve is not None and winner.amount < reserve:
        return None
    if not second_price:
        return Settlement(winner.bidder_id, winner.amount)
    price = ranked[1].amount if len(ranked) > 1 else start_price
    if reserve is not None:
        price = max(price, reserve)
    return Settlement(winner.bidder_id, min(price, winner.amount))


def settle_english(leader_id: int | None, leader_max: int | None, price: int, reserve: int | None) -> Settlement | None:
    """The leader buys at the current price, unless nobody bid or the reserve was not met."""
    if leader_id is None or not reserve_met(reserve, leader_max):
        return None
    return Settlement(leader_id, price)


def buy_now_available(buy_now_price: int | None, has_bids: bool, reserve: int | None, leader_max: int | None) -> bool:
    """Buy-it-now lasts until the first bid, or until the reserve is met when there is one."""
    if buy_now_price is None:
        return False
    if reserve is not None:
        return not reserve_met(reserve, leader_max)
    return not has_bids


def mask_name(name: str) -> str:
    """`Alice` -> `A***e`: enough to tell bidders apart, not enough to identify them."""
    name = (name or "").strip().lstrip("@#")
    if len(name) <= 1:
        return (name or "?") + "***"
    return f"{name[0]}***{name[-1]}"


# ---------------------------------------------------------------------------
# Transactions
# ---------------------------------------------------------------------------


class BidTooLow(ServiceError):
    message = _l("Your bid must be at least %(minimum)s Stars.")


class AuctionClosed(ServiceError):
    message = _l("This auction is closed; no more bids are accepted.")
    status = 409


class AuctionNotStarted(ServiceError):
    message = _l("This auction has not started yet.")
    status = 409


class OwnAuction(ServiceError):
    message = _l("You cannot bid on your own auction.")
    status = 403


class BidderSuspended(ServiceError):
    message = _l("Your account is suspended, so you cannot bid.")
    status = 403


class NotAvailable(ServiceError):
    message = _l("That is not possible for this auction.")
    status = 409


class CannotEdit(ServiceError):
    message = _l("The listing can only be changed before the first bid.")
    status = 409


class CannotCancel(ServiceError):
    message = _l("The listing can only be cancelled before the first bid.")
    status = 409


@dataclass(frozen=True)
class BidResult:
    """What the bidder sees after a bid: did it count, do they lead, the new price and end."""

    accepted: bool
    leading: bool
    price: int
    min_next: int
    ends_at: datetime
    extended: bool
    bid_count: int


@dataclass(frozen=True)
class CloseResult:
    auction_id: int
    status: str
    winner_id: int | None
    price: int | None


def _fee_percent() -> int:
    return int(current_app.config.get("PLATFORM_FEE_PERCENT", 5))


def lock_auction(auction_id: int) -> Auction:
    # FOR UPDATE serialises bidders on PostgreSQL; SQLite omits it (BEGIN IMMEDIATE already
    # serialises writers). populate_existing refreshes a row an earlier read left in the session.
    auction = db.session.scalars(
        select(Auction).where(Auction.id == auction_id).with_for_update().execution_options(populate_existing=True)
    ).first()
    if auction is None:
        raise NotFound()
    return auction


def _open_if_due(auction: Auction, now: datetime) -> None:
    """Scheduled auctions open by the clock, whether or not the job has run yet."""
    if auction.status == "scheduled" and auction.starts_at <= now:
        auction.status = "live"
        emit(f"auction:{auction.id}", "auction_opened", {"auction_id": auction.id})
        emit("listings", "auction_created", {"auction_id": auction.id})  # now it belongs on the home page
        _announce_viewers(auction, [auction.seller_id])


def _check_open(auction: Auction, now: datetime) -> None:
    _open_if_due(auction, now)
    if auction.status == "scheduled":
        raise AuctionNotStarted()
    if auction.status != "live" or now >= auction.ends_at:
        raise AuctionClosed()


def _check_bidder(auction: Auction, bidder_id: int) -> User:
    bidder = db.session.get(User, bidder_id)
    if bidder is None:
        raise NotFound()
    if bidder.is_suspended:
        raise BidderSuspended()
    if auction.seller_id == bidder_id:
        raise OwnAuction()
    return bidder


def leader_max(auction: Auction) -> int | None:
    """The leading bidder's proxy maximum (never shown to anyone else)."""
    if auction.leading_bidder_id is None:
        return None
    return db.session.scalar(
        select(func.max(Bid.max_amount)).where(Bid.auction_id == auction.id, Bid.bidder_id == auction.leading_bidder_id)
    )


def english_state(auction: Auction) -> EnglishState:
    return EnglishState(
        start_price=auction.start_price,
        price=auction.current_price,
        leader_id=auction.leading_bidder_id,
        leader_max=leader_max(auction),
        reserve=auction.reserve_price,
        custom_increment=auction.increment,
    )


def _min_next(auction: Auction) -> int:
    if auction.kind == "english":
        return min_next_bid(auction.start_price, auction.current_price, auction.leading_bidder_id is not None, auction.increment)
    return auction.start_price


def _too_low(minimum: int) -> BidTooLow:
    return BidTooLow(minimum=minimum)


def _announce_price(auction: Auction, extended: bool, now: datetime) -> None:
    data = {
        "auction_id": auction.id,
        "price": auction.current_price,
        "bid_count": auction.bid_count,
        "ends_at": auction.ends_at.isoformat(),
        "min_next": _min_next(auction),
        "extended": extended,
        "at": now.isoformat(),  # the moment of the bid's rows: the page appends just those
    }
    emit(f"auction:{auction.id}", "bid_placed", data)
    if extended:
        emit(f"auction:{auction.id}", "auction_extended", {"auction_id": auction.id, "ends_at": data["ends_at"]})
    emit("listings", "price_changed", data)


def _announce_viewers(
    auction: Auction, user_ids: list[int | None], outbid: int | None = None, bidder: int | None = None, result: str | None = None
) -> None:
    """Tell each person's own pages what changed for them on this auction (they lead, were outbid, won...).

    `result` is what `bidder`'s own bid came to ("leading", "outbid" or "sealed"): every page of
    theirs says it, not only the one that sent it. Emitted after the auction's shared events, so a
    page swaps its personal state last.
    """
    for user_id in dict.fromkeys(u for u in user_ids if u is not None):
        data = {"auction_id": auction.id, "user_id": user_id, "outbid": user_id == outbid}
        if user_id == bidder and result:
            data["bid"] = result
        emit(f"user:{user_id}", "auction_viewer", data)


def _apply_anti_sniping(auction: Auction, now: datetime) -> bool:
    new_end = extended_end(auction.ends_at, now, auction.snipe_window_seconds, auction.snipe_extension_seconds)
    if new_end != auction.ends_at:
        auction.ends_at = new_end
        return True
    return False


def _record(auction: Auction, bidder_id: int, amount: int, max_amount: int | None, kind: str, source: str, now: datetime, automatic: bool = False) -> Bid:
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


def place_bid(auction_id: int, bidder_id: int, max_amount: int, source: str = "web") -> BidResult:
    """Offer `max_amount` (a proxy maximum for English, the amount for sealed bids)."""
    _refuse_stale_offer(auction_id, bidder_id, max_amount)
    return _place_bid(auction_id, bidder_id, max_amount, source)


def _refuse_stale_offer(auction_id: int, bidder_id: int, max_amount: int) -> None:
    """Refuse an English offer below the minimum next bid of a committed read, without the write lock.

    An English price never goes down while the auction is live, so an offer below a minimum
    already committed stays too low; refusing it from a plain read keeps the many stale
    offers of a bidding war out of the writers' queue. Anything else is left to the
    locked transaction, which applies every rule.
    """
    row = db.session.execute(
        select(Auction, User.is_suspended).join(User, User.id == bidder_id).where(Auction.id == auction_id)
    ).first()
    if row is None:
        return
    auction, suspended = row
    now = utcnow()
    if (
        auction.kind == "english"
        and auction.status == "live"
        and auction.starts_at <= now < auction.ends_at
        and not suspended
        and bidder_id not in (auction.seller_id, auction.leading_bidder_id)
        and max_amount < _min_next(auction)
    ):
        raise _too_low(_min_next(auction))


def _lock_for_bid(auction_id: int, bidder_id: int) -> tuple[Auction, User]:
    """Lock the auction row and load the bidder in one statement (the auction first, as everywhere)."""
    row = db.session.execute(
        select(Auction, User)
        .join(User, User.id == bidder_id)
        .where(Auction.id == auction_id)
        .with_for_update(of=Auction)
        .execution_options(populate_existing=True)
    ).first()
    if row is None:
        raise NotFound()
    return row._tuple()


@atomic
def _place_bid(auction_id: int, bidder_id: int, max_amount: int, source: str) -> BidResult:
    now = utcnow()
    auction, bidder = _lock_for_bid(auction_id, bidder_id)
    _check_open(auction, now)
    if bidder.is_suspended:
        raise BidderSuspended()
    if auction.seller_id == bidder_id:
        raise OwnAuction()
    if auction.kind == "dutch":
        raise NotAvailable(_l("In a Dutch auction you buy by accepting the current price."))
    if max_amount < 1:
        raise _too_low(_min_next(auction))
    if auction.kind == "english":
        result = _place_english(auction, bidder_id, max_amount, source, now)
    else:
        result = _place_sealed(auction, bidder_id, max_amount, source, now)
    return result


def _place_english(auction: Auction, bidder_id: int, new_max: int, source: str, now: datetime) -> BidResult:
    if bidder_id != auction.leading_bidder_id and new_max < _min_next(auction):
        # Went stale while it queued: refused without reading the leader's maximum.
        raise _too_low(_min_next(auction))
    state = english_state(auction)
    try:
        outcome = resolve_proxy(state, bidder_id, new_max)
    except RuleViolation as broken:
        if broken.code == "not_raised":
            raise BidTooLow(_l("You already lead with a maximum of %(current)s Stars; raise it to at least %(minimum)s."), current=broken.minimum - 1, minimum=broken.minimum) from None
        raise _too_low(broken.minimum) from None

    if outcome.leader_id == bidder_id:
        # Both users' holds and accounts in two statements, in one lock order.
        ledger.lock_for_auction(auction.id, [bidder_id] + ([outcome.outbid_id] if outcome.outbid_id is not None else []))
        # Hold the new leader's maximum first: InsufficientFunds leaves everything untouched.
        ledger.set_hold(bidder_id, auction.id, outcome.leader_max)
        if outcome.outbid_id is not None:
            ledger.release_hold(outcome.outbid_id, auction.id)
        kind = "proxy" if new_max > outcome.price else "bid"
        _record(auction, bidder_id, outcome.price, new_max, kind, source, now)
    else:
        # Outbid at once by the leader's proxy: nothing to hold, but the bidder must have
        # been able to pay what they offered.
        available = ledger.balances(bidder_id).available
        if available < new_max:
            raise ledger.InsufficientFunds(needed=new_max - available, available=available)
        _record(auction, bidder_id, new_max, new_max, "bid", source, now)
        _record(auction, outcome.leader_id, outcome.price, outcome.leader_max, "proxy", "auto", now, automatic=True)
        auction.bid_count += 1

    moved = outcome.price != auction.current_price or outcome.leader_id != auction.leading_bidder_id
    first_bid = auction.bid_count == 0
    if outcome.leader_id != bidder_id or outcome.newcomer_leads:
        auction.bid_count += 1
    auction.current_price = outcome.price
    auction.leading_bidder_id = outcome.leader_id
    extended = _apply_anti_sniping(auction, now)
    if moved or extended or outcome.newcomer_leads:
        _announce_price(auction, extended, now)
    _announce_viewers(
        auction,
        [outcome.outbid_id, auction.seller_id if first_bid else None, bidder_id],
        outbid=outcome.outbid_id,
        bidder=bidder_id,
        result="leading" if outcome.leader_id == bidder_id else "outbid",
    )
    if outcome.outbid_id is not None:
        _notify(outcome.outbid_id, "outbid", auction, dedupe=False, price=outcome.price)
    return BidResult(
        accepted=True,
        leading=outcome.leader_id == bidder_id,
        price=auction.current_price,
        min_next=_min_next(auction),
        ends_at=auction.ends_at,
        extended=extended,
        bid_count=auction.bid_count,
    )


def _place_sealed(auction: Auction, bidder_id: int, amount: int, source: str, now: datetime) -> BidResult:
    existing = db.session.scalars(
        select(Bid).where(Bid.auction_id == auction.id, Bid.bidder_id == bidder_id, Bid.kind == "sealed")
    ).first()
    minimum = existing.amount + 1 if existing else auction.start_price
    if amount < minimum:
        if existing:
            raise BidTooLow(_l("A sealed bid can only be raised: offer at least %(minimum)s Stars."), minimum=minimum)
        raise _too_low(minimum)
    ledger.set_hold(bidder_id, auction.id, amount)
    if existing:
        # One bid per user: raising replaces the amount and its time (ties go to the earlier offer).
        existing.amount = amount
        existing.max_amount = amount
        existing.created_at = now
        existing.source = source
    else:
        _record(auction, bidder_id, amount, amount, "sealed", source, now)
        auction.bid_count += 1
    extended = _apply_anti_sniping(auction, now)
    db.session.flush()
    data = {
        "auction_id": auction.id,
        "bid_count": auction.bid_count,
        "ends_at": auction.ends_at.isoformat(),
        "extended": extended,
        "at": now.isoformat(),
        "raised": existing is not None,  # the bidder's row moves to the top instead of a new one
    }
    emit(f"auction:{auction.id}", "bid_placed", data)
    if extended:
        emit(f"auction:{auction.id}", "auction_extended", {"auction_id": auction.id, "ends_at": data["ends_at"]})
    emit("listings", "price_changed", {**data, "price": auction.current_price})
    _announce_viewers(auction, [auction.seller_id if auction.bid_count == 1 and not existing else None, bidder_id], bidder=bidder_id, result="sealed")
    return BidResult(True, False, auction.current_price, auction.start_price, auction.ends_at, extended, auction.bid_count)


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
    data = {
        "auction_id": auction.id,
        "status": auction.status,
        "price": auction.current_price,
        "final_price": auction.final_price,
        "winner_id": auction.winner_id,
        "bid_count": auction.bid_count,
        "ends_at": auction.ends_at.isoformat(),
    }
    emit(f"auction:{auction.id}", "auction_closed", data)
    emit("listings", "price_changed", data)
    _announce_viewers(auction, [auction.seller_id, auction.winner_id, *_bidders(auction)])


@atomic
def buy_now(auction_id: int, buyer_id: int, source: str = "web") -> CloseResult:
    """Buy at the buy-it-now price; pays at once and ends the auction."""
    now = utcnow()
    auction = lock_auction(auction_id)
    _check_open(auction, now)
    _check_bidder(auction, buyer_id)
    if auction.kind != "english" or not buy_now_available(
        auction.buy_now_price, auction.bid_count > 0, auction.reserve_price, leader_max(auction)
    ):
        raise NotAvailable(_l("Buy it now is no longer available for this auction."))
    price = auction.buy_now_price
    # The buyer's own hold (a reserve-not-met bid) goes back first so those Stars can pay.
    released = _release_all_holds(auction)
    ledger.pay_now(buyer_id, auction.seller_id, auction.id, price, _fee_percent())
    _record(auction, buyer_id, price, None, "buy_now", source, now)
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
    _check_open(auction, now)
    _check_bidder(auction, buyer_id)
    if auction.kind != "dutch":
        raise NotAvailable()
    price = current_dutch_price(auction, now)
    ledger.pay_now(buyer_id, auction.seller_id, auction.id, price, _fee_percent())
    _record(auction, buyer_id, price, None, "accept", source, now)
    auction.bid_count += 1
    _end(auction, now, buyer_id, price)
    db.session.flush()
    _announce_close(auction)
    _notify_close(auction, losers=[])
    return CloseResult(auction.id, auction.status, buyer_id, price)


def current_dutch_price(auction: Auction, now: datetime) -> int:
    return dutch_price(
        auction.start_price, auction.dutch_floor, auction.dutch_step, auction.dutch_interval_seconds, auction.starts_at, now
    )


def _settlement(auction: Auction) -> Settlement | None:
    if auction.kind == "english":
        return settle_english(auction.leading_bidder_id, leader_max(auction), auction.current_price, auction.reserve_price)
    if auction.kind in ("sealed_first", "sealed_second"):
        bids = [
            SealedBid(b.bidder_id, b.amount, b.created_at, b.id)
            for b in db.session.scalars(select(Bid).where(Bid.auction_id == auction.id, Bid.kind == "sealed"))
        ]
        return settle_sealed(bids, auction.kind == "sealed_second", auction.start_price, auction.reserve_price)
    return None  # a Dutch auction nobody accepted


@atomic
def close_auction(auction_id: int) -> CloseResult | None:
    """Settle an auction whose end has passed; a second call (or an early one) changes nothing."""
    now = utcnow()
    auction = lock_auction(auction_id)
    if auction.status in ("ended", "canceled") or now < auction.ends_at:
        return None
    settlement = _settlement(auction)
    winner_id = settlement.winner_id if settlement else None
    losers = _release_all_holds(auction, keep=winner_id)
    if settlement is not None:
        ledger.capture_hold(winner_id, auction.id, settlement.price, auction.seller_id, _fee_percent())
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
    if auction.status in ("ended", "canceled"):
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
        _notify(user_id, "auction_canceled", auction)
    if actor.id != auction.seller_id:
        _notify(auction.seller_id, "auction_canceled", auction)
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
        _open_if_due(auction, now)
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
        data = {"auction_id": auction.id, "price": price, "bid_count": auction.bid_count, "ends_at": auction.ends_at.isoformat()}
        emit(f"auction:{auction.id}", "dutch_price", data)
        emit("listings", "price_changed", data)
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
NOTICES = {
    "outbid": lambda **p: _l("You have been outbid on “%(title)s”: the price is now %(price)s ⭐.", **p),
    "auction_won": lambda **p: _l("You won “%(title)s” for %(price)s ⭐.", **p),
    "auction_sold": lambda **p: _l("“%(title)s” sold for %(price)s ⭐. You receive %(net)s ⭐ after the platform fee.", **p),
    "auction_unsold": lambda **p: _l("“%(title)s” ended without a sale.", **p),
    "auction_lost": lambda **p: _l("“%(title)s” has ended; another bidder won it.", **p),
    "auction_canceled": lambda **p: _l("“%(title)s” was cancelled. Any Stars held for it are released.", **p),
}


def _notify(user_id: int, kind: str, auction: Auction, dedupe: bool = True, **params) -> None:
    """Tell a user through the outbox (written in this same transaction, sent in their language)."""
    url = f"{current_app.config.get('BASE_URL', '').rstrip('/')}/auctions/{auction.id}"
    text = NOTICES[kind](title=auction.title, **params)
    outbox.enqueue_telegram(
        user_id,
        kind,
        text,
        buttons=[{"text": _l("Open the auction"), "url": url}],
        dedupe_key=f"{kind}:{auction.id}:{user_id}" if dedupe else None,
    )


def _notify_close(auction: Auction, losers: list[int]) -> None:
    price = auction.final_price
    if auction.winner_id is not None:
        _notify(auction.winner_id, "auction_won", auction, price=price)
        _notify(auction.seller_id, "auction_sold", auction, price=price, net=price - ledger.fee_for(price, _fee_percent()))
    else:
        _notify(auction.seller_id, "auction_unsold", auction)
    for user_id in sorted(set(losers)):
        if user_id != auction.winner_id:
            _notify(user_id, "auction_lost", auction)

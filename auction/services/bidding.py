"""Placing bids: one write transaction per offer that locks the auction row, applies the
pure rules (services/rules.py), holds the leader's Stars through the ledger, and answers
with everything the bidder's screen needs (no second read of the auction).

Amounts are whole Stars; the server clock (UTC) decides whether an auction is open.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, bindparam, select
from sqlalchemy.orm import aliased

from auction.extensions import db
from auction.models import Auction, Bid, Hold, User, utcnow
from auction.services import achievements, events, ledger, notices, notifications, rules
from auction.services.auction_lock import check_bidder, check_open, min_next, record_bid
from auction.services.auction_view import PriceBox, price_box
from auction.services.errors import BidTooLow, NotAvailable, NotFound
from auction.services.transaction import atomic, emit
from auction.services.viewer import ViewerState, viewer_state


@dataclass(frozen=True)
class BidResult:
    """What the bidder sees after an accepted bid, from the transaction that placed it.

    `price` and `min_next` are Stars, `ends_at` UTC; `box` is the public price panel and
    `viewer` the bidder's own capabilities after the bid.
    """

    leading: bool
    price: int
    min_next: int
    ends_at: datetime
    extended: bool
    bid_count: int
    kind: str
    box: PriceBox
    viewer: ViewerState

    @property
    def sealed(self) -> bool:
        return rules.is_sealed(self.kind)


_Leader = aliased(User, name="leader")
_LeaderHold = aliased(Hold, name="leader_hold")
_OwnHold = aliased(Hold, name="own_hold")


# Built once: the profile of a bid showed a fifth of the lock's time spent building this
# statement and its cache key anew on every bid.
_LOCK_FOR_BID = (
    select(
        Auction, User, _Leader, _LeaderHold, _OwnHold,
        *(achievements.holds_badge(code, bindparam("bidder_id")).label(code) for code in achievements.BID_RULES),
    )
    .select_from(Auction)
    .join(User, User.id == bindparam("bidder_id"))
    .outerjoin(_Leader, _Leader.id == Auction.leading_bidder_id)
    .outerjoin(
        _LeaderHold,
        and_(_LeaderHold.auction_id == Auction.id, _LeaderHold.user_id == Auction.leading_bidder_id, _LeaderHold.status == "active"),
    )
    .outerjoin(_OwnHold, and_(_OwnHold.auction_id == Auction.id, _OwnHold.user_id == bindparam("bidder_id"), _OwnHold.status == "active"))
    .where(Auction.id == bindparam("auction_id"))
    .with_for_update(of=Auction)
    .execution_options(populate_existing=True)
)


def _lock_for_bid(auction_id: int, bidder_id: int) -> tuple[Auction, User, User | None, Hold | None, Hold | None, set[str]]:
    """One statement: lock the auction row and read the bidder, the leader, both active holds
    and which of the bid's badges (achievements.BID_RULES) the bidder holds.

    Holds on an auction change only under its row lock, so reading them here (without
    locking them) is safe; the ledger is told what they are.
    """
    row = db.session.execute(_LOCK_FOR_BID, {"auction_id": auction_id, "bidder_id": bidder_id}).first()
    if row is None:
        raise NotFound()
    auction, bidder, leader, leader_hold, own_hold, *held = row._tuple()
    badges = {code for code, has in zip(achievements.BID_RULES, held, strict=True) if has}
    return auction, bidder, leader, leader_hold, own_hold, badges


def _too_low(minimum: int) -> BidTooLow:
    return BidTooLow(minimum=minimum)


@atomic
def place_bid(auction_id: int, bidder_id: int, max_amount: int | None = None, source: str = "web", amount: int | None = None) -> BidResult:
    """Offer the larger of `amount` (a bid) and `max_amount` (an English proxy maximum), in Stars.

    For a sealed auction the offer is the bid itself. Raises BidTooLow, AuctionClosed,
    AuctionNotStarted, OwnAuction, BidderSuspended, NotAvailable (Dutch), NotFound or
    InsufficientFunds; nothing changes when it raises.
    """
    offer = max(amount or 0, max_amount or 0)
    now = utcnow()
    auction, bidder, leader, leader_hold, own_hold, badges = _lock_for_bid(auction_id, bidder_id)
    check_open(auction, now)
    check_bidder(auction, bidder)
    if auction.kind == "dutch":
        raise NotAvailable(_l("In a Dutch auction you buy by accepting the current price."))
    if offer < 1:
        raise _too_low(min_next(auction))
    holds = {bidder_id: own_hold}
    if leader is not None:
        holds[leader.id] = leader_hold
    ledger.adopt_holds(auction.id, holds)
    if auction.kind == "english":
        top = leader_hold.amount if leader_hold is not None else None
        leading, extended, top = _place_english(auction, bidder_id, offer, source, now, top)
        own = top if leading else None
    else:
        extended, own = _place_sealed(auction, bidder_id, offer, source, now, own_hold)
        leading, top = False, None
    box = price_box(auction, now, leader_max=top)
    notifications.after_bid(auction, bidder_id, extended)
    achievements.on_bid_placed(bidder_id, first_on_auction=auction.bid_count == 1, have=badges)
    return BidResult(
        leading=leading,
        price=auction.current_price,
        min_next=box.min_next,
        ends_at=auction.ends_at,
        extended=extended,
        bid_count=auction.bid_count,
        kind=auction.kind,
        box=box,
        viewer=viewer_state(auction, bidder_id, now, own_maximum=own, has_bid=True, box=box, watching=None),
    )


def _place_english(auction: Auction, bidder_id: int, new_max: int, source: str, now: datetime, leader_max: int | None) -> tuple[bool, bool, int | None]:
    """Apply the proxy rule; returns (the bidder leads, the end was extended, the leader's maximum)."""
    if bidder_id != auction.leading_bidder_id and new_max < min_next(auction):
        # Went stale while it queued: refused before any other work.
        raise _too_low(min_next(auction))
    state = rules.EnglishState(
        start_price=auction.start_price,
        price=auction.current_price,
        leader_id=auction.leading_bidder_id,
        leader_max=leader_max if leader_max is not None else _stored_leader_max(auction),
        reserve=auction.reserve_price,
        custom_increment=auction.increment,
    )
    try:
        outcome = rules.resolve_proxy(state, bidder_id, new_max)
    except rules.RuleViolation as broken:
        if broken.code == "not_raised":
            raise BidTooLow(_l("You already lead with a maximum of %(current)s Stars; raise it to at least %(minimum)s."), current=broken.minimum - 1, minimum=broken.minimum) from None
        raise _too_low(broken.minimum) from None

    if outcome.leader_id == bidder_id:
        # Both users' Stars accounts in one statement, in one lock order.
        ledger.lock_accounts([bidder_id] + ([outcome.outbid_id] if outcome.outbid_id is not None else []))
        # Hold the new leader's maximum first: InsufficientFunds leaves everything untouched.
        ledger.set_hold(bidder_id, auction.id, outcome.leader_max)
        if outcome.outbid_id is not None:
            ledger.release_hold(outcome.outbid_id, auction.id)
        kind = "proxy" if new_max > outcome.price else "bid"
        record_bid(auction, bidder_id, outcome.price, new_max, kind, source, now)
    else:
        # Outbid at once by the leader's proxy: nothing to hold, but the bidder must have
        # been able to pay what they offered.
        available = ledger.balances(bidder_id).available
        if available < new_max:
            raise ledger.InsufficientFunds(needed=new_max - available, available=available)
        record_bid(auction, bidder_id, new_max, new_max, "bid", source, now)
        record_bid(auction, outcome.leader_id, outcome.price, outcome.leader_max, "proxy", "auto", now, automatic=True)
        auction.bid_count += 1

    moved = outcome.price != auction.current_price or outcome.leader_id != auction.leading_bidder_id
    first_bid = auction.bid_count == 0
    if outcome.leader_id != bidder_id or outcome.newcomer_leads:
        auction.bid_count += 1
    auction.current_price = outcome.price
    auction.leading_bidder_id = outcome.leader_id
    extended = _apply_anti_sniping(auction, now)
    if moved or extended or outcome.newcomer_leads:
        for event in events.bid_placed(auction, min_next(auction), extended, now):
            emit(*event)
    for event in events.auction_viewers(
        auction.id,
        [outcome.outbid_id, auction.seller_id if first_bid else None, bidder_id],
        outbid=outcome.outbid_id,
        bidder=bidder_id,
        result="leading" if outcome.leader_id == bidder_id else "outbid",
    ):
        emit(*event)
    if outcome.outbid_id is not None:
        notices.notify(outcome.outbid_id, "outbid", auction, dedupe=False, **notifications.outbid_params(auction, outcome.price))
    return outcome.leader_id == bidder_id, extended, outcome.leader_max


def _stored_leader_max(auction: Auction) -> int | None:
    # A leader without an active hold (data from before holds matched maximums): the bids say it.
    from auction.services.auction_lock import leader_max

    return leader_max(auction)


def _place_sealed(auction: Auction, bidder_id: int, amount: int, source: str, now: datetime, own_hold: Hold | None) -> tuple[bool, int]:
    """One sealed bid per bidder, raise only; returns (the end was extended, the bidder's bid)."""
    existing = db.session.scalars(
        select(Bid).where(Bid.auction_id == auction.id, Bid.bidder_id == bidder_id, Bid.kind == "sealed")
    ).first() if own_hold is not None else None
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
        record_bid(auction, bidder_id, amount, amount, "sealed", source, now)
        auction.bid_count += 1
    extended = _apply_anti_sniping(auction, now)
    for event in events.bid_placed(auction, None, extended, now, raised=existing is not None):
        emit(*event)
    first_bid = auction.bid_count == 1 and existing is None
    for event in events.auction_viewers(auction.id, [auction.seller_id if first_bid else None, bidder_id], bidder=bidder_id, result="sealed"):
        emit(*event)
    return extended, amount


def _apply_anti_sniping(auction: Auction, now: datetime) -> bool:
    new_end = rules.extended_end(auction.ends_at, now, auction.snipe_window_seconds, auction.snipe_extension_seconds)
    if new_end != auction.ends_at:
        auction.ends_at = new_end
        return True
    return False

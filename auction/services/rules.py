"""The auction rules as pure functions: no database, no clock of their own, table-tested.

Every amount is a whole number of Stars; every time is a timezone-aware UTC datetime.
The services (bidding, lifecycle, read models) apply these; nothing else recomputes them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

# The kinds whose bids stay hidden until the end (one bid per bidder, raise only).
SEALED_KINDS: tuple[str, ...] = ("sealed_first", "sealed_second")
# An auction in one of these statuses has not ended: it may still open, take bids and change.
OPEN_STATUSES: tuple[str, ...] = ("scheduled", "live")
# An auction in one of these statuses is over for good.
CLOSED_STATUSES: tuple[str, ...] = ("ended", "canceled")


def is_sealed(kind: str) -> bool:
    """Whether an auction of `kind` hides its bids until the end."""
    return kind in SEALED_KINDS


def not_over(status: str) -> bool:
    """Whether an auction in `status` has not ended or been cancelled yet."""
    return status in OPEN_STATUSES


def takes_offers(status: str, starts_at: datetime, ends_at: datetime, now: datetime) -> bool:
    """Whether an auction takes bids or purchases at `now` (UTC, the server clock).

    A scheduled auction whose start has come counts as open: the bid transaction opens it.
    """
    return status in OPEN_STATUSES and starts_at <= now < ends_at

# Default increment table (Stars): (lower bound of the current price, increment), highest first.
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


def raised_by_increments(amount: int, steps: int, custom_increment: int | None = None) -> int:
    """`amount` plus `steps` increments, each step taken from the table at the amount reached so far."""
    for _ in range(steps):
        amount += increment_for(amount, custom_increment)
    return amount


def editable(status: str, bid_count: int) -> bool:
    """A listing may be edited or cancelled by its seller until the first bid, while not over."""
    return bid_count == 0 and status in OPEN_STATUSES

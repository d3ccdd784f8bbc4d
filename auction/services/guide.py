"""The help pages' worked examples, computed by the auction's own pure rules (never typed in).

Each example runs the same functions `place_bid`, `close_auction` and the Dutch clock use
(`auction.services.bidding`), so the help page cannot drift from the rules it explains.
Amounts are whole Stars; times are seconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from auction.services import rules
from auction.services.ledger import fee_for
from auction.services.listings import DEFAULT_SNIPE_SECONDS

# Bidders of the examples, by number: the page names them "Anna", "Boris", "Chen".
ANNA, BORIS, CHEN = 1, 2, 3


@dataclass(frozen=True)
class IncrementRow:
    """One line of the increment table: prices from `low` up to `high` (None: no upper end) bid in steps of `step`."""

    low: int
    high: int | None
    step: int


@dataclass(frozen=True)
class ProxyStep:
    """After `bidder` offered the maximum `offered`: who leads and at what price (Stars)."""

    bidder: int
    offered: int
    leader: int
    price: int
    min_next: int


@dataclass(frozen=True)
class Examples:
    """Every number the help and fees pages print."""

    increments: list[IncrementRow]
    start_price: int
    proxy_steps: list[ProxyStep]
    reserve: int
    reserve_bid: int
    reserve_price: int
    buy_now_price: int
    buy_now_before_bid: bool
    buy_now_after_bid: bool
    snipe_window_seconds: int
    snipe_extension_seconds: int
    snipe_seconds_left: int
    snipe_seconds_left_after: int
    dutch_start: int
    dutch_floor: int
    dutch_step: int
    dutch_interval_seconds: int
    dutch_prices: list[tuple[int, int]]  # (minutes after the start, price)
    sealed_bids: list[tuple[int, int]]  # (bidder, amount)
    sealed_first_price: int
    sealed_second_price: int
    sealed_winner: int
    fee_percent: int
    fee_sale: int
    fee_amount: int
    fee_seller_gets: int


def increment_rows() -> list[IncrementRow]:
    """The default increment table, lowest prices first."""
    ascending = sorted(rules.INCREMENT_TABLE)
    return [
        IncrementRow(low, ascending[i + 1][0] - 1 if i + 1 < len(ascending) else None, step)
        for i, (low, step) in enumerate(ascending)
    ]


def _proxy_steps(start_price: int, offers: list[tuple[int, int]]) -> list[ProxyStep]:
    state = rules.EnglishState(start_price=start_price, price=start_price)
    steps = []
    for bidder, offered in offers:
        outcome = rules.resolve_proxy(state, bidder, offered)
        state = rules.EnglishState(start_price, outcome.price, outcome.leader_id, outcome.leader_max)
        steps.append(ProxyStep(bidder, offered, outcome.leader_id, outcome.price, state.min_next))
    return steps


def examples(fee_percent: int) -> Examples:
    """The worked examples for a platform fee of `fee_percent` per cent (the PLATFORM_FEE_PERCENT setting)."""
    start = 120
    proxy_steps = _proxy_steps(start, [(ANNA, 150), (BORIS, 130), (CHEN, 200)])

    reserve, reserve_bid = 300, 320
    reserve_price = rules.resolve_proxy(rules.EnglishState(start, start, reserve=reserve), ANNA, reserve_bid).price

    buy_now_price = 400
    before = rules.buy_now_available(buy_now_price, has_bids=False, reserve=None, leader_max=None)
    after = rules.buy_now_available(buy_now_price, has_bids=True, reserve=None, leader_max=start)

    window = extension = DEFAULT_SNIPE_SECONDS
    noon = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    left = 30
    extended = rules.extended_end(noon, noon - timedelta(seconds=left), window, extension)

    dutch = {"start_price": 500, "floor": 200, "step": 25, "interval_seconds": 60}
    dutch_prices = [
        (minutes, rules.dutch_price(starts_at=noon, now=noon + timedelta(minutes=minutes), **dutch))
        for minutes in (0, 1, 5, 30)
    ]

    opened = noon - timedelta(hours=1)
    sealed = [(ANNA, 150), (BORIS, 120), (CHEN, 100)]
    sealed_bids = [rules.SealedBid(b, a, opened + timedelta(minutes=i), i) for i, (b, a) in enumerate(sealed)]
    first = rules.settle_sealed(sealed_bids, second_price=False, start_price=50, reserve=None)
    second = rules.settle_sealed(sealed_bids, second_price=True, start_price=50, reserve=None)

    sale = 1_000
    fee = fee_for(sale, fee_percent)
    return Examples(
        increments=increment_rows(),
        start_price=start,
        proxy_steps=proxy_steps,
        reserve=reserve,
        reserve_bid=reserve_bid,
        reserve_price=reserve_price,
        buy_now_price=buy_now_price,
        buy_now_before_bid=before,
        buy_now_after_bid=after,
        snipe_window_seconds=window,
        snipe_extension_seconds=extension,
        snipe_seconds_left=left,
        snipe_seconds_left_after=int((extended - (noon - timedelta(seconds=left))).total_seconds()),
        dutch_start=dutch["start_price"],
        dutch_floor=dutch["floor"],
        dutch_step=dutch["step"],
        dutch_interval_seconds=dutch["interval_seconds"],
        dutch_prices=dutch_prices,
        sealed_bids=sealed,
        sealed_first_price=first.price,
        sealed_second_price=second.price,
        sealed_winner=first.winner_id,
        fee_percent=fee_percent,
        fee_sale=sale,
        fee_amount=fee,
        fee_seller_gets=sale - fee,
    )

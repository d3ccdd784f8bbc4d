"""English auction rules: increments, minimum next bid, proxy bidding, reserve, anti-sniping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from auction.services.rules import (
    EnglishState,
    RuleViolation,
    buy_now_available,
    default_increment,
    extended_end,
    increment_for,
    mask_name,
    min_next_bid,
    resolve_proxy,
    settle_english,
)

A, B, C = 1, 2, 3


@pytest.mark.parametrize(
    ("price", "increment"),
    [
        (1, 1), (99, 1), (100, 5), (499, 5), (500, 10), (999, 10), (1_000, 25), (4_999, 25),
        (5_000, 50), (9_999, 50), (10_000, 100), (49_999, 100), (50_000, 250), (1_000_000, 250),
    ],
)
def test_default_increment_table(price, increment):
    assert default_increment(price) == increment


def test_custom_increment_replaces_the_table():
    assert increment_for(10, 7) == 7
    assert increment_for(60_000, 3) == 3
    assert increment_for(60_000, None) == 250


@pytest.mark.parametrize(
    ("start", "price", "has_bids", "custom", "expected"),
    [
        (10, 10, False, None, 10),   # no bids: the start price
        (10, 10, True, None, 11),
        (100, 120, True, None, 125),
        (10, 10, True, 4, 14),
        (1_000, 1_000, False, 50, 1_000),
    ],
)
def test_min_next_bid(start, price, has_bids, custom, expected):
    assert min_next_bid(start, price, has_bids, custom) == expected


def run(state: EnglishState, bids: list[tuple[int, int]]) -> EnglishState:
    for bidder, new_max in bids:
        out = resolve_proxy(state, bidder, new_max)
        state = EnglishState(state.start_price, out.price, out.leader_id, out.leader_max, state.reserve, state.custom_increment)
    return state


# (description, start, reserve, custom increment, bids as (bidder, max), leader, price)
PROXY_CASES = [
    ("A max 100 alone: price is the start", 10, None, None, [(A, 100)], A, 10),
    ("B max 80 under A's 100: A leads at 81", 10, None, None, [(A, 100), (B, 80)], A, 81),
    ("B max 150 over A's 100: B leads at 105", 10, None, None, [(A, 100), (B, 150)], B, 105),
    ("B max 101 just over: B leads at 101 (capped by own max)", 10, None, None, [(A, 100), (B, 101)], B, 101),
    ("equal maximums: the earlier wins at that price", 10, None, None, [(A, 100), (B, 100)], A, 100),
    ("B max 99: A leads at min(100, 99 + 1)", 10, None, None, [(A, 100), (B, 99)], A, 100),
    ("leader raising own max does not move the price", 10, None, None, [(A, 100), (B, 80), (A, 300)], A, 81),
    ("three bidders", 10, None, None, [(A, 100), (B, 80), (C, 200)], C, 105),
    ("custom increment", 10, None, 10, [(A, 100), (B, 50)], A, 60),
    ("reserve met by the first max: price jumps to it", 10, 50, None, [(A, 100)], A, 50),
    ("reserve not met: price stays at start", 10, 50, None, [(A, 40)], A, 10),
    ("second bid meets the reserve", 10, 50, None, [(A, 40), (B, 60)], B, 50),
    ("leader raising to the reserve moves the price to it", 10, 50, None, [(A, 40), (A, 70)], A, 50),
    ("above the reserve the usual proxy rule applies", 10, 50, None, [(A, 100), (B, 80)], A, 81),
    ("increment at higher levels", 100, None, None, [(A, 1_000), (B, 600)], A, 610),
]


@pytest.mark.parametrize(("start", "reserve", "custom", "bids", "leader", "price"), [c[1:] for c in PROXY_CASES], ids=[c[0] for c in PROXY_CASES])
def test_proxy_bidding(start, reserve, custom, bids, leader, price):
    state = run(EnglishState(start, start, reserve=reserve, custom_increment=custom), bids)
    assert (state.leader_id, state.price) == (leader, price)


def test_outbid_is_reported_only_when_the_lead_changes():
    state = EnglishState(10, 10)
    first = resolve_proxy(state, A, 100)
    assert first.outbid_id is None
    state = run(state, [(A, 100)])
    assert resolve_proxy(state, B, 80).outbid_id is None
    assert resolve_proxy(state, B, 150).outbid_id == A
    assert resolve_proxy(state, A, 150).outbid_id is None


@pytest.mark.parametrize(
    ("bids", "new", "code", "minimum"),
    [
        ([], (A, 9), "too_low", 10),
        ([(A, 100)], (B, 10), "too_low", 11),
        ([(A, 100), (B, 80)], (C, 81), "too_low", 82),
        ([(A, 100)], (A, 100), "not_raised", 101),
        ([(A, 100)], (A, 50), "not_raised", 101),
    ],
)
def test_refused_maximums(bids, new, code, minimum):
    state = run(EnglishState(10, 10), bids)
    with pytest.raises(RuleViolation) as info:
        resolve_proxy(state, *new)
    assert (info.value.code, info.value.minimum) == (code, minimum)


NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("left", "window", "extension", "new_left"),
    [
        (300, 120, 120, 300),  # plenty of time: unchanged
        (120, 120, 120, 120),  # exactly the window left: unchanged
        (119, 120, 120, 120),  # inside the window: now + extension
        (5, 120, 120, 120),
        (60, 120, 30, 60),     # extension shorter than what is left: end never moves back
        (10, 120, 300, 300),
    ],
)
def test_anti_sniping(left, window, extension, new_left):
    ends = NOW + timedelta(seconds=left)
    assert extended_end(ends, NOW, window, extension) == NOW + timedelta(seconds=new_left)


@pytest.mark.parametrize(
    ("leader", "leader_max", "price", "reserve", "expected"),
    [
        (None, None, 10, None, None),
        (A, 100, 81, None, (A, 81)),
        (A, 40, 10, 50, None),
        (A, 60, 50, 50, (A, 50)),
    ],
)
def test_english_settlement(leader, leader_max, price, reserve, expected):
    result = settle_english(leader, leader_max, price, reserve)
    assert (result and (result.winner_id, result.price)) == expected


@pytest.mark.parametrize(
    ("buy_now", "has_bids", "reserve", "leader_max", "available"),
    [
        (None, False, None, None, False),
        (500, False, None, None, True),
        (500, True, None, 100, False),
        (500, True, 200, 100, True),   # reserve not met yet: still available
        (500, True, 200, 250, False),
    ],
)
def test_buy_now_availability(buy_now, has_bids, reserve, leader_max, available):
    assert buy_now_available(buy_now, has_bids, reserve, leader_max) is available


@pytest.mark.parametrize(("name", "masked"), [("Alice", "A***e"), ("Al", "A***l"), ("B", "B***"), ("@bob", "b***b"), ("", "?***")])
def test_masked_names(name, masked):
    assert mask_name(name) == masked

"""Dutch price schedule and sealed-bid (first- and second-price) settlement."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from auction.services.ledger import fee_for
from auction.services.rules import SealedBid, dutch_price, next_dutch_step_at, settle_sealed

START = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("elapsed", "price"),
    [(-5, 1000), (0, 1000), (59, 1000), (60, 950), (119, 950), (600, 500), (3600, 300), (10**6, 300)],
)
def test_dutch_price_follows_the_server_clock(elapsed, price):
    now = START + timedelta(seconds=elapsed)
    assert dutch_price(1000, 300, 50, 60, START, now) == price


def test_next_dutch_step():
    assert next_dutch_step_at(1000, 300, 50, 60, START, START + timedelta(seconds=10)) == START + timedelta(seconds=60)
    assert next_dutch_step_at(1000, 300, 50, 60, START, START + timedelta(hours=2)) is None


def bid(bidder, amount, second):
    return SealedBid(bidder, amount, START + timedelta(seconds=second))


# (description, second_price, start, reserve, bids, expected (winner, price) or None)
SEALED_CASES = [
    ("no bids: no sale", False, 10, None, [], None),
    ("first-price: highest pays own bid", False, 10, None, [bid(1, 50, 0), bid(2, 80, 1), bid(3, 70, 2)], (2, 80)),
    ("first-price tie: earliest wins", False, 10, None, [bid(1, 80, 5), bid(2, 80, 1)], (2, 80)),
    ("second-price: pays the runner-up", True, 10, None, [bid(1, 50, 0), bid(2, 80, 1), bid(3, 70, 2)], (2, 70)),
    ("second-price alone: pays the start price", True, 10, None, [bid(1, 50, 0)], (1, 10)),
    ("second-price tie: earliest wins, pays the tied amount", True, 10, None, [bid(1, 80, 5), bid(2, 80, 1)], (2, 80)),
    ("reserve not met: no sale", False, 10, 100, [bid(1, 90, 0)], None),
    ("first-price reserve met", False, 10, 100, [bid(1, 120, 0)], (1, 120)),
    ("second-price pays at least the reserve", True, 10, 100, [bid(1, 150, 0), bid(2, 60, 1)], (1, 100)),
    ("second-price above the reserve", True, 10, 100, [bid(1, 150, 0), bid(2, 130, 1)], (1, 130)),
    ("second-price alone with reserve", True, 10, 100, [bid(1, 150, 0)], (1, 100)),
]


@pytest.mark.parametrize(("second", "start", "reserve", "bids", "expected"), [c[1:] for c in SEALED_CASES], ids=[c[0] for c in SEALED_CASES])
def test_sealed_settlement(second, start, reserve, bids, expected):
    result = settle_sealed(bids, second, start, reserve)
    assert (result and (result.winner_id, result.price)) == expected


@pytest.mark.parametrize(("price", "percent", "fee"), [(100, 5, 5), (19, 5, 0), (1999, 5, 99), (1000, 0, 0)])
def test_platform_fee_rounds_down(price, percent, fee):
    assert fee_for(price, percent) == fee

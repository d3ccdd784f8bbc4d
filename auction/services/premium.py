"""Premium: whether a person has it now and what it allows them (the seed's paid subscription).

Correctness never waits for the expiry job: every check here compares `expires_at` (UTC) with
the clock. Limits come from config: FREE_LIVE_AUCTIONS / PREMIUM_LIVE_AUCTIONS,
FREE_PHOTOS / PREMIUM_PHOTOS, PLATFORM_FEE_PERCENT / PREMIUM_FEE_PERCENT.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import func, select

from auction.extensions import db
from auction.models import Subscription, utcnow

# Auction kinds a free seller may list; Premium adds Dutch and both sealed kinds.
FREE_KINDS = frozenset({"english"})


@dataclass(frozen=True)
class Allowance:
    """What a seller may do now: `live_auctions` at once, `photos` per listing, `fee_percent` of a sale."""

    premium: bool
    until: datetime | None
    live_auctions: int
    photos: int
    fee_percent: int

    def allows_kind(self, kind: str) -> bool:
        """English auctions for everyone; Dutch and sealed-bid with Premium."""
        return self.premium or kind in FREE_KINDS


def _period_end(user_id: int, at: datetime) -> datetime | None:
    return db.session.scalar(
        select(func.max(Subscription.expires_at)).where(
            Subscription.user_id == user_id,
            Subscription.status.in_(("active", "canceled")),  # a canceled renewal still runs out its period
            Subscription.starts_at <= at,
            Subscription.expires_at > at,
        )
    )


def premium_until(user_id: int | None, at: datetime | None = None) -> datetime | None:
    """The end (UTC) of the person's paid Premium running at `at`, or None.

    Periods paid back to back (a wallet period bought before the current one ends starts at
    its end) count as one stretch: the end is that of the last of them.
    """
    if user_id is None:
        return None
    end = _period_end(user_id, at or utcnow())
    while end is not None:
        following = _period_end(user_id, end)
        if following is None:
            return end
        end = following
    return None


def is_premium(user_id: int | None, at: datetime | None = None) -> bool:
    """True while a paid Premium period covers `at` (default now, UTC); one query (the header and profiles ask it)."""
    return user_id is not None and _period_end(user_id, at or utcnow()) is not None


def allowance(user_id: int | None, at: datetime | None = None) -> Allowance:
    """The limits that apply to this person at `at` (default now, UTC)."""
    config = current_app.config
    until = premium_until(user_id, at)
    if until is not None:
        return Allowance(True, until, config["PREMIUM_LIVE_AUCTIONS"], config["PREMIUM_PHOTOS"], config["PREMIUM_FEE_PERCENT"])
    return Allowance(False, None, config["FREE_LIVE_AUCTIONS"], config["FREE_PHOTOS"], config["PLATFORM_FEE_PERCENT"])

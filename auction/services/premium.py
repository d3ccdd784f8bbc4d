"""Premium: whether a person has it now and what it allows them (the seed's paid subscription).

Correctness never waits for the expiry job: every check here compares `expires_at` (UTC) with
the clock. Limits come from config: FREE_LIVE_AUCTIONS / PREMIUM_LIVE_AUCTIONS,
FREE_PHOTOS / PREMIUM_PHOTOS, PLATFORM_FEE_PERCENT / PREMIUM_FEE_PERCENT.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import case, exists, func, select

from auction.extensions import db
from auction.models import Auction, Subscription, utcnow
from auction.models.auctions import AUCTION_KINDS
from auction.services.errors import PremiumRequired, ServiceError

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


def plans(until: datetime | None = None) -> tuple[Allowance, Allowance]:
    """The free plan and Premium (running until `until`, UTC), as config sets them."""
    config = current_app.config
    return (
        Allowance(False, None, config["FREE_LIVE_AUCTIONS"], config["FREE_PHOTOS"], config["PLATFORM_FEE_PERCENT"]),
        Allowance(True, until, config["PREMIUM_LIVE_AUCTIONS"], config["PREMIUM_PHOTOS"], config["PREMIUM_FEE_PERCENT"]),
    )


def allowance(user_id: int | None, at: datetime | None = None) -> Allowance:
    """The limits that apply to this person at `at` (default now, UTC)."""
    until = premium_until(user_id, at)
    free, plus = plans(until)
    return plus if until is not None else free


# Auctions that count against the "live auctions at once" limit: running, or waiting to open.
COUNTED_STATUSES = ("live", "scheduled")


def premium_now_clause(user_id_column, at: datetime | None = None):
    """A SQL condition: the seller in `user_id_column` has a paid Premium period covering `at` (default now, UTC).

    An EXISTS on subscriptions (index user_id, expires_at), so a listing query marks featured
    sellers in the same statement instead of one look-up per card.
    """
    at = at or utcnow()
    return exists().where(
        Subscription.user_id == user_id_column,
        Subscription.status.in_(("active", "canceled")),
        Subscription.starts_at <= at,
        Subscription.expires_at > at,
    )


def premium_sellers(at: datetime | None = None):
    """A SELECT of the ids of people with a paid Premium period covering `at` (default now, UTC); for `IN (...)`."""
    at = at or utcnow()
    return select(Subscription.user_id).where(
        Subscription.status.in_(("active", "canceled")),
        Subscription.starts_at <= at,
        Subscription.expires_at > at,
    )


def featured_column(at: datetime | None = None):
    """A 0/1 column: the auction's seller has Premium at `at` (default now, UTC). Order by it descending for "featured first"."""
    return case((premium_now_clause(Auction.seller_id, at), 1), else_=0).label("featured")


def live_auction_count(seller_id: int) -> int:
    """How many of the seller's auctions are live or scheduled now."""
    return db.session.scalar(
        select(func.count()).select_from(Auction).where(Auction.seller_id == seller_id, Auction.status.in_(COUNTED_STATUSES))
    ) or 0


@dataclass(frozen=True)
class SellerLimits:
    """What the listing form shows before a seller runs into a limit: the allowance and the live count."""

    allowance: Allowance
    live: int
    premium_live_auctions: int
    premium_photos: int
    premium_fee_percent: int

    @property
    def at_live_limit(self) -> bool:
        return self.live >= self.allowance.live_auctions

    @property
    def locked_kinds(self) -> frozenset[str]:
        """The auction types this seller's plan refuses (the form marks them "Premium")."""
        return frozenset(kind for kind in AUCTION_KINDS if not self.allowance.allows_kind(kind))


def seller_limits(seller_id: int, at: datetime | None = None) -> SellerLimits:
    """The seller's allowance at `at` (default now, UTC), their live + scheduled count and what Premium would give."""
    config = current_app.config
    return SellerLimits(
        allowance(seller_id, at),
        live_auction_count(seller_id),
        config["PREMIUM_LIVE_AUCTIONS"],
        config["PREMIUM_PHOTOS"],
        config["PREMIUM_FEE_PERCENT"],
    )


def check_live_limit(limits: SellerLimits) -> None:
    """Refuse one more live or scheduled auction past the allowance.

    Raises PremiumRequired (a free seller: Premium allows more) or LiveLimitReached (a Premium seller at its limit).
    """
    if not limits.at_live_limit:
        return
    if limits.allowance.premium:
        raise LiveLimitReached(limit=limits.allowance.live_auctions)
    raise PremiumRequired(
        _l("You have %(live)s of %(limit)s live auctions, the most a free account may run at once. Premium allows %(premium)s."),
        live=limits.live,
        limit=limits.allowance.live_auctions,
        premium=limits.premium_live_auctions,
    )


def check_kind(kind: str, limits: SellerLimits) -> None:
    """Refuse a Dutch or sealed-bid auction to a free seller; raises PremiumRequired (field "kind")."""
    if not limits.allowance.allows_kind(kind):
        raise PremiumRequired(_l("Dutch and sealed-bid auctions need Premium. A free account lists English auctions."), field="kind")


def check_photos(count: int, limits: SellerLimits) -> None:
    """Refuse more photos than the allowance; raises PremiumRequired (field "photos") for a free seller."""
    if count <= limits.allowance.photos:
        return
    if limits.allowance.premium:
        raise TooManyPhotos(limit=limits.allowance.photos)
    raise PremiumRequired(
        _l("A free account adds up to %(limit)s photos to a listing; Premium allows %(premium)s."),
        field="photos",
        limit=limits.allowance.photos,
        premium=limits.premium_photos,
    )


def check_listing(seller_id: int, kind: str, photos: int, at: datetime | None = None) -> SellerLimits:
    """Every Premium limit on listing one more auction of `kind` with `photos` photos; returns the limits that applied.

    Raises PremiumRequired, LiveLimitReached or TooManyPhotos. Call it inside the write
    transaction that stores the auction, so two listings at once cannot both pass the count.
    """
    limits = seller_limits(seller_id, at)
    check_kind(kind, limits)
    check_photos(photos, limits)
    check_live_limit(limits)
    return limits


class LiveLimitReached(ServiceError):
    """A Premium seller already runs as many auctions at once as Premium allows."""

    message = _l("You already run %(limit)s auctions at once, the most Premium allows. List more when one ends.")
    status = 409
    field = "form"


class TooManyPhotos(ServiceError):
    """More photos than even Premium allows."""

    message = _l("A listing has at most %(limit)s photos.")
    field = "photos"

"""Public profiles: what anyone may see of a person at /users/<id> and in the bot's /profile.

A profile never shows the Telegram id, nor a last name in full: the public name is the
first name with the last name's initial ("Alice S."), or @username when there is no first
name, or "Member #<id>" (the site's own number) when there is neither.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from auction.extensions import db
from auction.models import Auction, User
from auction.services import achievements, premium, ratings
from auction.services.names import public_initials, public_name

PAST_SALES_LIMIT = 20


@dataclass(frozen=True)
class PastSale:
    auction_id: int
    title: str
    price: int
    ended_at: datetime


@dataclass(frozen=True)
class Profile:
    user_id: int
    name: str
    initials: str
    photo_url: str | None
    username: str | None
    member_since: datetime
    as_seller: ratings.RatingSummary
    as_buyer: ratings.RatingSummary
    reviews: list[ratings.Review]
    badges: list[achievements.BadgeProgress]
    live_auctions: list[Auction]
    past_sales: list[PastSale]
    premium: bool  # a paid Premium period covers now

    @property
    def badges_awarded(self) -> int:
        return sum(1 for badge in self.badges if badge.awarded)


def profile(user_id: int) -> Profile | None:
    """The public profile of a person, or None for an unknown or suspended one."""
    user = db.session.get(User, user_id)
    if user is None or user.is_suspended:
        return None
    live = list(
        db.session.scalars(
            select(Auction)
            .where(Auction.seller_id == user_id, Auction.status == "live", Auction.hidden_at.is_(None))
            .options(selectinload(Auction.images), selectinload(Auction.category))
            .order_by(Auction.ends_at, Auction.id)
        )
    )
    sales = db.session.execute(
        select(Auction.id, Auction.title, Auction.final_price, Auction.closed_at)
        .where(Auction.seller_id == user_id, Auction.status == "ended", Auction.winner_id.is_not(None), Auction.hidden_at.is_(None))
        .order_by(Auction.closed_at.desc(), Auction.id.desc())
        .limit(PAST_SALES_LIMIT)
    ).all()
    return Profile(
        user_id=user.id,
        name=public_name(user),
        initials=public_initials(user),
        photo_url=user.photo_url,
        username=user.username,
        member_since=user.created_at,
        as_seller=ratings.summary(user_id, "buyer_to_seller"),
        as_buyer=ratings.summary(user_id, "seller_to_buyer"),
        reviews=ratings.reviews(user_id),
        badges=achievements.badges(user_id),
        live_auctions=live,
        past_sales=[PastSale(*row) for row in sales],
        premium=premium.is_premium(user_id),
    )

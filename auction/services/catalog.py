"""Reading the catalogue: live auctions and categories for the pages and the bot."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import literal, select, union_all
from sqlalchemy.orm import selectinload

from auction.extensions import db
from auction.models import Auction, Category, utcnow
from auction.services import premium


@dataclass(frozen=True)
class Showcase:
    """The home page grid: auctions in their order, and the ids of those featured (a Premium seller's)."""

    auctions: list[Auction]
    featured: frozenset[int]


def showcase(limit: int = 48, category: Category | None = None) -> Showcase:
    """The home page's cards (in `category` when given): auctions open for bids, Premium sellers'
    first, then the ones ending soonest; then scheduled auctions, opening soonest first.

    One statement of two halves, each walking an index with its own LIMIT: the featured half
    starts from the sellers with Premium now (few), the rest walks (status, ends_at) skipping
    them. Ordering every live auction by "featured" instead would test each one of them.
    """
    now = utcnow()
    conditions = [Auction.status == "live", Auction.hidden_at.is_(None)]  # none hidden by moderation
    if category is not None:
        conditions.append(Auction.category_id == category.id)
    premium_sellers = premium.premium_sellers(now)
    featured = (
        select(Auction.id, Auction.ends_at, literal(1).label("featured"))
        .where(*conditions, Auction.seller_id.in_(premium_sellers))
        .order_by(Auction.ends_at, Auction.id)
        .limit(limit)
    )
    others = (
        select(Auction.id, Auction.ends_at, literal(0).label("featured"))
        .where(*conditions, Auction.seller_id.not_in(premium_sellers))
        .order_by(Auction.ends_at, Auction.id)
        .limit(limit)
    )
    shown = union_all(featured.subquery().select(), others.subquery().select()).subquery("shown")
    query = (
        select(Auction, shown.c.featured)
        .join(shown, shown.c.id == Auction.id)
        .options(selectinload(Auction.images), selectinload(Auction.category))
        .order_by(shown.c.featured.desc(), shown.c.ends_at, shown.c.id)
        .limit(limit)
    )
    rows = db.session.execute(query).all()
    auctions = [auction for auction, _ in rows]
    if len(auctions) < limit:
        # Then the scheduled ones, opening soonest first: their cards count down to the opening.
        scheduled = (
            select(Auction)
            .where(Auction.status == "scheduled", Auction.hidden_at.is_(None))
            .options(selectinload(Auction.images), selectinload(Auction.category))
            .order_by(Auction.starts_at, Auction.id)
            .limit(limit - len(auctions))
        )
        if category is not None:
            scheduled = scheduled.where(Auction.category_id == category.id)
        auctions += db.session.scalars(scheduled)
    return Showcase(auctions, frozenset(auction.id for auction, is_featured in rows if is_featured))


def categories() -> list[Category]:
    return list(db.session.scalars(select(Category).order_by(Category.position, Category.id)))


def get_auction(auction_id: int) -> Auction | None:
    return db.session.get(Auction, auction_id)

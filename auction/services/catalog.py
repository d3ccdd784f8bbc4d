"""Reading the catalogue: live auctions and categories for the pages and the bot."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from auction.extensions import db
from auction.models import Auction, Category
from auction.services import premium


@dataclass(frozen=True)
class Showcase:
    """The home page grid: auctions in their order, and the ids of those featured (a Premium seller's)."""

    auctions: list[Auction]
    featured: frozenset[int]


def showcase(limit: int = 48, category: Category | None = None) -> Showcase:
    """Auctions open for bids (in `category` when given): Premium sellers' first, then the ones ending soonest.

    One statement: whether a seller has Premium now is an EXISTS on subscriptions beside each row.
    """
    featured = premium.featured_column()
    query = (
        select(Auction, featured)
        .where(Auction.status == "live")
        .options(selectinload(Auction.images), selectinload(Auction.category))
        .order_by(featured.desc(), Auction.ends_at, Auction.id)
        .limit(limit)
    )
    if category is not None:
        query = query.where(Auction.category_id == category.id)
    rows = db.session.execute(query).all()
    return Showcase([auction for auction, _ in rows], frozenset(auction.id for auction, is_featured in rows if is_featured))


def live_auctions(limit: int = 48, category: Category | None = None) -> list[Auction]:
    """Auctions open for bids (in `category` when given): Premium sellers' first, then the ones ending soonest."""
    return showcase(limit, category).auctions


def categories() -> list[Category]:
    return list(db.session.scalars(select(Category).order_by(Category.position, Category.id)))


def get_auction(auction_id: int) -> Auction | None:
    return db.session.get(Auction, auction_id)

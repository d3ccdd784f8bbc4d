"""Reading the catalogue: live auctions and categories for the pages and the bot."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from auction.extensions import db
from auction.models import Auction, Category


def live_auctions(limit: int = 48, category: Category | None = None) -> list[Auction]:
    """Auctions open for bids (in `category` when given), the ones ending soonest first; none hidden by moderation."""
    query = (
        select(Auction)
        .where(Auction.status == "live", Auction.hidden_at.is_(None))
        .options(selectinload(Auction.images), selectinload(Auction.category))
        .order_by(Auction.ends_at, Auction.id)
        .limit(limit)
    )
    if category is not None:
        query = query.where(Auction.category_id == category.id)
    return list(db.session.scalars(query))


def categories() -> list[Category]:
    return list(db.session.scalars(select(Category).order_by(Category.position, Category.id)))


def get_auction(auction_id: int) -> Auction | None:
    return db.session.get(Auction, auction_id)

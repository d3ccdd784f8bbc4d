"""Listing items for auction: creating a listing with its photos."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l

from auction.extensions import db
from auction.models import Auction, AuctionImage, Category, User, utcnow
from auction.models.auctions import AUCTION_KINDS
from auction.services.errors import Forbidden, ServiceError
from auction.services.photos import store_photo
from auction.services.transaction import atomic, emit

MIN_DURATION = timedelta(minutes=1)
MAX_DURATION = timedelta(days=30)
MAX_PHOTOS = 10


class InvalidListing(ServiceError):
    message = _l("The listing is not valid.")


@dataclass
class ListingDraft:
    title: str
    description: str
    start_price: int
    duration: timedelta
    kind: str = "english"
    category_id: int | None = None
    reserve_price: int | None = None
    buy_now_price: int | None = None
    increment: int | None = None
    starts_at: datetime | None = None
    snipe_window_seconds: int = 120
    snipe_extension_seconds: int = 120
    dutch_floor: int | None = None
    dutch_step: int | None = None
    dutch_interval_seconds: int | None = None
    photos: list[bytes] = field(default_factory=list)


def _validate(draft: ListingDraft) -> None:
    if not draft.title.strip():
        raise InvalidListing(_l("Give the item a title."))
    if draft.kind not in AUCTION_KINDS:
        raise InvalidListing(_l("Choose an auction type."))
    if draft.start_price < 1:
        raise InvalidListing(_l("The start price must be at least 1 Star."))
    if not MIN_DURATION <= draft.duration <= MAX_DURATION:
        raise InvalidListing(_l("The duration must be between 1 minute and 30 days."))
    if draft.reserve_price is not None and draft.reserve_price < draft.start_price:
        raise InvalidListing(_l("The reserve price cannot be below the start price."))
    if draft.buy_now_price is not None and draft.buy_now_price <= draft.start_price:
        raise InvalidListing(_l("The buy-it-now price must be above the start price."))
    if not 1 <= len(draft.photos) <= MAX_PHOTOS:
        raise InvalidListing(_l("Add between 1 and 10 photos."))
    if draft.kind == "dutch" and not (draft.dutch_floor and draft.dutch_step and draft.dutch_interval_seconds):
        raise InvalidListing(_l("A Dutch auction needs a floor price, a step and an interval."))


@atomic
def create_listing(seller_id: int, draft: ListingDraft) -> int:
    """Validate and store a new auction with its photos; returns the auction id."""
    seller = db.session.get(User, seller_id)
    if seller is None or seller.is_suspended:
        raise Forbidden()
    _validate(draft)
    if draft.category_id is not None and db.session.get(Category, draft.category_id) is None:
        raise InvalidListing(_l("Choose a category from the list."))
    stored = [store_photo(data) for data in draft.photos]
    now = utcnow()
    starts_at = max(draft.starts_at or now, now)
    auction = Auction(
        seller_id=seller_id,
        category_id=draft.category_id,
        title=draft.title.strip()[:120],
        description=draft.description.strip(),
        kind=draft.kind,
        status="live" if starts_at <= now else "scheduled",
        start_price=draft.start_price,
        current_price=draft.start_price,
        reserve_price=draft.reserve_price,
        buy_now_price=draft.buy_now_price,
        increment=draft.increment,
        dutch_floor=draft.dutch_floor,
        dutch_step=draft.dutch_step,
        dutch_interval_seconds=draft.dutch_interval_seconds,
        snipe_window_seconds=draft.snipe_window_seconds,
        snipe_extension_seconds=draft.snipe_extension_seconds,
        starts_at=starts_at,
        ends_at=starts_at + draft.duration,
    )
    auction.images = [
        AuctionImage(position=i, thumb_path=p.thumb_path, large_path=p.large_path, width=p.width, height=p.height)
        for i, p in enumerate(stored)
    ]
    db.session.add(auction)
    db.session.flush()
    emit("listings", "auction_created", {"auction_id": auction.id})
    return auction.id

"""Listing items for auction: creating a listing with its photos, and changing it before the first bid."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from auction.extensions import db
from auction.models import Auction, AuctionImage, Category, PhotoUpload, User, utcnow
from auction.models.auctions import AUCTION_KINDS
from auction.services import events, premium, rules
from auction.services.auction_lock import lock_auction
from auction.services.errors import CannotEdit, Forbidden, ServiceError
from auction.services.photos import (
    PhotoRejected,
    StoredPhoto,
    check_pixel_budget,
    delete_photo,
    photo_pool,
    store_photo,
)
from auction.services.transaction import atomic, emit

MIN_DURATION = timedelta(minutes=1)
MAX_DURATION = timedelta(days=30)
MAX_PHOTOS = 10
MAX_AUTO_RELISTS = 10
MAX_SNIPE_SECONDS = 24 * 3600
DEFAULT_SNIPE_SECONDS = 120
MAX_START_DELAY = timedelta(days=90)
# A start typed a few seconds ago (the form took a while to send) still opens at once.
START_GRACE = timedelta(minutes=1)

# The terms each auction type uses (see bidding.py): a Dutch auction has no bids to extend or
# step over, and its floor is its reserve; sealed bids have a reserve and anti-sniping but no
# increment; buy it now and the increment are English only.
KIND_TERMS = {
    "reserve_price": ("english", *rules.SEALED_KINDS),
    "buy_now_price": ("english",),
    "increment": ("english",),
    "snipe": ("english", *rules.SEALED_KINDS),
    "dutch": ("dutch",),
}


def term_applies(kind: str, term: str) -> bool:
    """Whether a listing term (a KIND_TERMS key) means anything for an auction type."""
    return kind in KIND_TERMS[term]


def photo_count(draft: ListingDraft) -> int:
    """The photos a draft ends with: the ones it keeps and the new files together."""
    return len(draft.photos) + len(draft.photo_order or ())


def photo_limit(seller_id: int | None) -> int:
    """The most photos any listing may have (the best plan's); the one place the form checks read it.

    What this seller's own plan allows is premium.check_listing's rule, which explains Premium.
    """
    return max(MAX_PHOTOS, int(current_app.config["PREMIUM_PHOTOS"]))


class InvalidListing(ServiceError):
    """A listing that cannot be stored; `errors` maps each form field to what is wrong with it."""

    message = _l("The listing is not valid.")

    def __init__(self, message=None, errors: dict | None = None, **params):
        super().__init__(message, **params)
        self.errors = errors or {}


@dataclass(frozen=True)
class PhotoRef:
    """One photo of a listing form, in the seller's order: an image the auction has, or a kept upload."""

    image_id: int | None = None
    upload_id: int | None = None


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
    # None: the type's usual (DEFAULT_SNIPE_SECONDS, or none for a Dutch auction).
    snipe_window_seconds: int | None = None
    snipe_extension_seconds: int | None = None
    dutch_floor: int | None = None
    dutch_step: int | None = None
    dutch_interval_seconds: int | None = None
    photos: list[bytes] = field(default_factory=list)  # new files, stored after the `photo_order` ones
    # The photos in order, the first being the cover; None on an edit: they stay as they are.
    photo_order: list[PhotoRef] | None = None
    relists: int = 0  # relist automatically up to this many times when it ends unsold


MAX_DESCRIPTION = 10_000  # characters; the page sends it on every view


def visible_text(text: str) -> str:
    """`text` without spaces, control, format (zero-width, direction overrides) and combining-only characters."""
    return "".join(ch for ch in text if not ch.isspace() and unicodedata.category(ch) not in ("Cc", "Cf", "Mn", "Me", "Zs", "Co", "Cn"))


def listing_errors(draft: ListingDraft, photos_required: bool = True, max_photos: int = MAX_PHOTOS) -> dict[str, object]:
    """Every broken rule of a draft, keyed by the form field it belongs to (empty: valid).

    The photos are counted when required, or when the draft says which to keep (`photo_order`):
    kept and new together, from 1 to `max_photos` (photo_limit(seller)); none reads "Add at least one photo."
    """
    errors: dict[str, object] = {}
    if "\x00" in draft.title:
        errors["title"] = _l("The title holds a character that cannot be stored.")
    elif not visible_text(draft.title):
        errors["title"] = _l("Give the item a title.")
    elif len(draft.title.strip()) > 120:
        errors["title"] = _l("Keep the title under 120 characters.")
    if "\x00" in draft.description:
        errors["description"] = _l("The description holds a character that cannot be stored.")
    elif len(draft.description) > MAX_DESCRIPTION:
        errors["description"] = _l("Keep the description under %(num)s characters.", num=f"{MAX_DESCRIPTION:,}")
    if draft.kind not in AUCTION_KINDS:
        errors["kind"] = _l("Choose an auction type.")
    if draft.start_price < 1:
        errors["start_price"] = _l("The start price must be at least 1 Star.")
    if not MIN_DURATION <= draft.duration <= MAX_DURATION:
        errors["duration"] = _l("The duration must be between 1 minute and 30 days.")
    if draft.starts_at is not None:
        now = utcnow()
        if draft.starts_at < now - START_GRACE:
            errors["starts_at"] = _l("The start time has passed. Pick a later time, or start now.")
        elif draft.starts_at > now + MAX_START_DELAY:
            errors["starts_at"] = _l("The auction must open within 90 days.")
    _price_errors(draft, errors)
    _snipe_errors(draft, errors)
    if photos_required or draft.photo_order is not None:
        count = photo_count(draft)
        if count < 1:
            # Not "between 1 and <the best plan's limit>": the form names this seller's own limit.
            errors["photos"] = _l("Add at least one photo.")
        elif count > max_photos:
            errors["photos"] = _l("Add between 1 and %(max)d photos.", max=max_photos)
    _dutch_errors(draft, errors)
    if not 0 <= draft.relists <= MAX_AUTO_RELISTS:
        errors["relists"] = _l("Relist automatically from 0 to %(max)s times.", max=MAX_AUTO_RELISTS)
    return errors


def _price_errors(draft: ListingDraft, errors: dict[str, object]) -> None:
    kind = draft.kind
    if draft.reserve_price is not None:
        if kind == "dutch":
            errors["reserve_price"] = _l("A Dutch auction has no reserve: its floor price is the lowest it sells for.")
        elif draft.reserve_price < draft.start_price:
            errors["reserve_price"] = _l("The reserve price cannot be below the start price.")
    if draft.buy_now_price is not None:
        if not term_applies(kind, "buy_now_price"):
            errors["buy_now_price"] = _l("Buy it now is only for English auctions.")
        elif draft.buy_now_price <= draft.start_price:
            errors["buy_now_price"] = _l("The buy-it-now price must be above the start price.")
        elif draft.reserve_price is not None and draft.buy_now_price < draft.reserve_price:
            # Otherwise anyone could buy below the price the seller said they would accept.
            errors["buy_now_price"] = _l("The buy-it-now price must be at least the reserve price.")
    if draft.increment is not None:
        if not term_applies(kind, "increment"):
            errors["increment"] = _l("A bid increment is only for English auctions.")
        elif draft.increment < 1:
            errors["increment"] = _l("The increment must be at least 1 Star.")


def _snipe_errors(draft: ListingDraft, errors: dict[str, object]) -> None:
    window, extension = draft.snipe_window_seconds, draft.snipe_extension_seconds
    if not term_applies(draft.kind, "snipe"):
        if window or extension:
            errors["snipe"] = _l("A Dutch auction ends when someone accepts the price, so it has no anti-sniping: leave these empty.")
        return
    if window is not None and window < 0:
        errors["snipe_window_minutes"] = _l("The anti-sniping window cannot be negative.")
    if extension is not None and extension < 0:
        errors["snipe_extension_minutes"] = _l("The extension cannot be negative.")
    if max(window or 0, extension or 0) > MAX_SNIPE_SECONDS:
        errors["snipe"] = _l("The anti-sniping window and extension can be at most one day.")


def _dutch_errors(draft: ListingDraft, errors: dict[str, object]) -> None:
    terms = (draft.dutch_floor, draft.dutch_step, draft.dutch_interval_seconds)
    if draft.kind != "dutch":
        if any(term is not None for term in terms):
            errors["dutch"] = _l("The floor price, step and interval are only for Dutch auctions: leave them empty.")
        return
    if not (draft.dutch_floor and draft.dutch_step and draft.dutch_interval_seconds):
        errors["dutch"] = _l("A Dutch auction needs a floor price, a step and an interval.")
    elif draft.dutch_floor >= draft.start_price:
        errors["dutch"] = _l("The floor price must be below the start price.")
    elif min(draft.dutch_floor, draft.dutch_step, draft.dutch_interval_seconds) < 1:
        errors["dutch"] = _l("The floor, the step and the interval must be positive.")
    elif draft.dutch_interval_seconds > MAX_SNIPE_SECONDS:
        errors["dutch"] = _l("The price can drop at most once a day apart.")


def snipe_seconds(draft: ListingDraft) -> tuple[int, int]:
    """The anti-sniping window and extension to store: the type's usual where the draft leaves them out."""
    if not term_applies(draft.kind, "snipe"):
        return 0, 0
    window, extension = draft.snipe_window_seconds, draft.snipe_extension_seconds
    return (DEFAULT_SNIPE_SECONDS if window is None else window, DEFAULT_SNIPE_SECONDS if extension is None else extension)


def _validate(draft: ListingDraft, seller_id: int, photos_required: bool = True) -> None:
    errors = listing_errors(draft, photos_required, photo_limit(seller_id))
    if errors:
        raise InvalidListing(next(iter(errors.values())), errors=errors)


def _check_listing(seller_id: int, draft: ListingDraft, lock: bool = False) -> premium.SellerLimits:
    """The seller may list this draft: not suspended, valid, within their Premium limits.

    With `lock` (inside the storing transaction) the seller's row is locked first, so two
    listings sent at once cannot both pass the live-auction count on PostgreSQL.
    """
    seller = db.session.get(User, seller_id, with_for_update=lock)
    if seller is None or seller.is_suspended:
        raise Forbidden()
    _validate(draft, seller_id)
    if draft.category_id is not None and db.session.get(Category, draft.category_id) is None:
        raise InvalidListing(_l("Choose a category from the list."), errors={"category_id": _l("Choose a category from the list.")})
    return premium.check_listing(seller_id, draft.kind, photo_count(draft))


def _store_photos(photos: list[bytes]) -> list[StoredPhoto]:
    """Check the request's pixel budget from the headers, then process the photos on the photo pool.

    Raises InvalidListing (a photo refused, or over `PHOTO_PIXEL_BUDGET` pixels together) or
    PhotosBusy (every photo worker busy and the queue full: try again shortly).
    """
    config = current_app.config
    try:
        check_pixel_budget(photos, config.get("PHOTO_PIXEL_BUDGET", 120_000_000))
    except PhotoRejected as exc:
        raise InvalidListing(exc.message, errors={"photos": exc.message}) from None
    pool = photo_pool(config.get("PHOTO_WORKERS", 1), config.get("PHOTO_QUEUE", 2))
    return pool.run(lambda: _process_photos(photos))


def _process_photos(photos: list[bytes]) -> list[StoredPhoto]:
    stored: list[StoredPhoto] = []
    try:
        for number, data in enumerate(photos, start=1):
            try:
                stored.append(store_photo(data))
            except PhotoRejected as exc:
                text = _l("Photo %(num)d: %(problem)s", num=number, problem=str(exc))
                raise InvalidListing(text, errors={"photos": text}) from None
    except BaseException:
        for photo in stored:
            delete_photo(photo)
        raise
    return stored


def create_listing(seller_id: int, draft: ListingDraft) -> int:
    """Validate and store a new auction with its photos; returns the auction id.

    The photos are the draft's kept uploads (`photo_order`, the seller's own: the listing takes
    them over in its transaction) followed by its new files (`photos`). The seller's Premium
    allowance (services/premium.py) decides the auction types, the photos per listing and the
    auctions live at once, and fixes the auction's platform fee. Raises InvalidListing,
    Forbidden (a suspended seller), PhotosBusy, PremiumRequired, LiveLimitReached or TooManyPhotos.

    Pillow takes a while over large photos, so they are processed and written before the
    write transaction (which on SQLite blocks every bid on the site), and deleted again
    if the listing is not stored after all.
    """
    _check_listing(seller_id, draft)
    stored = _store_photos(draft.photos)
    try:
        return _insert_listing(seller_id, draft, stored)
    except BaseException:
        for photo in stored:
            delete_photo(photo)
        raise


@atomic
def _insert_listing(seller_id: int, draft: ListingDraft, stored: list[StoredPhoto]) -> int:
    # Again, locked: the seller, the category or the seller's live auctions may have changed meanwhile.
    limits = _check_listing(seller_id, draft, lock=True)
    now = utcnow()
    starts_at = max(draft.starts_at or now, now)
    snipe_window, snipe_extension = snipe_seconds(draft)
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
        snipe_window_seconds=snipe_window,
        snipe_extension_seconds=snipe_extension,
        starts_at=starts_at,
        ends_at=starts_at + draft.duration,
        relists_left=draft.relists,
        fee_percent=limits.allowance.fee_percent,
    )
    taken = _take_uploads(seller_id, [ref.upload_id for ref in draft.photo_order or () if ref.upload_id is not None])
    if any(ref.image_id is not None for ref in draft.photo_order or ()):
        raise InvalidListing(_PHOTO_GONE, errors={"photos": _PHOTO_GONE})
    auction.images = [
        AuctionImage(position=i, thumb_path=p.thumb_path, large_path=p.large_path, width=p.width, height=p.height)
        for i, p in enumerate([*taken, *stored])
    ]
    db.session.add(auction)
    db.session.flush()
    emit(*events.auction_created(auction.id))
    return auction.id


EDITABLE_FIELDS = (
    "title",
    "description",
    "category_id",
    "start_price",
    "reserve_price",
    "buy_now_price",
    "increment",
    "snipe_window_seconds",
    "snipe_extension_seconds",
    "dutch_floor",
    "dutch_step",
    "dutch_interval_seconds",
)


def editable(auction: Auction) -> bool:
    """A seller may edit or cancel a listing only while it is open and nobody has bid."""
    return rules.editable(auction.status, auction.bid_count)


_PHOTO_GONE = _l("A photo of this form is no longer stored. Choose it again.")


def _take_uploads(seller_id: int, upload_ids: list[int]) -> list[PhotoUpload]:
    """The seller's kept uploads in the order given, removed from the pending ones (this transaction)."""
    if not upload_ids:
        return []
    rows = {
        row.id: row
        for row in db.session.scalars(
            select(PhotoUpload).where(PhotoUpload.id.in_(upload_ids), PhotoUpload.user_id == seller_id).with_for_update()
        )
    }
    if len(rows) != len(set(upload_ids)) or len(upload_ids) != len(set(upload_ids)):
        raise InvalidListing(_PHOTO_GONE, errors={"photos": _PHOTO_GONE})
    for row in rows.values():
        db.session.delete(row)
    return [rows[i] for i in upload_ids]


def update_listing(auction_id: int, seller_id: int, draft: ListingDraft) -> None:
    """Change a listing's terms and photos; only its seller, and only before the first bid.

    The type and start time stay as listed; the end moves with the new duration. When the
    draft has a `photo_order`, the listing's photos become exactly those, in that order (the
    first is the cover): its own images kept, kept uploads taken over. The files of the photos
    left out are deleted once the change has committed, never before, so a failed change
    loses no photo. Raises Forbidden, CannotEdit or InvalidListing.
    """
    removed = _update_listing(auction_id, seller_id, draft)
    for photo in removed:
        delete_photo(photo)


@atomic
def _update_listing(auction_id: int, seller_id: int, draft: ListingDraft) -> list[StoredPhoto]:
    auction = lock_auction(auction_id)
    if auction.seller_id != seller_id:
        raise Forbidden()
    if not editable(auction):
        raise CannotEdit()
    draft.kind = auction.kind
    _validate(draft, seller_id, photos_required=False)
    if draft.category_id is not None and db.session.get(Category, draft.category_id) is None:
        raise InvalidListing(_l("Choose a category from the list."), errors={"category_id": _l("Choose a category from the list.")})
    draft.title = draft.title.strip()
    draft.description = draft.description.strip()
    for name in EDITABLE_FIELDS:
        setattr(auction, name, getattr(draft, name))
    auction.snipe_window_seconds, auction.snipe_extension_seconds = snipe_seconds(draft)
    auction.current_price = draft.start_price
    auction.ends_at = auction.starts_at + draft.duration
    if draft.photo_order is not None:
        premium.check_photos(photo_count(draft), premium.seller_limits(seller_id))  # the plan's photos, with the upgrade link
    removed = _reorder_photos(auction, seller_id, draft.photo_order) if draft.photo_order is not None else []
    if auction.ends_at <= utcnow():
        raise InvalidListing(_l("With that duration the auction would already be over."), errors={"duration": _l("With that duration the auction would already be over.")})
    emit(*events.auction_opened(auction.id))
    emit(*events.listing_repriced(auction))
    return removed


def _reorder_photos(auction: Auction, seller_id: int, order: list[PhotoRef]) -> list[StoredPhoto]:
    """Make the auction's photos exactly `order`; returns the photos left out (their files go after commit)."""
    own = {image.id: image for image in auction.images}
    wanted = [ref.image_id for ref in order if ref.image_id is not None]
    if any(image_id not in own for image_id in wanted) or len(wanted) != len(set(wanted)):
        raise InvalidListing(_PHOTO_GONE, errors={"photos": _PHOTO_GONE})
    taken = {row.id: row for row in _take_uploads(seller_id, [ref.upload_id for ref in order if ref.upload_id is not None])}
    removed = [image for image_id, image in own.items() if image_id not in wanted]
    for image in removed:
        auction.images.remove(image)
    # Positions are unique per auction: park the kept ones out of the way before numbering them again.
    for number, image_id in enumerate(wanted):
        own[image_id].position = -1 - number
    db.session.flush()
    for position, ref in enumerate(order):
        if ref.image_id is not None:
            own[ref.image_id].position = position
        else:
            row = taken[ref.upload_id]
            auction.images.append(AuctionImage(position=position, thumb_path=row.thumb_path, large_path=row.large_path, width=row.width, height=row.height))
    return [StoredPhoto(image.thumb_path, image.large_path, image.width, image.height) for image in removed]

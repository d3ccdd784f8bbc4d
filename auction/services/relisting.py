"""Relisting: an unsold auction comes back as a new one with the same photos and terms.

The seller presses Relist (start now or at a chosen time), or set "relist automatically up
to N times" on the listing form: then each unsold end starts the next run at once, until
the count runs out. The old auction keeps its history; `relisted_as_id` points at the new one.

A relist is a new listing: the seller's Premium allowance at that moment (services/premium.py)
decides whether the type and the number of auctions live at once are allowed, and fixes the
new auction's platform fee. An automatic relist the allowance refuses does not happen; the
seller is told (notification kind "relist_skipped").
"""

from __future__ import annotations

import secrets
import shutil
from datetime import datetime

from flask_babel import lazy_gettext as _l

from auction.config import ROOT
from auction.extensions import db
from auction.models import Auction, AuctionImage, User, utcnow
from auction.services import notifications, premium
from auction.services.errors import Forbidden, NotFound, ServiceError
from auction.services.photos import UPLOAD_DIR
from auction.services.transaction import atomic, emit


class CannotRelist(ServiceError):
    message = _l("Only an auction that ended unsold can be relisted, once.")
    status = 409


class BadStart(ServiceError):
    message = _l("Choose a start time within the next 30 days.")


def relistable(auction: Auction) -> bool:
    """Ended without a winner and not relisted yet."""
    return auction.status == "ended" and auction.winner_id is None and auction.relisted_as_id is None


def _seller_limits(seller_id: int) -> premium.SellerLimits:
    """The seller's Premium limits, read with the seller's row locked (two relists at once count each other)."""
    db.session.get(User, seller_id, with_for_update=True)
    return premium.seller_limits(seller_id)


def _copy_photo(relative: str) -> str:
    """A copy of a stored rendition under a new random name: each auction owns its files."""
    name = secrets.token_urlsafe(16)
    source = ROOT / "static" / relative
    label = "thumb" if relative.endswith("-thumb.webp") else "large"
    target = ROOT / "static" / UPLOAD_DIR / name[:2] / f"{name}-{label}.webp"
    target.parent.mkdir(parents=True, exist_ok=True)
    if source.exists():
        shutil.copyfile(source, target)
    return f"{UPLOAD_DIR}/{name[:2]}/{target.name}"


def _relist(old: Auction, starts_at: datetime, relists_left: int, fee_percent: int) -> Auction:
    now = utcnow()
    starts_at = max(starts_at, now)
    new = Auction(
        seller_id=old.seller_id,
        category_id=old.category_id,
        title=old.title,
        description=old.description,
        kind=old.kind,
        status="live" if starts_at <= now else "scheduled",
        start_price=old.start_price,
        current_price=old.start_price,
        reserve_price=old.reserve_price,
        buy_now_price=old.buy_now_price,
        increment=old.increment,
        dutch_floor=old.dutch_floor,
        dutch_step=old.dutch_step,
        dutch_interval_seconds=old.dutch_interval_seconds,
        snipe_window_seconds=old.snipe_window_seconds,
        snipe_extension_seconds=old.snipe_extension_seconds,
        starts_at=starts_at,
        ends_at=starts_at + (old.ends_at - old.starts_at),
        relists_left=relists_left,
        fee_percent=fee_percent,
    )
    new.images = [
        AuctionImage(position=image.position, thumb_path=_copy_photo(image.thumb_path), large_path=_copy_photo(image.large_path), width=image.width, height=image.height)
        for image in old.images
    ]
    db.session.add(new)
    db.session.flush()
    old.relisted_as_id = new.id
    emit("listings", "auction_created", {"auction_id": new.id})
    return new


@atomic
def relist(auction_id: int, seller_id: int, starts_at: datetime | None = None) -> int:
    """Relist an unsold auction for its seller, starting now or at `starts_at` (UTC, within 30 days); returns the new id.

    Raises NotFound, Forbidden (not the seller), CannotRelist (sold, running or relisted
    already), BadStart (a start more than 30 days ahead), PremiumRequired (a Premium type,
    or the free limit of auctions live at once reached) or premium.LiveLimitReached.
    """
    auction = db.session.get(Auction, auction_id, with_for_update=True)
    if auction is None:
        raise NotFound()
    if auction.seller_id != seller_id:
        raise Forbidden()
    if not relistable(auction):
        raise CannotRelist()
    now = utcnow()
    if starts_at is not None and (starts_at - now).days >= 30:
        raise BadStart()
    limits = _seller_limits(seller_id)
    premium.check_kind(auction.kind, limits)
    premium.check_live_limit(limits)
    return _relist(auction, starts_at or now, relists_left=0, fee_percent=limits.allowance.fee_percent).id


def relist_automatically(auction: Auction) -> int | None:
    """In the closing transaction of an unsold auction: start the next run when relists are left.

    When the seller's allowance no longer permits it (the live-auction limit is reached, or
    Premium ended for a Dutch or sealed-bid auction) nothing is relisted and the seller is told.
    """
    if auction.relists_left <= 0 or not relistable(auction):
        return None
    limits = _seller_limits(auction.seller_id)
    reason = "kind" if not limits.allowance.allows_kind(auction.kind) else "limit" if limits.at_live_limit else None
    if reason is not None:
        auction.relists_left = 0
        notifications.notify(auction.seller_id, "relist_skipped", auction, dedupe_key=f"relist_skipped:{auction.id}", reason=reason)
        return None
    return _relist(auction, utcnow(), relists_left=auction.relists_left - 1, fee_percent=limits.allowance.fee_percent).id

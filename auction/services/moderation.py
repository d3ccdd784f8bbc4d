"""Moderation by admins: suspending and restoring people, cancelling auctions, editing categories.

Every action checks the actor is an admin (NotFound otherwise) and writes the audit log in
the same transaction.

Hiding an auction (`hide_auction`) is milder than cancelling it: the auction leaves the home
page, search, saved-search alerts, profiles, the bot's /search and the watchlists of people
without a bid on it, and its page is "not found" except for its seller, its bidders and admins
(who see the reason). It still runs: bids already made stand, no new bid, buy-it-now or Dutch
accept is taken while it is hidden, and it closes at its end as usual (cancel it to stop it). A suspended person cannot sign in (their sessions end at once), bid,
list or pay (the bidding, listing and payment services refuse them); their live and
scheduled auctions are cancelled, every hold released and the bidders told.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import Exists, Select, String, cast, func, or_, select
from sqlalchemy.orm import selectinload

from auction.extensions import db
from auction.models import Auction, Category, Payment, Subscription, User, utcnow
from auction.services import audit, lifecycle, notices, notifications, staff
from auction.services.errors import NotFound, ServiceError
from auction.services.transaction import atomic

SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


class ReasonMissing(ServiceError):
    message = _l("Write the reason (at most 500 characters).")


class CannotSuspendAdmin(ServiceError):
    message = _l("An admin cannot be suspended here; remove their admin rights first.")
    status = 409


class CategoryInvalid(ServiceError):
    message = _l("A category needs a slug of lowercase letters, digits and dashes, and a name in both languages (at most 64 characters each).")


class CategoryTaken(ServiceError):
    message = _l("Another category already has this slug.")
    status = 409


def _reason(text: str | None) -> str:
    text = (text or "").strip()
    if not text or len(text) > 500:
        raise ReasonMissing()
    return text


def _person(user: User) -> dict:
    return {"is_suspended": user.is_suspended, "session_version": user.session_version}


@atomic
def suspend_person(admin_id: int, user_id: int, reason: str, admin_ids: Collection[int] = ()) -> list[int]:
    """Suspend `user_id` for `reason`; returns the ids of their auctions that were cancelled.

    Raises NotFound (actor not an admin, no such person), ReasonMissing, CannotSuspendAdmin.
    """
    staff.require_admin(admin_id, admin_ids)
    reason = _reason(reason)
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound()
    if staff.is_admin(user, admin_ids):
        raise CannotSuspendAdmin()
    before = _person(user)
    user.is_suspended = True
    user.session_version += 1  # every open session ends now
    open_ids = list(
        db.session.scalars(
            select(Auction.id).where(Auction.seller_id == user_id, Auction.status.in_(("live", "scheduled"))).order_by(Auction.id)
        )
    )
    for auction_id in open_ids:
        lifecycle.cancel_auction(auction_id, admin_id)
    notifications.notify(user_id, "account_suspended", reason=reason)
    audit.record(admin_id, "suspend", "user", user_id, before, {**_person(user), "reason": reason, "canceled_auctions": open_ids})
    return open_ids


@atomic
def restore_person(admin_id: int, user_id: int, admin_ids: Collection[int] = ()) -> None:
    """Lift a suspension; cancelled auctions stay cancelled. Raises NotFound."""
    staff.require_admin(admin_id, admin_ids)
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound()
    before = _person(user)
    user.is_suspended = False
    notifications.notify(user_id, "account_restored")
    audit.record(admin_id, "restore", "user", user_id, before, _person(user))


@atomic
def cancel_auction(admin_id: int, auction_id: int, reason: str, admin_ids: Collection[int] = ()) -> None:
    """Cancel a live or scheduled auction: every hold released, the bidders and the seller told.

    Raises NotFound, ReasonMissing, AuctionClosed (already over).
    """
    staff.require_admin(admin_id, admin_ids)
    reason = _reason(reason)
    auction = db.session.get(Auction, auction_id)
    if auction is None:
        raise NotFound()
    before = {"status": auction.status, "price": auction.current_price, "bids": auction.bid_count}
    lifecycle.cancel_auction(auction_id, admin_id)
    audit.record(admin_id, "cancel_auction", "auction", auction_id, before, {"status": "canceled", "reason": reason})


def _hidden(auction: Auction) -> dict:
    return {"hidden": auction.hidden_at is not None, "reason": auction.hidden_reason, "status": auction.status}


@atomic
def hide_auction(admin_id: int, auction_id: int, reason: str, admin_ids: Collection[int] = ()) -> None:
    """Hide an auction for `reason` (at most 500 characters); the seller is told why.

    Hiding a hidden auction again only changes the reason. Raises NotFound, ReasonMissing.
    """
    staff.require_admin(admin_id, admin_ids)
    reason = _reason(reason)
    auction = db.session.get(Auction, auction_id)
    if auction is None:
        raise NotFound()
    before = _hidden(auction)
    if auction.hidden_at is None:
        auction.hidden_at = utcnow()
    auction.hidden_reason, auction.hidden_by = reason, admin_id
    notices.notify(auction.seller_id, "auction_hidden", auction, dedupe=False, reason=reason)
    audit.record(admin_id, "hide_auction", "auction", auction_id, before, _hidden(auction))


@atomic
def unhide_auction(admin_id: int, auction_id: int, admin_ids: Collection[int] = ()) -> None:
    """Show a hidden auction again everywhere; it takes bids again while it runs. Raises NotFound."""
    staff.require_admin(admin_id, admin_ids)
    auction = db.session.get(Auction, auction_id)
    if auction is None:
        raise NotFound()
    before = _hidden(auction)
    auction.hidden_at = auction.hidden_reason = auction.hidden_by = None
    audit.record(admin_id, "unhide_auction", "auction", auction_id, before, _hidden(auction))


def _category_fields(slug: str, name_en: str, name_ru: str, position: int) -> dict:
    slug, name_en, name_ru = (slug or "").strip().lower(), (name_en or "").strip(), (name_ru or "").strip()
    if not SLUG.fullmatch(slug) or len(slug) > 64 or not name_en or not name_ru or max(len(name_en), len(name_ru)) > 64:
        raise CategoryInvalid()
    return {"slug": slug, "name_en": name_en, "name_ru": name_ru, "position": max(0, min(int(position or 0), 10_000))}


@atomic
def save_category(admin_id: int, category_id: int | None, slug: str, name_en: str, name_ru: str, position: int,
                  admin_ids: Collection[int] = ()) -> int:
    """Create (`category_id` None) or edit a category; returns its id. Raises NotFound, CategoryInvalid, CategoryTaken."""
    staff.require_admin(admin_id, admin_ids)
    fields = _category_fields(slug, name_en, name_ru, position)
    taken = db.session.scalar(select(Category.id).where(Category.slug == fields["slug"]))
    if taken is not None and taken != category_id:
        raise CategoryTaken()
    if category_id is None:
        category, before = Category(**fields), None
        db.session.add(category)
    else:
        category = db.session.get(Category, category_id)
        if category is None:
            raise NotFound()
        before = {key: getattr(category, key) for key in fields}
        for key, value in fields.items():
            setattr(category, key, value)
    db.session.flush()
    audit.record(admin_id, "save_category", "category", category.id, before, fields)
    return category.id


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_").lower() + "%"


def find_people(query: str = "", limit: int = 50) -> list[User]:
    """People whose name, username or Telegram id matches `query` (suspended first), newest first."""
    statement = select(User)
    query = (query or "").strip().lstrip("@")
    if query:
        pattern = _like(query)
        statement = statement.where(
            or_(
                func.lower(User.first_name).like(pattern, escape="\\"),
                func.lower(func.coalesce(User.last_name, "")).like(pattern, escape="\\"),
                func.lower(func.coalesce(User.username, "")).like(pattern, escape="\\"),
                cast(User.telegram_id, String) == query,
                cast(User.id, String) == query,
            )
        )
    return list(db.session.scalars(statement.order_by(User.is_suspended.desc(), User.id.desc()).limit(limit)))


def find_auctions(query: str = "", status: str | None = None, limit: int = 50, hidden: bool = False) -> list[Auction]:
    """Auctions whose title matches `query` (or whose number it is), of one status when given (only hidden ones
    with `hidden`), newest first."""
    statement = select(Auction).options(selectinload(Auction.seller))
    query = (query or "").strip().lstrip("#")
    if query:
        statement = statement.where(or_(func.lower(Auction.title).like(_like(query), escape="\\"), cast(Auction.id, String) == query))
    if status:
        statement = statement.where(Auction.status == status)
    if hidden:
        statement = statement.where(Auction.hidden_at.is_not(None))
    return list(db.session.scalars(statement.order_by(Auction.id.desc()).limit(limit)))


PAYMENT_KINDS = ("all", "premium", "purchase")


@dataclass(frozen=True)
class FoundPayment:
    """A Telegram payment in the admin's list; `premium` when it paid for a Premium period, else it bought Stars."""

    payment: Payment
    premium: bool


def _premium_period() -> Exists:
    return select(Subscription.id).where(Subscription.payment_id == Payment.id).exists()


def _payments() -> Select:
    return (
        select(Payment, _premium_period().label("premium"))
        .join(User, User.id == Payment.user_id)
        .options(selectinload(Payment.user))
    )


def find_payments(query: str = "", limit: int = 50, kind: str = "all") -> list[FoundPayment]:
    """Telegram payments by number, charge id, or the payer's name, username or Telegram id; newest first.

    `kind` (PAYMENT_KINDS): "premium" keeps the charges that paid for Premium, "purchase" the Stars purchases.
    """
    statement = _payments()
    query = (query or "").strip().lstrip("#@")
    if query:
        pattern = _like(query)
        statement = statement.where(
            or_(
                cast(Payment.id, String) == query,
                Payment.telegram_payment_charge_id == query,
                cast(User.telegram_id, String) == query,
                func.lower(User.first_name).like(pattern, escape="\\"),
                func.lower(func.coalesce(User.username, "")).like(pattern, escape="\\"),
            )
        )
    if kind == "premium":
        statement = statement.where(_premium_period())
    elif kind == "purchase":
        statement = statement.where(~_premium_period())
    rows = db.session.execute(statement.order_by(Payment.id.desc()).limit(limit))
    return [FoundPayment(payment, bool(premium)) for payment, premium in rows]


def find_payment(payment_id: int) -> FoundPayment | None:
    """One Telegram payment with its kind (for the refund's confirm step), or None."""
    row = db.session.execute(_payments().where(Payment.id == payment_id)).first()
    return FoundPayment(row[0], bool(row[1])) if row else None

"""Ratings and reviews between the two sides of a settled sale.

The rules (issue 13): after a sale settles, the winner may rate the seller and the seller the
winner, 1-5 with an optional text of up to 1,000 characters; once per auction and side,
within 30 days of the end, and the author may change it for 48 hours. Anyone signed in may
report a review; an admin upholds the report (the review is hidden) or dismisses it.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from auction.extensions import db
from auction.models import Auction, Rating, ReviewReport, User, utcnow
from auction.services import achievements, audit, notifications, staff
from auction.services.errors import Forbidden, NotFound, ServiceError
from auction.services.names import public_name
from auction.services.transaction import atomic

RATING_WINDOW = timedelta(days=30)
EDIT_WINDOW = timedelta(hours=48)
MAX_COMMENT = 1000
MAX_REPORT_REASON = 500


class NotParty(Forbidden):
    message = _l("Only the buyer and the seller of a settled sale can rate it.")


class RatingClosed(ServiceError):
    message = _l("Ratings for this sale closed 30 days after it ended.")
    status = 409


class EditClosed(ServiceError):
    message = _l("A rating can be changed for 48 hours only.")
    status = 409


class InvalidRating(ServiceError):
    message = _l("Choose from 1 to 5 stars.")


class CommentTooLong(ServiceError):
    message = _l("A review can be up to %(max)s characters long.")


class AlreadyReported(ServiceError):
    message = _l("You have reported this review already.")
    status = 409


@dataclass(frozen=True)
class RatingSummary:
    """An average of 1-5 stars (one decimal) and how many ratings it is over; None when there are none."""

    average: float | None
    count: int


@dataclass(frozen=True)
class Review:
    id: int
    auction_id: int
    auction_title: str
    rater_id: int
    rater_name: str
    direction: str
    score: int
    comment: str
    created_at: datetime


@dataclass(frozen=True)
class RatingPrompt:
    """What one side of a sale may do now: rate (no rating yet), change theirs (within 48 h), or nothing."""

    auction_id: int
    direction: str
    ratee_id: int
    existing: Rating | None
    can_edit: bool
    closes_at: datetime


def _side(auction: Auction, user_id: int) -> tuple[str, int] | None:
    """(direction, ratee) for a party to the settled sale, else None."""
    if auction.status != "ended" or auction.winner_id is None or auction.closed_at is None:
        return None
    if user_id == auction.winner_id and user_id != auction.seller_id:
        return "buyer_to_seller", auction.seller_id
    if user_id == auction.seller_id and user_id != auction.winner_id:
        return "seller_to_buyer", auction.winner_id
    return None


def prompt(auction_id: int, user_id: int | None, now: datetime | None = None) -> RatingPrompt | None:
    """The rating this person may give or change for the auction now, or None."""
    if user_id is None:
        return None
    auction = db.session.get(Auction, auction_id)
    side = _side(auction, user_id) if auction else None
    if side is None:
        return None
    now = now or utcnow()
    direction, ratee = side
    existing = db.session.scalar(select(Rating).where(Rating.auction_id == auction_id, Rating.direction == direction))
    closes_at = auction.closed_at + RATING_WINDOW
    if existing is None:
        return RatingPrompt(auction_id, direction, ratee, None, True, closes_at) if now < closes_at else None
    return RatingPrompt(auction_id, direction, ratee, existing, now < existing.created_at + EDIT_WINDOW, closes_at)


@atomic
def rate(auction_id: int, rater_id: int, score: int, comment: str = "") -> int:
    """Rate the other side of a settled sale (or change one's own rating within 48 h); returns the rating id.

    Raises NotFound, NotParty (not the buyer or seller, or the sale did not settle),
    InvalidRating (score outside 1-5), CommentTooLong (over 1,000 characters),
    RatingClosed (30 days after the end) and EditClosed (48 hours after rating).
    """
    auction = db.session.get(Auction, auction_id)
    if auction is None:
        raise NotFound()
    side = _side(auction, rater_id)
    if side is None:
        raise NotParty()
    if not isinstance(score, int) or not 1 <= score <= 5:
        raise InvalidRating()
    comment = (comment or "").strip()
    if len(comment) > MAX_COMMENT:
        raise CommentTooLong(max=MAX_COMMENT)
    now = utcnow()
    direction, ratee_id = side
    existing = db.session.scalar(
        select(Rating).where(Rating.auction_id == auction_id, Rating.direction == direction).with_for_update()
    )
    if existing is not None:
        if now >= existing.created_at + EDIT_WINDOW:
            raise EditClosed()
        existing.score, existing.comment, existing.updated_at = score, comment, now
        rating = existing
    else:
        if now >= auction.closed_at + RATING_WINDOW:
            raise RatingClosed()
        rating = Rating(auction_id=auction_id, rater_id=rater_id, ratee_id=ratee_id, direction=direction, score=score, comment=comment, created_at=now)
        try:
            with db.session.begin_nested():
                db.session.add(rating)
        except IntegrityError:  # the same person rated twice at once: the first one stands
            raise EditClosed() from None
    db.session.flush()
    achievements.on_rated(ratee_id)
    return rating.id


def summary(user_id: int, direction: str = "buyer_to_seller") -> RatingSummary:
    """The person's visible ratings received in one role (as a seller by default)."""
    average, count = db.session.execute(
        select(func.avg(Rating.score), func.count(Rating.id)).where(
            Rating.ratee_id == user_id, Rating.direction == direction, Rating.hidden.is_(False)
        )
    ).one()
    return RatingSummary(round(float(average), 1) if average is not None else None, count or 0)


def reviews(user_id: int, limit: int = 20) -> list[Review]:
    """The visible ratings the person received, newest first, with each rater's public name."""

    rows = db.session.execute(
        select(Rating, Auction.title)
        .join(Auction, Auction.id == Rating.auction_id)
        .where(Rating.ratee_id == user_id, Rating.hidden.is_(False))
        .options(selectinload(Rating.rater))
        .order_by(Rating.created_at.desc(), Rating.id.desc())
        .limit(limit)
    ).all()
    return [
        Review(r.id, r.auction_id, title, r.rater_id, public_name(r.rater), r.direction, r.score, r.comment, r.updated_at or r.created_at)
        for r, title in rows
    ]


def ask_both_sides(auction: Auction) -> None:
    """Ask the buyer and the seller of a just-settled sale, once each, for a rating (the "rate_request" kind:
    one-tap star buttons in the bot, a link to the review form everywhere, an hour after the sale)."""
    if auction.winner_id is None:
        return
    for user_id, other, role in ((auction.winner_id, auction.seller_id, "buyer"), (auction.seller_id, auction.winner_id, "seller")):
        if user_id == other:
            continue
        notifications.notify(
            user_id, "rate_request", auction, dedupe_key=f"rate_request:{auction.id}:{user_id}", path=f"/auctions/{auction.id}/rate", role=role
        )


@atomic
def report_review(rating_id: int, reporter_id: int, reason: str = "") -> int:
    """Report a review to the admins; returns the report id. Raises NotFound, Forbidden (one's own review), AlreadyReported."""
    rating = db.session.get(Rating, rating_id)
    reporter = db.session.get(User, reporter_id)
    if rating is None or rating.hidden or reporter is None:
        raise NotFound()
    if rating.rater_id == reporter_id:
        raise Forbidden()
    report = ReviewReport(rating_id=rating_id, reporter_id=reporter_id, reason=(reason or "").strip()[:MAX_REPORT_REASON])
    try:
        with db.session.begin_nested():
            db.session.add(report)
    except IntegrityError:
        raise AlreadyReported() from None
    return report.id


def reported_reviews() -> list[ReviewReport]:
    """Open reports, oldest first, for the admins' moderation queue (each with its review, reporter, rater and ratee)."""
    return list(
        db.session.scalars(
            select(ReviewReport)
            .where(ReviewReport.resolved_at.is_(None))
            .options(
                selectinload(ReviewReport.reporter),
                selectinload(ReviewReport.rating).selectinload(Rating.rater),
                selectinload(ReviewReport.rating).selectinload(Rating.ratee),
                selectinload(ReviewReport.rating).selectinload(Rating.auction),
            )
            .order_by(ReviewReport.created_at, ReviewReport.id)
        )
    )


def open_report_count() -> int:
    """How many reports wait for an admin (the badge on the admin panel's Reviews tab)."""
    return db.session.scalar(select(func.count(ReviewReport.id)).where(ReviewReport.resolved_at.is_(None))) or 0


@atomic
def resolve_report(report_id: int, admin_id: int, uphold: bool, admin_ids: Collection[int] = ()) -> None:
    """An admin's decision: upholding hides the review (and closes every open report on it); otherwise the report is dismissed.

    A hidden review leaves the ratee's profile and averages (`reviews`, `summary`). The decision is audit-logged.
    Raises Forbidden for anyone but an admin (the `is_admin` flag or a Telegram id in `admin_ids`),
    NotFound for an unknown or already resolved report.
    """
    if not staff.is_admin(db.session.get(User, admin_id), admin_ids):
        raise Forbidden()
    report = db.session.get(ReviewReport, report_id)
    if report is None or report.resolved_at is not None:
        raise NotFound()
    rating = report.rating
    before = {"hidden": rating.hidden, "reason": report.reason, "reporter_id": report.reporter_id}
    now = utcnow()
    targets = [report]
    if uphold:
        rating.hidden = True
        targets = list(db.session.scalars(select(ReviewReport).where(ReviewReport.rating_id == report.rating_id, ReviewReport.resolved_at.is_(None))))
    for item in targets:
        item.resolved_at, item.resolved_by_id, item.upheld = now, admin_id, uphold
    audit.record(admin_id, "remove_review" if uphold else "keep_review", "rating", rating.id, before,
                 {"hidden": rating.hidden, "reports_closed": sorted(item.id for item in targets)})

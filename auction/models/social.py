"""Watchlists, achievements and ratings."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from auction.extensions import db
from auction.models.types import UTCDateTime, one_of, utcnow
from auction.models.users import User

if TYPE_CHECKING:
    from auction.models.auctions import Auction

RATING_DIRECTIONS = ("buyer_to_seller", "seller_to_buyer")


class WatchlistEntry(db.Model):
    __tablename__ = "watchlist"
    __table_args__ = (UniqueConstraint("user_id", "auction_id"), Index(None, "auction_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    auction_id: Mapped[int] = mapped_column(ForeignKey("auctions.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Achievement(db.Model):
    __tablename__ = "achievements"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    icon: Mapped[str] = mapped_column(String(16), default="")
    threshold: Mapped[int] = mapped_column(Integer, default=1)


class UserAchievement(db.Model):
    __tablename__ = "user_achievements"
    __table_args__ = (UniqueConstraint("user_id", "achievement_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    achievement_id: Mapped[int] = mapped_column(ForeignKey("achievements.id"))
    awarded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    achievement: Mapped[Achievement] = relationship()


class Rating(db.Model):
    """One review per finished auction and direction (buyer of seller, seller of buyer)."""

    __tablename__ = "ratings"
    __table_args__ = (
        one_of("direction", RATING_DIRECTIONS),
        CheckConstraint("score BETWEEN 1 AND 5", name="score_range"),
        CheckConstraint("rater_id <> ratee_id", name="not_self"),
        UniqueConstraint("auction_id", "direction"),
        Index(None, "ratee_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    auction_id: Mapped[int] = mapped_column(ForeignKey("auctions.id"))
    rater_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    ratee_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    direction: Mapped[str] = mapped_column(String(16))
    score: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)  # an admin upheld a report

    rater: Mapped[User] = relationship(foreign_keys=[rater_id])
    ratee: Mapped[User] = relationship(foreign_keys=[ratee_id])
    auction: Mapped[Auction] = relationship()


class ReviewReport(db.Model):
    """Someone signed in says a review breaks the rules; an admin resolves it."""

    __tablename__ = "review_reports"
    __table_args__ = (UniqueConstraint("rating_id", "reporter_id"), Index(None, "resolved_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    rating_id: Mapped[int] = mapped_column(ForeignKey("ratings.id", ondelete="CASCADE"))
    reporter_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    upheld: Mapped[bool | None] = mapped_column(Boolean)

    rating: Mapped[Rating] = relationship()
    reporter: Mapped[User] = relationship(foreign_keys=[reporter_id])

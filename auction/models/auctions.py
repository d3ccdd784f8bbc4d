"""Auctions, their photos, categories and bids."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from auction.extensions import db
from auction.models.types import UTCDateTime, one_of, utcnow
from auction.models.users import User

AUCTION_KINDS = ("english", "dutch", "sealed_first", "sealed_second")
AUCTION_STATUSES = ("scheduled", "live", "ended", "canceled")
BID_KINDS = ("bid", "proxy", "sealed", "buy_now", "accept")


class Category(db.Model):
    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name_en: Mapped[str] = mapped_column(String(64))
    name_ru: Mapped[str] = mapped_column(String(64))
    position: Mapped[int] = mapped_column(Integer, default=0)

    def name(self, locale: str) -> str:
        return self.name_ru if locale == "ru" else self.name_en


class Auction(db.Model):
    __tablename__ = "auctions"
    __table_args__ = (
        one_of("kind", AUCTION_KINDS),
        one_of("status", AUCTION_STATUSES),
        CheckConstraint("start_price > 0", name="start_price_positive"),
        CheckConstraint("current_price >= 0", name="current_price_not_negative"),
        CheckConstraint("reserve_price IS NULL OR reserve_price >= start_price", name="reserve_at_least_start"),
        CheckConstraint("buy_now_price IS NULL OR buy_now_price > start_price", name="buy_now_above_start"),
        CheckConstraint("increment IS NULL OR increment > 0", name="increment_positive"),
        CheckConstraint("final_price IS NULL OR final_price > 0", name="final_price_positive"),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("bid_count >= 0", name="bid_count_not_negative"),
        CheckConstraint(
            "kind <> 'dutch' OR (dutch_floor > 0 AND dutch_step > 0 AND dutch_interval_seconds > 0)",
            name="dutch_schedule",
        ),
        Index(None, "status", "ends_at"),
        Index(None, "status", "starts_at"),
        Index(None, "seller_id", "created_at"),
        Index(None, "category_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    seller_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[str] = mapped_column(String(16), default="english")
    status: Mapped[str] = mapped_column(String(16), default="live")
    start_price: Mapped[int] = mapped_column(BigInteger)
    current_price: Mapped[int] = mapped_column(BigInteger)
    reserve_price: Mapped[int | None] = mapped_column(BigInteger)
    buy_now_price: Mapped[int | None] = mapped_column(BigInteger)
    increment: Mapped[int | None] = mapped_column(BigInteger)
    dutch_floor: Mapped[int | None] = mapped_column(BigInteger)
    dutch_step: Mapped[int | None] = mapped_column(BigInteger)
    dutch_interval_seconds: Mapped[int | None] = mapped_column(Integer)
    snipe_window_seconds: Mapped[int] = mapped_column(Integer, default=120)
    snipe_extension_seconds: Mapped[int] = mapped_column(Integer, default=120)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    bid_count: Mapped[int] = mapped_column(Integer, default=0)
    leading_bidder_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    winner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    final_price: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    relists_left: Mapped[int] = mapped_column(Integer, default=0)  # automatic relists still to make when unsold
    relisted_as_id: Mapped[int | None] = mapped_column(ForeignKey("auctions.id"))
    # The platform's cut of this auction's sale in percent, fixed when listed (PLATFORM_FEE_PERCENT,
    # or PREMIUM_FEE_PERCENT for a Premium seller): a listing keeps its terms when Premium ends.
    fee_percent: Mapped[int] = mapped_column(Integer)
    # Hidden by moderation (services/moderation.py): out of every listing, its page only for the
    # seller, people with a bid on it and admins; it still runs to its end, but takes no new offers.
    hidden_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    hidden_reason: Mapped[str | None] = mapped_column(String(500))
    hidden_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    seller: Mapped[User] = relationship(foreign_keys=[seller_id])
    category: Mapped[Category | None] = relationship()
    images: Mapped[list[AuctionImage]] = relationship(
        back_populates="auction", order_by="AuctionImage.position", cascade="all, delete-orphan"
    )

    @property
    def cover(self) -> AuctionImage | None:
        return self.images[0] if self.images else None


class AuctionImage(db.Model):
    __tablename__ = "auction_images"
    __table_args__ = (UniqueConstraint("auction_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    auction_id: Mapped[int] = mapped_column(ForeignKey("auctions.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    thumb_path: Mapped[str] = mapped_column(String(255))
    large_path: Mapped[str] = mapped_column(String(255))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)

    auction: Mapped[Auction] = relationship(back_populates="images")


class Bid(db.Model):
    """One bid; `max_amount` is the proxy maximum behind an English bid."""

    __tablename__ = "bids"
    __table_args__ = (
        one_of("kind", BID_KINDS),
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("max_amount IS NULL OR max_amount >= amount", name="max_at_least_amount"),
        Index(None, "auction_id", "created_at"),
        Index(None, "bidder_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    auction_id: Mapped[int] = mapped_column(ForeignKey("auctions.id", ondelete="CASCADE"))
    bidder_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(16), default="bid")
    amount: Mapped[int] = mapped_column(BigInteger)
    max_amount: Mapped[int | None] = mapped_column(BigInteger)
    is_automatic: Mapped[bool] = mapped_column(Boolean, default=False)
    source: Mapped[str] = mapped_column(String(8), default="web")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    bidder: Mapped[User] = relationship()


class PhotoUpload(db.Model):
    """A photo stored for a listing form that has not been sent successfully yet.

    The form carries a signed token naming the row (services/uploads.py); a listing that is
    stored takes the photo over (the row goes, an AuctionImage comes, in one transaction), and
    a job removes rows and files nobody used once their tokens expired.
    """

    __tablename__ = "photo_uploads"
    __table_args__ = (Index(None, "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    thumb_path: Mapped[str] = mapped_column(String(255))
    large_path: Mapped[str] = mapped_column(String(255))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AuctionView(db.Model):
    """Page views of an auction on one UTC day: counted in memory, added here once a minute (services/view_counts.py)."""

    __tablename__ = "auction_views"

    auction_id: Mapped[int] = mapped_column(ForeignKey("auctions.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)

"""Running the house: sellers' payout requests, the admins' audit log, and the indexes analytics reads."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, BigInteger, CheckConstraint, Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from auction.extensions import db
from auction.models.auctions import Auction, Bid
from auction.models.money import LedgerTransfer, Payment
from auction.models.types import UTCDateTime, one_of, utcnow
from auction.models.users import User

PAYOUT_STATUSES = ("pending", "paid", "rejected")


class PayoutRequest(db.Model):
    """A seller's request to take `amount` Stars off the platform; an admin pays it out elsewhere or rejects it.

    While pending, its Stars sit in the platform's "payouts_pending" ledger account.
    """

    __tablename__ = "payout_requests"
    __table_args__ = (
        one_of("status", PAYOUT_STATUSES),
        CheckConstraint("amount > 0", name="amount_positive"),
        Index(None, "status", "created_at"),
        Index(None, "user_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    amount: Mapped[int] = mapped_column(BigInteger)
    details: Mapped[str] = mapped_column(Text)  # how the seller wants to be paid
    status: Mapped[str] = mapped_column(String(16), default="pending")
    reference: Mapped[str | None] = mapped_column(String(200))  # the external payment's reference
    reason: Mapped[str | None] = mapped_column(Text)  # why it was rejected
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(foreign_keys=[user_id])


class AnalyticsDay(db.Model):
    """The per-day figures of the analytics report for one complete UTC day (never today).

    Filled by `services.analytics.roll_up` (a scheduled job, and on demand for a day the report
    needs and does not find); each value equals what the live per-day query gives for that day.
    """

    __tablename__ = "analytics_daily"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    bids: Mapped[int] = mapped_column(BigInteger)  # bids placed that day
    sales: Mapped[int] = mapped_column(BigInteger)  # auctions that closed sold that day
    volume: Mapped[int] = mapped_column(BigInteger)  # Stars: their final prices summed
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AdminAction(db.Model):
    """One admin action, append-only: who did what to which object, when, and the state before and after."""

    __tablename__ = "admin_actions"
    __table_args__ = (
        Index(None, "created_at"),
        Index(None, "target_type", "target_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    admin_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(40))
    target_type: Mapped[str] = mapped_column(String(20))
    target_id: Mapped[int | None] = mapped_column(BigInteger)
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    admin: Mapped[User] = relationship()


# Analytics filters every table by a date range; these keep those aggregates off full scans.
# Auctions listed are counted per status, kind and category as ranges of (value, created_at)
# indexes; sales are read from one index holding every column the report needs (measured with
# bench/search.py at 100,000 auctions: each figure is then an index range, never a table scan).
Index("ix_users_created_at", User.created_at)
Index("ix_auctions_created_at", Auction.created_at)
Index("ix_auctions_status_created_at", Auction.status, Auction.created_at)
Index("ix_auctions_kind_created_at", Auction.kind, Auction.created_at)
Index("ix_auctions_category_id_created_at", Auction.category_id, Auction.created_at)
Index("ix_auctions_status_closed_at_report", Auction.status, Auction.closed_at, Auction.winner_id, Auction.seller_id,
      Auction.category_id, Auction.final_price)
Index("ix_bids_created_at", Bid.created_at)
Index("ix_ledger_transfers_reason_created_at", LedgerTransfer.reason, LedgerTransfer.created_at)
Index("ix_payments_created_at", Payment.created_at)

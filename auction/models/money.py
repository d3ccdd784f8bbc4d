"""Money: Star purchases, Telegram payments and the double-entry ledger.

Amounts are whole Stars (XTR) in BIGINT columns. Every movement is a transfer from
one account to another; transfers are never updated or deleted. Cached balances on
`ledger_accounts` change in the same transaction as the transfer that moves them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from auction.extensions import db
from auction.models.types import UTCDateTime, one_of, utcnow
from auction.models.users import User

ACCOUNT_KINDS = ("available", "held", "platform_revenue", "telegram_stars", "sandbox", "payouts_pending", "payouts_paid")
USER_ACCOUNT_KINDS = ("available", "held")
PURCHASE_STATUSES = ("pending", "paid", "canceled", "expired")
PAYMENT_STATUSES = ("paid", "refunded")
HOLD_STATUSES = ("active", "released", "captured")


class StarPurchase(db.Model):
    """An invoice we issued; its random payload is what Telegram sends back."""

    __tablename__ = "star_purchases"
    __table_args__ = (
        one_of("status", PURCHASE_STATUSES),
        CheckConstraint("amount > 0", name="amount_positive"),
        Index(None, "user_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    payload: Mapped[str] = mapped_column(String(64), unique=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    purpose: Mapped[str] = mapped_column(String(16), default="stars")
    status: Mapped[str] = mapped_column(String(16), default="pending")
    source: Mapped[str] = mapped_column(String(8), default="bot")
    invoice_link: Mapped[str | None] = mapped_column(String(512))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Payment(db.Model):
    """A successful Telegram payment; the charge id is credited at most once."""

    __tablename__ = "payments"
    __table_args__ = (
        one_of("status", PAYMENT_STATUSES),
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("currency = 'XTR'", name="currency_xtr"),
        Index(None, "user_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    purchase_id: Mapped[int | None] = mapped_column(ForeignKey("star_purchases.id"), unique=True)
    telegram_payment_charge_id: Mapped[str] = mapped_column(String(128), unique=True)
    provider_payment_charge_id: Mapped[str | None] = mapped_column(String(128))
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3), default="XTR")
    status: Mapped[str] = mapped_column(String(16), default="paid")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    refunded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


class LedgerAccount(db.Model):
    """A balance: a user's available or held Stars, or a platform-side account."""

    __tablename__ = "ledger_accounts"
    __table_args__ = (
        one_of("kind", ACCOUNT_KINDS),
        UniqueConstraint("kind", "user_id"),
        CheckConstraint(
            "kind NOT IN ('available', 'held') OR (user_id IS NOT NULL AND balance >= 0)",
            name="user_balance_not_negative",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    balance: Mapped[int] = mapped_column(BigInteger, default=0)


class LedgerTransfer(db.Model):
    """One movement of Stars: debit one account, credit another. Append-only."""

    __tablename__ = "ledger_transfers"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("debit_account_id <> credit_account_id", name="distinct_accounts"),
        Index(None, "debit_account_id", "id"),
        Index(None, "credit_account_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    debit_account_id: Mapped[int] = mapped_column(ForeignKey("ledger_accounts.id"))
    credit_account_id: Mapped[int] = mapped_column(ForeignKey("ledger_accounts.id"))
    amount: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(String(32))
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"))
    auction_id: Mapped[int | None] = mapped_column(ForeignKey("auctions.id"))
    hold_id: Mapped[int | None] = mapped_column(ForeignKey("holds.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    debit_account: Mapped[LedgerAccount] = relationship(foreign_keys=[debit_account_id])
    credit_account: Mapped[LedgerAccount] = relationship(foreign_keys=[credit_account_id])


class Hold(db.Model):
    """Stars reserved for a bid; at most one active hold per user and auction."""

    __tablename__ = "holds"
    __table_args__ = (
        one_of("status", HOLD_STATUSES),
        CheckConstraint("amount > 0", name="amount_positive"),
        Index(
            "uq_holds_active_user_auction",
            "user_id",
            "auction_id",
            unique=True,
            sqlite_where=db.text("status = 'active'"),
            postgresql_where=db.text("status = 'active'"),
        ),
        Index(None, "auction_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    auction_id: Mapped[int] = mapped_column(ForeignKey("auctions.id"))
    amount: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16), default="active")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

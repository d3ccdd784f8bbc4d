"""People: users, their subscriptions and the login hashes already spent."""

from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from auction.extensions import db
from auction.models.types import UTCDateTime, one_of, utcnow

SUBSCRIPTION_STATUSES = ("active", "canceled", "expired")
SUBSCRIPTION_SOURCES = ("telegram", "balance")  # a Telegram Stars subscription, or Stars from the wallet


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    telegram_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    username: Mapped[str | None] = mapped_column(String(64))
    first_name: Mapped[str] = mapped_column(String(128), default="")
    last_name: Mapped[str | None] = mapped_column(String(128))
    photo_url: Mapped[str | None] = mapped_column(String(512))
    language_code: Mapped[str | None] = mapped_column(String(16))
    locale: Mapped[str | None] = mapped_column(String(8))  # the user's own choice wins
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    email: Mapped[str | None] = mapped_column(String(254))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    is_suspended: Mapped[bool] = mapped_column(Boolean, default=False)
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    bot_blocked: Mapped[bool] = mapped_column(Boolean, default=False)
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    subscriptions: Mapped[list[Subscription]] = relationship(back_populates="user")

    @property
    def display_name(self) -> str:
        full = " ".join(part for part in (self.first_name, self.last_name) if part)
        return full or (f"@{self.username}" if self.username else f"#{self.id}")

    @property
    def initials(self) -> str:
        return "".join(word[0] for word in self.display_name.lstrip("@#").split()[:2]).upper() or "?"

    def get_id(self) -> str:
        # The session version makes every old cookie invalid after logout.
        return f"{self.id}:{self.session_version}"


class Subscription(db.Model):
    """One paid Premium period (the seed's `subscribers`): each Telegram charge or wallet payment is a row.

    `status` "active" renews at the end (Telegram charges again, or the expiry job pays from
    the wallet), "canceled" runs out, "expired" is over (or refunded). `subscription_charge_id`
    is the charge id of the first payment of a Telegram subscription, which names it in
    editUserStarSubscription; `renews_id` (unique) is the wallet period this one renewed.
    """

    __tablename__ = "subscriptions"
    __table_args__ = (
        one_of("status", SUBSCRIPTION_STATUSES),
        one_of("source", SUBSCRIPTION_SOURCES),
        Index(None, "user_id", "expires_at"),
        Index(None, "status", "expires_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    plan: Mapped[str] = mapped_column(String(32), default="premium")
    status: Mapped[str] = mapped_column(String(16), default="active")
    telegram_payment_charge_id: Mapped[str | None] = mapped_column(String(128), unique=True)
    is_recurring: Mapped[bool] = mapped_column(Boolean, default=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    canceled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    source: Mapped[str] = mapped_column(String(16), default="telegram")
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"), unique=True)
    subscription_charge_id: Mapped[str | None] = mapped_column(String(128))
    renews_id: Mapped[int | None] = mapped_column(ForeignKey("subscriptions.id"), unique=True)

    user: Mapped[User] = relationship(back_populates="subscriptions")


class UsedLoginHash(db.Model):
    """A Telegram login `hash` already accepted once; a second use is a replay."""

    __tablename__ = "used_login_hashes"

    hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    telegram_id: Mapped[int] = mapped_column(BigInteger)
    auth_date: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    used_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

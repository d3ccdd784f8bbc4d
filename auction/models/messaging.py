"""What we tell people: the outbox, in-app notifications and support tickets."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
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

OUTBOX_CHANNELS = ("telegram", "email", "push")
OUTBOX_STATUSES = ("pending", "sent", "failed")
TICKET_STATUSES = ("open", "answered", "closed")
TICKET_KINDS = ("general", "payment")


class OutboxMessage(db.Model):
    """A message to send, written in the same transaction as its cause."""

    __tablename__ = "outbox"
    __table_args__ = (
        one_of("channel", OUTBOX_CHANNELS),
        one_of("status", OUTBOX_STATUSES),
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        Index(None, "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16), default="telegram")
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    chat_id: Mapped[int | None] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    dedupe_key: Mapped[str | None] = mapped_column(String(128), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Notification(db.Model):
    """One thing that happened to a person: the record behind every channel.

    `payload` holds the text's parameters (rendered in the reader's language when shown);
    `count` > 1 when a digest merged several of one kind on one auction; `shown` is False
    when the person turned the web centre off for this kind (the row still anchors the
    digest and the once-only `dedupe_key`).
    """

    __tablename__ = "notifications"
    __table_args__ = (
        Index(None, "user_id", "created_at"),
        Index(None, "user_id", "kind", "auction_id", "created_at"),
        CheckConstraint("count >= 1", name="count_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    url: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    auction_id: Mapped[int | None] = mapped_column(ForeignKey("auctions.id", ondelete="CASCADE"))
    count: Mapped[int] = mapped_column(Integer, default=1)
    shown: Mapped[bool] = mapped_column(Boolean, default=True)
    dedupe_key: Mapped[str | None] = mapped_column(String(128), unique=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class NotificationPreference(db.Model):
    """A person's own choice for one kind on one channel (absent: the kind's default)."""

    __tablename__ = "notification_preferences"
    __table_args__ = (UniqueConstraint("user_id", "kind", "channel"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(16))
    enabled: Mapped[bool] = mapped_column(Boolean)


class NotificationSettings(db.Model):
    """A person's quiet hours (minutes after local midnight), reminder lead times (minutes) and
    the email address notifications go to once confirmed."""

    __tablename__ = "notification_settings"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    email: Mapped[str | None] = mapped_column(String(254))
    email_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    quiet_from: Mapped[int | None] = mapped_column(Integer)
    quiet_until: Mapped[int | None] = mapped_column(Integer)
    reminder_minutes: Mapped[str] = mapped_column(String(64), default="60,10")


class PushSubscription(db.Model):
    """One browser's Web Push subscription (RFC 8030 endpoint, RFC 8291 keys) for a person.

    `p256dh` is the browser's P-256 public key and `auth` its 16-byte secret, both base64url
    as the Push API's `PushSubscription.toJSON()` gives them; `label` names the browser on
    /settings (from its User-Agent).
    """

    __tablename__ = "push_subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    endpoint: Mapped[str] = mapped_column(String(1024), unique=True)
    p256dh: Mapped[str] = mapped_column(String(128))
    auth: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(80), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SupportTicket(db.Model):
    __tablename__ = "support_tickets"
    __table_args__ = (
        one_of("status", TICKET_STATUSES),
        one_of("kind", TICKET_KINDS),
        Index(None, "status", "updated_at"),
        Index(None, "user_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(16), default="general")
    subject: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default="open")
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship()
    messages: Mapped[list[SupportMessage]] = relationship(
        back_populates="ticket", order_by="SupportMessage.id", cascade="all, delete-orphan"
    )


class SupportMessage(db.Model):
    __tablename__ = "support_messages"
    __table_args__ = (Index(None, "ticket_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("support_tickets.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    from_staff: Mapped[bool] = mapped_column(Boolean, default=False)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    ticket: Mapped[SupportTicket] = relationship(back_populates="messages")

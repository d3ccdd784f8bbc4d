"""One-time submission keys: a creating form's key, and where its one result is."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from auction.extensions import db
from auction.models.types import UTCDateTime, utcnow


class Submission(db.Model):
    """A form sent once: the first request with `key` does the work, later ones go to `result_url`."""

    __tablename__ = "submissions"
    __table_args__ = (Index(None, "user_id", "created_at"),)

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    result_url: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

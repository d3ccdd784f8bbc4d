"""Making a person Premium in tests: a paid subscription row, as the paying side would write it."""

from __future__ import annotations

from datetime import datetime, timedelta

from auction.extensions import db
from auction.models import Subscription, utcnow


def make_premium(app, user_id: int, expires_at: datetime | None = None, starts_at: datetime | None = None) -> int:
    """An active Premium subscription for `user_id` (started a day ago, 30 days left unless told); returns its id."""
    now = utcnow()
    with app.app_context():
        row = Subscription(
            user_id=user_id,
            status="active",
            starts_at=starts_at or now - timedelta(days=1),
            expires_at=expires_at or now + timedelta(days=30),
        )
        db.session.add(row)
        db.session.commit()
        subscription_id = row.id
        db.session.remove()
        return subscription_id

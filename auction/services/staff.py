"""Who runs the house: admins are people flagged `is_admin` or listed in ADMIN_TELEGRAM_IDS."""

from __future__ import annotations

from collections.abc import Collection

from auction.extensions import db
from auction.models import User
from auction.services.errors import NotFound


def is_admin(user: User | None, admin_ids: Collection[int] = ()) -> bool:
    """True for an admin: the `is_admin` flag, or a Telegram id in `admin_ids` (the ADMIN_TELEGRAM_IDS setting)."""
    if user is None or user.is_suspended:
        return False
    return bool(user.is_admin) or (user.telegram_id is not None and user.telegram_id in admin_ids)


def require_admin(user_id: int, admin_ids: Collection[int] = ()) -> User:
    """The admin `user_id`; raises NotFound for anyone else (admin pages do not admit they exist).

    Called inside a service's transaction: an admin by ADMIN_TELEGRAM_IDS gets the `is_admin`
    flag too (as signing in would give it), which the bidding and payment services check.
    """
    user = db.session.get(User, user_id)
    if not is_admin(user, admin_ids):
        raise NotFound()
    if not user.is_admin:
        user.is_admin = True
    return user

"""How a person is named to other people: never their Telegram id, never a full name they did not make public."""

from __future__ import annotations

from flask_babel import gettext as _

from auction.models import User


def public_name(user: User) -> str:
    """The name shown to other people (never the Telegram id or a full last name)."""
    first = (user.first_name or "").strip()
    if first:
        last = (user.last_name or "").strip()
        return f"{first} {last[0]}." if last else first
    if user.username:
        return f"@{user.username}"
    return _("Member #%(id)s", id=user.id)


def public_initials(user: User) -> str:
    return "".join(word[0] for word in public_name(user).lstrip("@#").split()[:2]).upper() or "?"

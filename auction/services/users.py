"""Users: Telegram sign-in, profile upserts and server-side logout."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from zoneinfo import available_timezones

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from auction import i18n, numbers
from auction.extensions import db
from auction.models import UsedLoginHash, User, utcnow
from auction.services.errors import LoginRejected, NotFound, ServiceError
from auction.services.transaction import atomic


@dataclass(frozen=True)
class TelegramProfile:
    """What Telegram tells us about a person, from the login widget or a bot update."""

    telegram_id: int
    first_name: str = ""
    last_name: str | None = None
    username: str | None = None
    photo_url: str | None = None
    language_code: str | None = None


def check_login_signature(data: Mapping[str, str], bot_token: str) -> bool:
    """True when `hash` is Telegram's HMAC-SHA256 of the data-check-string.

    The key is SHA256(bot token); the data-check-string is every received field but
    `hash`, as `key=value`, sorted by key and joined with newlines.
    """
    received = data.get("hash", "")
    check_string = "\n".join(f"{key}={data[key]}" for key in sorted(data) if key != "hash")
    secret = hashlib.sha256(bot_token.encode()).digest()
    expected = hmac.new(secret, check_string.encode(), hashlib.sha256).hexdigest()
    return bool(bot_token) and hmac.compare_digest(expected, received.lower())


def _parse_login(data: Mapping[str, str], bot_token: str, max_age: timedelta, now: datetime) -> tuple[TelegramProfile, datetime]:
    if not data.get("hash") or not data.get("id") or not data.get("auth_date"):
        raise LoginRejected(_l("The sign-in data from Telegram is incomplete."))
    if not check_login_signature(data, bot_token):
        raise LoginRejected(_l("The sign-in data was not signed by Telegram. Please sign in again."))
    telegram_id, timestamp = numbers.read_whole(data["id"], max_digits=19), numbers.read_whole(data["auth_date"], max_digits=12)
    if telegram_id is None or not 0 < telegram_id < 2**63 or timestamp is None:  # Telegram ids fit 64 bits
        raise LoginRejected(_l("The sign-in data from Telegram is malformed."))
    try:
        auth_date = datetime.fromtimestamp(timestamp, UTC)
    except (ValueError, OverflowError, OSError):
        raise LoginRejected(_l("The sign-in data from Telegram is malformed.")) from None
    if now - auth_date > max_age or auth_date - now > timedelta(minutes=5):
        raise LoginRejected(_l("This sign-in link has expired. Please sign in again."))
    if not (data["id"].isascii() and 0 < telegram_id < 2**63):
        # Telegram ids are positive 64-bit integers (Bot API, User.id); a signed larger one is not Telegram's.
        raise LoginRejected(_l("The sign-in data from Telegram has an impossible user id."))
    if any("\x00" in (data.get(name) or "") for name in ("first_name", "last_name", "username", "photo_url")):
        raise LoginRejected(_l("The sign-in data from Telegram holds a character that cannot be stored."))
    profile = TelegramProfile(
        telegram_id=telegram_id,
        first_name=data.get("first_name", "")[:128],
        last_name=(data.get("last_name") or None),
        username=(data.get("username") or None),
        photo_url=(data.get("photo_url") or None) if (data.get("photo_url") or "").startswith("https://") else None,
    )
    return profile, auth_date


@atomic
def sign_in_with_telegram(data: Mapping[str, str], bot_token: str, max_age_seconds: int, admin_ids=frozenset()) -> int:
    """Verify login-widget data, spend its hash, upsert the user; returns the user id.

    `data` is every field Telegram sent: the signature covers all of them, including
    fields Telegram may add later, so none may be dropped (or added) on the way.
    """
    now = utcnow()
    max_age = timedelta(seconds=max_age_seconds)
    fields = {key: str(value) for key, value in data.items()}
    profile, auth_date = _parse_login(fields, bot_token, max_age, now)
    db.session.execute(delete(UsedLoginHash).where(UsedLoginHash.auth_date < now - max_age))
    db.session.add(UsedLoginHash(hash=fields["hash"].lower(), telegram_id=profile.telegram_id, auth_date=auth_date))
    try:
        db.session.flush()
    except IntegrityError:
        raise LoginRejected(_l("This sign-in link was already used. Please sign in again.")) from None
    user = upsert_telegram_user(profile, admin_ids=admin_ids)
    if user.is_suspended:
        raise LoginRejected(_l("This account is suspended."))
    user.last_login_at = now
    return user.id


def upsert_telegram_user(profile: TelegramProfile, admin_ids=frozenset()) -> User:
    """Create the user for a Telegram account, or refresh what Telegram tells us.

    A person whose details have not changed costs one read and no write transaction (a bot
    press registers its sender every time).
    """
    user = db.session.scalar(select(User).where(User.telegram_id == profile.telegram_id))
    if user is not None and _profile_values(user, profile, admin_ids) == _stored_values(user):
        return user
    return _write_telegram_user(profile, admin_ids)


def _stored_values(user: User) -> dict:
    return {name: getattr(user, name) for name in ("first_name", "last_name", "username", "photo_url", "language_code", "is_admin")}


def _profile_values(user: User, profile: TelegramProfile, admin_ids) -> dict:
    """The user's fields after taking in `profile` (cut to the column sizes: PostgreSQL refuses an over-long value)."""
    values = _stored_values(user)
    values["first_name"] = (profile.first_name or user.first_name or "")[:128]
    values["last_name"] = profile.last_name[:128] if profile.last_name else None
    values["username"] = profile.username[:64] if profile.username else None
    if profile.photo_url and len(profile.photo_url) <= 512:
        values["photo_url"] = profile.photo_url
    if profile.language_code:
        values["language_code"] = profile.language_code[:16]
    if profile.telegram_id in admin_ids:
        values["is_admin"] = True
    return values


@atomic
def _write_telegram_user(profile: TelegramProfile, admin_ids) -> User:
    user = db.session.scalar(select(User).where(User.telegram_id == profile.telegram_id))
    if user is None:
        user = User(telegram_id=profile.telegram_id)
        db.session.add(user)
    for name, value in _profile_values(user, profile, admin_ids).items():
        setattr(user, name, value)
    db.session.flush()
    return user


def register_from_bot(profile: TelegramProfile, admin_ids=frozenset()) -> User:
    """The person behind a bot update, registered on first contact; one call per update.

    Writes (one transaction) only when something changed: a new person, their name, username
    or Telegram language, admin status, or a `bot_blocked` flag to clear (they are writing to
    the bot, so it is not blocked). An unchanged person costs one read and no write.
    """
    user = db.session.scalar(select(User).where(User.telegram_id == profile.telegram_id))
    if user is not None and not user.bot_blocked and _profile_values(user, profile, admin_ids) == _stored_values(user):
        return user
    return _save_bot_profile(profile, admin_ids)


@atomic
def _save_bot_profile(profile: TelegramProfile, admin_ids) -> User:
    user = _write_telegram_user(profile, admin_ids)
    user.bot_blocked = False
    return user


@atomic
def end_all_sessions(user_id: int) -> None:
    """Log the user out everywhere: every cookie issued before now stops working."""
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound()
    user.session_version += 1


@atomic
def set_locale(user_id: int, locale: str) -> None:
    """Remember the language the user picked (one of auction.i18n.LANGUAGES; anything else forgets the choice)."""
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound()
    user.locale = i18n.supported(locale)


class InvalidTimezone(ServiceError):
    message = _l("That is not a time zone we know.")


@cache
def _known_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def is_timezone(name: str | None) -> bool:
    """True for an IANA zone name such as "Europe/Moscow" (never a file path)."""
    return bool(name) and len(name) <= 64 and name in _known_zones()


@atomic
def set_timezone(user_id: int, name: str) -> None:
    """Remember the time zone the user's browser reports; times are shown and read in it."""
    if not is_timezone(name):
        raise InvalidTimezone()
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound()
    user.timezone = name


def load_session_user(session_id: str) -> User | None:
    """The user behind a login cookie id `"<user id>:<session version>"`, if still valid."""
    user_text, _, version_text = session_id.partition(":")
    user_id, version = numbers.read_id(user_text), numbers.read_whole(version_text, max_digits=9)
    if user_id is None or version is None:
        return None
    user = db.session.get(User, user_id)
    if user is None or user.session_version != version or user.is_suspended:
        return None
    return user


def demo_users() -> list[User]:
    return list(db.session.scalars(select(User).where(User.is_demo.is_(True)).order_by(User.id)))

"""The bot's reply builders: synchronous, run in a worker thread inside an app context.

Each takes plain values (a `TelegramProfile`, ids, typed text), calls the services, and
returns a payload in the person's language: {"text", "parse_mode", "buttons", "photo"}
(the outbox's format, sent by `auction.bot.sender.Sender`). The async handlers in
`auction.bot.handlers` only parse the update, call a builder, and send what it returns.
"""

from __future__ import annotations

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from auction.bot.calls import speaking_to
from auction.extensions import db
from auction.models import User
from auction.services.errors import ServiceError
from auction.services.users import TelegramProfile, register_from_bot


def registered(profile: TelegramProfile) -> User:
    """The person behind an update, registered (or refreshed) by one service call."""
    return register_from_bot(profile, admin_ids=current_app.config["ADMIN_TELEGRAM_IDS"])


def known_user(telegram_id: int) -> User | None:
    """The registered person with this Telegram id, if any (a read, for answers that need no write)."""
    return db.session.scalar(select(User).where(User.telegram_id == telegram_id))


def stale_button(language_code: str | None, telegram_id: int) -> str:
    """The toast for a button whose data the bot does not (or no longer) understand."""
    with speaking_to(known_user(telegram_id), language_code):
        return _("This button is no longer valid. Open the auction again.")


def failure_text(telegram_id: int | None, language_code: str | None, error: BaseException | None) -> str:
    """What a person reads when handling their update failed: the rule they broke, or a plain apology."""
    with speaking_to(known_user(telegram_id) if telegram_id is not None else None, language_code):
        if isinstance(error, ServiceError):
            return str(error)
        return _("Something went wrong. Please try again.")

"""Replies of the bot's language command (built in a worker thread, in the person's language)."""

from __future__ import annotations

from flask_babel import gettext as _

from auction.bot.calls import speaking_to
from auction.bot.replies import registered
from auction.i18n import language_choices
from auction.services import users
from auction.services.users import TelegramProfile


def language_buttons() -> list[list[dict]]:
    """One row: a button per language, each named in its own language."""
    return [[{"text": name, "callback_data": f"lang:{code}"} for code, name in language_choices()]]


def language_question(profile: TelegramProfile) -> dict:
    user = registered(profile)
    with speaking_to(user):
        return {"text": _("Choose your language. The site follows the same choice."), "buttons": language_buttons()}


def choose_language(profile: TelegramProfile, code: str) -> dict:
    """Store the choice and confirm it in the new language."""
    user = registered(profile)
    users.set_locale(user.id, code)
    with speaking_to(user):  # the commit expired `user`: its new locale is read back here
        return {"text": _("Done: I will speak English with you here and on the site. /help lists what I can do.")}

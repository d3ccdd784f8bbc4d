"""/language: Russian or English, for the bot and the site alike (the user's `locale`)."""

from __future__ import annotations

import re

from flask_babel import gettext as _
from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes

from auction.bot.bridge import call_service, flask_app, profile_of, sender, speaking_to
from auction.bot.handlers.auction_card import registered
from auction.services import users
from auction.services.users import TelegramProfile

LANGUAGE_DATA = re.compile(r"lang:(en|ru)")
LANGUAGE_NAMES = {"en": "English", "ru": "Русский"}


def register(application: Application) -> None:
    application.add_handler(CommandHandler("language", language_command))
    application.add_handler(CallbackQueryHandler(language_button, pattern=r"^lang:"))


def language_buttons() -> list[list[dict]]:
    """One row: a button per language, each named in its own language."""
    return [[{"text": name, "callback_data": f"lang:{code}"} for code, name in LANGUAGE_NAMES.items()]]


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


async def language_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/language: the two buttons."""
    if update.effective_user is None or update.effective_chat is None:
        return
    reply = await call_service(flask_app(context), language_question, profile_of(update.effective_user))
    await sender(context).send(update.effective_chat.id, reply)


async def language_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A language button (from /language or the first /start)."""
    query = update.callback_query
    await query.answer()
    match = LANGUAGE_DATA.fullmatch(query.data or "")
    if match is None or update.effective_user is None or update.effective_chat is None:
        return
    reply = await call_service(flask_app(context), choose_language, profile_of(update.effective_user), match[1])
    await sender(context).send(update.effective_chat.id, reply)

"""/language: Russian or English, for the bot and the site alike (the user's `locale`)."""

from __future__ import annotations

import re

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes

from auction.bot.calls import call_service, flask_app, profile_of, sender
from auction.bot.replies.language import choose_language, language_question
from auction.i18n import LANGUAGES

LANGUAGE_DATA = re.compile(rf"lang:({'|'.join(LANGUAGES)})")


def register(application: Application) -> None:
    application.add_handler(CommandHandler("language", language_command))
    application.add_handler(CallbackQueryHandler(language_button, pattern=r"^lang:"))


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

"""/settings in the bot: each kind of notification as a button that turns its Telegram messages
on or off (the same preferences as the site's /settings page, which also has the web channel
and quiet hours)."""

from __future__ import annotations

import re

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes

from auction.bot.calls import call_service, flask_app, profile_of, sender
from auction.bot.replies.settings import settings_reply, toggle
from auction.services import notifications

PREF_DATA = re.compile(r"pref:([a-z_]{1,32}):([01])")


def register(application: Application) -> None:
    application.add_handler(CommandHandler("settings", settings_command))
    application.add_handler(CallbackQueryHandler(settings_button, pattern=r"^pref:"))


async def settings_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/settings: the buttons."""
    if update.effective_user is None or update.effective_chat is None:
        return
    reply = await call_service(flask_app(context), settings_reply, profile_of(update.effective_user))
    await sender(context).send(update.effective_chat.id, reply)


async def settings_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A press: flip that kind's Telegram messages and redraw the buttons in place."""
    query = update.callback_query
    match = PREF_DATA.fullmatch(query.data or "")
    if match is None or match[1] not in notifications.KINDS or update.effective_user is None:
        await query.answer()
        return
    toast, reply = await call_service(flask_app(context), toggle, profile_of(update.effective_user), match[1], match[2] == "1")
    await query.answer(toast[:200])
    if query.message is not None:
        await sender(context).edit(query.message, reply)

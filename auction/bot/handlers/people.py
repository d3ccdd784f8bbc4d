"""The people side in the bot: /profile, /achievements and the one-tap rating buttons
(`rate:<auction>:<score>`) sent after a sale settles. Replies are built by auction.bot.replies.people."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes

from auction import numbers
from auction.bot.calls import call_service, flask_app, profile_of, sender
from auction.bot.presses import button_fields
from auction.bot.replies.people import achievements_reply, profile_reply, rate_from_bot

log = logging.getLogger("auction.bot")


def register(application: Application) -> None:
    application.add_handler(CommandHandler("profile", profile_command))
    application.add_handler(CommandHandler("achievements", achievements_command))
    application.add_handler(CallbackQueryHandler(rate_button, pattern=r"^rate:"))


async def profile_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/profile: the person's public profile summary with a button to the page."""
    if update.effective_user is None or update.effective_chat is None:
        return
    reply = await call_service(flask_app(context), profile_reply, profile_of(update.effective_user))
    await sender(context).send(update.effective_chat.id, reply)


async def achievements_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/achievements: the badges and the progress towards each."""
    if update.effective_user is None or update.effective_chat is None:
        return
    reply = await call_service(flask_app(context), achievements_reply, profile_of(update.effective_user))
    await sender(context).send(update.effective_chat.id, reply)


async def rate_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A press on a star button under a rating request; always answered with a toast."""
    query = update.callback_query
    toast = None
    try:
        fields = button_fields(query.data, "rate", 2) or ["", ""]
        auction_id, score = numbers.read_id(fields[0]), numbers.read_whole(fields[1], max_digits=1)
        if auction_id is not None and score in (1, 2, 3, 4, 5) and update.effective_user is not None:
            toast = await call_service(flask_app(context), rate_from_bot, profile_of(update.effective_user), auction_id, score)
    finally:
        try:
            await query.answer(toast, show_alert=True)
        except TelegramError as error:
            log.info("bot: could not answer callback query %s: %s", query.id, error)

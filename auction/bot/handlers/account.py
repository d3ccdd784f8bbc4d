"""The person's account in the bot: /status (Stars, reservations, subscription, bids)."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CommandHandler, ContextTypes

from auction.bot.calls import call_service, flask_app, profile_of, sender
from auction.bot.replies.account import status_reply


def register(application: Application) -> None:
    application.add_handler(CommandHandler("status", status))


async def status(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/status: Stars available and reserved, subscription, leading and outbid bids."""
    if update.effective_user is None or update.effective_chat is None:
        return
    reply = await call_service(flask_app(context), status_reply, profile_of(update.effective_user))
    await sender(context).send(update.effective_chat.id, reply)

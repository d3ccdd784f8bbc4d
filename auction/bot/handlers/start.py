"""/start: register the person, greet them in their language, open a deep-linked auction card."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CommandHandler, ContextTypes

from auction.bot.calls import call_service, flask_app, profile_of, sender
from auction.bot.replies.start import start_reply


def register(application: Application) -> None:
    application.add_handler(CommandHandler("start", start))


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Reply with the welcome, or with the auction card a `t.me/<bot>?start=auction_<id>` link asked for."""
    if update.effective_user is None or update.effective_chat is None:
        return
    argument = context.args[0] if context.args else ""
    reply = await call_service(flask_app(context), start_reply, profile_of(update.effective_user), argument)
    await sender(context).send(update.effective_chat.id, reply)

"""/mybids: the person's bids grouped leading / outbid / sealed / won / lost, a page at a time,
with "Bid <min>" where they are outbid and "Open" (the auction card) on each."""

from __future__ import annotations

import re

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes

from auction.bot.calls import call_service, flask_app, profile_of, sender
from auction.bot.replies.mybids import mybids_reply

PAGE_DATA = re.compile(r"mybids:(\d{1,6})")


def register(application: Application) -> None:
    application.add_handler(CommandHandler("mybids", mybids_command))
    application.add_handler(CallbackQueryHandler(mybids_page, pattern=r"^mybids:"))


async def mybids_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/mybids: the first page."""
    if update.effective_user is None or update.effective_chat is None:
        return
    reply = await call_service(flask_app(context), mybids_reply, profile_of(update.effective_user))
    await sender(context).send(update.effective_chat.id, reply)


async def mybids_page(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A page button: the same message redrawn with that page."""
    query = update.callback_query
    await query.answer()
    match = PAGE_DATA.fullmatch(query.data or "")
    if match is None or update.effective_user is None:
        return
    reply = await call_service(flask_app(context), mybids_reply, profile_of(update.effective_user), int(match[1]))
    if query.message is not None:
        await sender(context).edit(query.message, reply)
    elif update.effective_chat is not None:
        await sender(context).send(update.effective_chat.id, reply)

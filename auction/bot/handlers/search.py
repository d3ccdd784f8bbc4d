"""/search words: the best matches among open auctions (replies built by auction.bot.replies.search).

The button `search:<words>` (offered when someone writes plain words to the bot) runs the same search.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes

from auction.bot.calls import call_service, flask_app, sender
from auction.bot.replies.search import search_reply


def register(application: Application) -> None:
    application.add_handler(CommandHandler("search", search_command))
    application.add_handler(CallbackQueryHandler(search_button, pattern=r"^search:"))


async def search_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/search words: the best matches among open auctions."""
    if update.effective_user is None or update.effective_chat is None:
        return
    words = " ".join(context.args or [])
    reply = await call_service(
        flask_app(context), search_reply, words, update.effective_user.id, update.effective_user.language_code
    )
    await sender(context).send(update.effective_chat.id, reply)


async def search_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """`search:<words>`: the "Search for …" button under a plain message."""
    query = update.callback_query
    await query.answer()
    if update.effective_user is None or update.effective_chat is None:
        return
    words = (query.data or "").partition(":")[2]
    reply = await call_service(
        flask_app(context), search_reply, words, update.effective_user.id, update.effective_user.language_code
    )
    await sender(context).send(update.effective_chat.id, reply)

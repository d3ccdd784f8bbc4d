"""Watching from the bot: Watch / Unwatch on a card, /watchlist, and its buttons opening a card.

Buttons: `watch:<auction>`, `unwatch:<auction>`, `card:<auction>`. Replies are built by
auction.bot.replies.watching.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes

from auction import numbers
from auction.bot.calls import call_service, flask_app, profile_of, sender
from auction.bot.presses import answer_press, button_fields
from auction.bot.replies.watching import card_reply, watch_reply, watchlist_reply


def register(application: Application) -> None:
    application.add_handler(CallbackQueryHandler(watch_button, pattern=r"^watch:"))
    application.add_handler(CallbackQueryHandler(unwatch_button, pattern=r"^unwatch:"))
    application.add_handler(CallbackQueryHandler(card_button, pattern=r"^card:"))
    application.add_handler(CommandHandler("watchlist", watchlist_command))


def _auction_id(update: Update, verb: str) -> int | None:
    fields = button_fields(update.callback_query.data, verb, 1) or [""]
    return numbers.read_id(fields[0])


async def _press(update: Update, context: ContextTypes.DEFAULT_TYPE, verb: str, reply, *args) -> None:
    """A `<verb>:<auction>` button: `reply(profile, auction_id, *args)` in the service layer, then the press answered."""
    outcome = None
    try:
        if update.effective_chat is not None and update.effective_user is not None:
            auction_id = _auction_id(update, verb)
            outcome = await call_service(flask_app(context), reply, profile_of(update.effective_user), auction_id, *args)
    finally:
        await answer_press(update, context, outcome)


async def watch_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """`watch:<auction>`: add it to the watchlist; the card then shows Unwatch."""
    await _press(update, context, "watch", watch_reply, True)


async def unwatch_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """`unwatch:<auction>`: take it off the watchlist."""
    await _press(update, context, "unwatch", watch_reply, False)


async def card_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """`card:<auction>` (from /watchlist): the auction's card as a new message."""
    await _press(update, context, "card", card_reply)


async def watchlist_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/watchlist: the auctions the person follows, each a button to its card."""
    if update.effective_user is None or update.effective_chat is None:
        return
    reply = await call_service(flask_app(context), watchlist_reply, profile_of(update.effective_user))
    await sender(context).send(update.effective_chat.id, reply)

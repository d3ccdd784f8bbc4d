"""Rate limits for the bot: every update of a Telegram user counts against the same budgets as the web.

One TypeHandler in group -2 runs before every other handler: it counts the update against
`RATE_LIMIT_BOT` and, for a bid button against `RATE_LIMIT_BIDS` and for a Stars purchase
against `RATE_LIMIT_INVOICES` (auction.rate_limits.bot_allowance, the web's storage).
Over a budget the person gets a polite, translated answer and no other handler runs.
Payments (pre-checkout queries, successful and refunded payments) are never held back:
Telegram has already taken the money.
"""

from __future__ import annotations

import asyncio
import math

from flask_babel import ngettext
from telegram import Update
from telegram.ext import Application, ApplicationHandlerStop, ContextTypes, TypeHandler

from auction.bot.calls import flask_app, speaking_to
from auction.rate_limits import bot_allowance


def register(application: Application) -> None:
    application.add_handler(TypeHandler(Update, hold_back_floods), group=-2)


def kinds_of(update: Update) -> tuple[str, ...] | None:
    """The budgets an update counts against, or None for one that is never held back."""
    if update.pre_checkout_query is not None or update.effective_user is None:
        return None
    message = update.message
    if message is not None and (message.successful_payment is not None or message.refunded_payment is not None):
        return None
    data = update.callback_query.data if update.callback_query is not None else ""
    text = message.text if message is not None and message.text else ""
    if (data or "").startswith("bid:"):
        return ("BOT", "BIDS")
    if (data or "").startswith("buy_stars:") or text.split("@")[0].split(" ")[0] == "/buy_stars":
        return ("BOT", "INVOICES")
    return ("BOT",)


async def hold_back_floods(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    kinds = kinds_of(update)
    if kinds is None:
        return
    app = flask_app(context)
    wait = await asyncio.to_thread(bot_allowance, app, update.effective_user.id, kinds)
    if not wait:
        return
    with app.app_context(), speaking_to(language_code=update.effective_user.language_code):
        seconds = math.ceil(wait)
        text = ngettext(
            "You are doing that too often. Please try again in %(num)d second.",
            "You are doing that too often. Please try again in %(num)d seconds.",
            seconds,
        )
    if update.callback_query is not None:
        await update.callback_query.answer(text, show_alert=True)
    elif update.effective_chat is not None:
        await context.bot.send_message(update.effective_chat.id, text)
    raise ApplicationHandlerStop

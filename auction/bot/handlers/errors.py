"""What the person sees when a handler fails (the rule they broke, or a plain apology) or a button is stale."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from auction.bot.calls import call_service, flask_app, speaking_to
from auction.bot.replies import failure_text
from auction.bot.replies import stale_button as stale_text
from auction.services.errors import ServiceError

log = logging.getLogger("auction.bot")


async def report_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    error = context.error
    if not isinstance(error, ServiceError):
        log.error("bot: handling update %s failed", getattr(update, "update_id", "?"), exc_info=error)
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    user = update.effective_user
    try:
        text = await call_service(flask_app(context), failure_text, user.id if user else None, user.language_code if user else None, error)
    except Exception:  # the database itself may be what failed: answer in Telegram's language
        with flask_app(context).app_context(), speaking_to(language_code=user.language_code if user else None):
            text = failure_text(None, None, error)
    try:
        await context.bot.send_message(update.effective_chat.id, text)
    except TelegramError:
        log.warning("bot: could not tell chat %s about the failure", update.effective_chat.id)


async def stale_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A press on a button no handler claims (an old message, or forged data): say it no longer works."""
    query = update.callback_query
    user = update.effective_user
    text = None
    if user is not None:
        text = await call_service(flask_app(context), stale_text, user.language_code, user.id)
    try:
        await query.answer(text, show_alert=True)
    except TelegramError as error:
        log.info("bot: could not answer callback query %s: %s", query.id, error)

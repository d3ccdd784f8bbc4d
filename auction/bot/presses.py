"""Answering a button press: parse its data, answer the query, redraw the card, send the reply.

Button data is compact and never trusted (`bid:<auction>:<amount>`, `watch:<auction>`, ...):
every id is read by auction.numbers (ASCII digits, within the database's range) and every
press goes through the services, which check everything again.
"""

from __future__ import annotations

import logging

from telegram import Message, Update
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from auction.bot.calls import sender
from auction.bot.replies.cards import Outcome

log = logging.getLogger("auction.bot")

TOAST_LIMIT = 200  # answerCallbackQuery's text limit


def button_fields(data: str | None, verb: str, count: int) -> list[str] | None:
    """The `count` fields after `<verb>:` in a button's data, or None when the data has another shape."""
    head, sep, rest = (data or "").partition(":")
    fields = rest.split(":")
    if head != verb or not sep or len(fields) != count:
        return None
    return fields


async def answer_press(update: Update, context: ContextTypes.DEFAULT_TYPE, outcome: Outcome | None) -> None:
    """Answer a button press with the outcome's toast (always answered, so the spinner stops), then
    redraw the card it was pressed on and send the reply, as the outcome says."""
    query = update.callback_query
    try:
        if outcome is not None:
            await query.answer(outcome.toast[:TOAST_LIMIT] or None, show_alert=outcome.alert)
        else:
            await query.answer()
    except TelegramError as error:
        # Too late to answer (the press waited while the bot was down): what it did is done
        # all the same, and the reply below still tells the person.
        log.info("bot: could not answer callback query %s: %s", query.id, error)
    if outcome is not None:
        await deliver(update, context, outcome, query.message)


async def deliver(update: Update, context: ContextTypes.DEFAULT_TYPE, outcome: Outcome, card_message: object) -> None:
    """Redraw the card message (when the outcome has a card) and send the outcome's reply."""
    if outcome.card is not None and isinstance(card_message, Message):
        try:
            await sender(context).edit(card_message, outcome.card)
        except TelegramError as error:  # deleted or too old to edit: the reply still tells them
            log.info("bot: could not redraw auction card %s: %s", card_message.message_id, error)
    if outcome.reply is not None:
        await sender(context).send(update.effective_chat.id, outcome.reply)

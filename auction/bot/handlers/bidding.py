"""Bidding from the bot's auction card: quick bid buttons, "Other amount" and the amount typed after it.

Buttons: `bid:<auction>:<amount>` places that bid; `bidask:<auction>` asks for an amount.
The next plain text message from that person in that chat is taken as their maximum
(kept in PTB's user_data, so it lasts until the process restarts); /cancel or any other
command ends the question. Replies are built by auction.bot.replies.bidding.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from auction import numbers
from auction.bot.calls import call_service, flask_app, profile_of, sender
from auction.bot.presses import answer_press, button_fields, deliver
from auction.bot.replies.bidding import ask_amount, bid_reply, cancel_reply, typed_amount_reply

PENDING = "pending_bid"  # user_data key: {"chat_id", "auction_id", "card"} while "Other amount" waits for a number


def register(application: Application) -> None:
    # Group -1 runs before every other handler: any command but /cancel drops a pending question.
    application.add_handler(MessageHandler(filters.COMMAND & ~filters.Regex(r"^/cancel(@\w+)?(\s|$)"), forget_question), group=-1)
    application.add_handler(CallbackQueryHandler(bid_button, pattern=r"^bid:"))
    application.add_handler(CallbackQueryHandler(bidask_button, pattern=r"^bidask:"))
    application.add_handler(CommandHandler("cancel", cancel))
    # New messages only: editing an old message must not place a bid.
    application.add_handler(MessageHandler(filters.UpdateType.MESSAGE & filters.TEXT & ~filters.COMMAND, amount_message))


async def bid_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """`bid:<auction>:<amount>`: place that bid (an id beyond any auction reads as "not found")."""
    outcome = None
    try:
        if update.effective_chat is not None and update.effective_user is not None:
            fields = button_fields(update.callback_query.data, "bid", 2) or ["", ""]
            auction_id, amount = numbers.read_id(fields[0]), numbers.read_whole(fields[1], max_digits=12)
            outcome = await call_service(flask_app(context), bid_reply, profile_of(update.effective_user), auction_id, amount, False)
    finally:
        await answer_press(update, context, outcome)


async def bidask_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """`bidask:<auction>`: ask for an amount ("Other amount")."""
    outcome = None
    try:
        if update.effective_chat is not None and update.effective_user is not None:
            fields = button_fields(update.callback_query.data, "bidask", 1) or [""]
            auction_id = numbers.read_id(fields[0])
            outcome = await call_service(flask_app(context), ask_amount, profile_of(update.effective_user), auction_id)
            if outcome.keep_asking:
                context.user_data[PENDING] = {
                    "chat_id": update.effective_chat.id,
                    "auction_id": auction_id,
                    "card": update.callback_query.message,
                }
    finally:
        await answer_press(update, context, outcome)


async def amount_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The number asked for by "Other amount" (any other plain text is left to the free-text answer)."""
    pending = context.user_data.get(PENDING) if context.user_data is not None else None
    chat = update.effective_chat
    if not pending or chat is None or pending["chat_id"] != chat.id or update.effective_user is None:
        return
    outcome = await call_service(
        flask_app(context), typed_amount_reply, profile_of(update.effective_user), pending["auction_id"], update.effective_message.text
    )
    if not outcome.keep_asking:
        context.user_data.pop(PENDING, None)
    await deliver(update, context, outcome, pending.get("card"))
    raise ApplicationHandlerStop  # answered: the free-text reply (a later group) must not answer too


async def cancel(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/cancel: forget the "Other amount" question."""
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None:
        return
    pending = context.user_data.pop(PENDING, None)
    text = await call_service(flask_app(context), cancel_reply, user.language_code, user.id, bool(pending))
    await sender(context).send(chat.id, {"text": text})


async def forget_question(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if context.user_data is not None:
        context.user_data.pop(PENDING, None)

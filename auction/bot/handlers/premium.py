"""Premium in the bot: /subscribe and its renewal buttons.

Buttons: `premium:cancel` (renewal off), `premium:renew` (renewal back on).
Replies are built by auction.bot.replies.premium; subscription payments arrive through
the payments module's pre-checkout and successful-payment handlers.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes

from auction.bot.calls import call_service, flask_app, profile_of, sender
from auction.bot.replies.premium import renewal_reply, subscribe_reply


def register(application: Application) -> None:
    application.add_handler(CommandHandler("subscribe", subscribe))
    application.add_handler(CallbackQueryHandler(renewal_button, pattern=r"^premium:(cancel|renew)$"))


async def subscribe(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/subscribe: what Premium gives, your state, and the subscription link or the renewal button."""
    if update.effective_user is None or update.effective_chat is None:
        return
    reply = await call_service(flask_app(context), subscribe_reply, profile_of(update.effective_user))
    await sender(context).send(update.effective_chat.id, reply)


async def renewal_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """`premium:cancel` or `premium:renew`: renewal off or back on (editUserStarSubscription for Telegram)."""
    query = update.callback_query
    await query.answer()
    if update.effective_chat is None or update.effective_user is None:
        return
    renew = query.data == "premium:renew"
    reply = await call_service(flask_app(context), renewal_reply, profile_of(update.effective_user), renew)
    await sender(context).send(update.effective_chat.id, reply)

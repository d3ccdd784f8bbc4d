"""Stars in the bot: /buy_stars, invoices, pre-checkout, payments, refunds and /paysupport.

Buttons: `buy_stars:<amount>` / `buy_stars:other` / `buy_stars:` (the menu), `paysupport:open`.
Replies are built by auction.bot.replies.payments.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging

from telegram import Bot, LabeledPrice, Update
from telegram.error import BadRequest, NetworkError, TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    PreCheckoutQueryHandler,
    filters,
)

from auction.bot.calls import call_service, flask_app, profile_of, sender
from auction.bot.replies import premium as premium_replies
from auction.bot.replies.payments import (
    buy_stars_reply,
    payment_reply,
    payments_unavailable,
    paysupport_button_reply,
    paysupport_reply,
    pre_checkout_refusal,
    refund_reply,
    refunded_reply,
)
from auction.services import payments
from auction.services.subscriptions import is_subscription_payload

log = logging.getLogger("auction.bot")

CURRENCY = "XTR"
REFUND_WAIT_SECONDS = 15


def register(application: Application) -> None:
    application.add_handler(CommandHandler("buy_stars", buy_stars))
    application.add_handler(CallbackQueryHandler(buy_stars_button, pattern=r"^buy_stars:"))
    application.add_handler(CommandHandler("paysupport", paysupport))
    application.add_handler(CallbackQueryHandler(paysupport_button, pattern=r"^paysupport:"))
    application.add_handler(CommandHandler("refund", refund))
    application.add_handler(PreCheckoutQueryHandler(pre_checkout))
    application.add_handler(MessageHandler(filters.SUCCESSFUL_PAYMENT, successful_payment))
    application.add_handler(MessageHandler(filters.StatusUpdate.REFUNDED_PAYMENT, refunded_payment))


# --- invoices -------------------------------------------------------------------------


async def send_invoice(bot: Bot, chat_id: int, amount: int, payload: str, texts: dict) -> None:
    await bot.send_invoice(
        chat_id,
        title=texts["title"],
        description=texts["description"],
        payload=payload,
        currency=CURRENCY,
        prices=[LabeledPrice(texts["label"], amount)],
        provider_token="",  # Telegram Stars need no payment provider
    )


# --- /buy_stars -----------------------------------------------------------------------


async def _answer_buy(update: Update, context: ContextTypes.DEFAULT_TYPE, argument: str) -> None:
    chat_id = update.effective_chat.id
    reply = await call_service(flask_app(context), buy_stars_reply, profile_of(update.effective_user), argument)
    invoice = reply.get("invoice")
    if invoice:
        await send_invoice(context.bot, chat_id, invoice["amount"], invoice["payload"], invoice["texts"])
    else:
        await sender(context).send(chat_id, reply)


async def buy_stars(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/buy_stars shows the packages; /buy_stars N sends an invoice for N Stars (`1 000`, `1,000 ⭐` too)."""
    if update.effective_user is None or update.effective_chat is None:
        return
    await _answer_buy(update, context, " ".join(context.args or []).strip())


async def buy_stars_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """`buy_stars:<amount>` (a package), `buy_stars:other`, or `buy_stars:` (the menu)."""
    query = update.callback_query
    await query.answer()
    if update.effective_chat is None or update.effective_user is None:
        return
    await _answer_buy(update, context, (query.data or "").partition(":")[2])


# --- paying ---------------------------------------------------------------------------


async def pre_checkout(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer Telegram's last check before charging (it waits at most 10 seconds)."""
    query = update.pre_checkout_query
    app = flask_app(context)
    try:
        check = premium_replies.pre_checkout_refusal if is_subscription_payload(query.invoice_payload) else pre_checkout_refusal
        refusal = await asyncio.wait_for(
            call_service(
                app,
                check,
                query.from_user.id,
                query.from_user.language_code,
                query.invoice_payload,
                query.total_amount,
                query.currency,
            ),
            timeout=8,
        )
    except Exception:
        # The payload is a bearer secret for the invoice: log only a short digest of it.
        digest = hashlib.sha256(query.invoice_payload.encode()).hexdigest()[:12]
        log.exception("pre-checkout check failed for invoice payload sha256:%s", digest)
        with app.app_context():
            refusal = payments_unavailable(query.from_user.language_code)
    if refusal is None:
        await query.answer(ok=True)
    else:
        await query.answer(ok=False, error_message=refusal)


async def successful_payment(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Credit the Stars (or the Premium period) exactly once and tell the payer."""
    message = update.effective_message
    paid = message.successful_payment
    payment = {
        "payload": paid.invoice_payload,
        "total_amount": paid.total_amount,
        "currency": paid.currency,
        "telegram_payment_charge_id": paid.telegram_payment_charge_id,
        "provider_payment_charge_id": paid.provider_payment_charge_id,
    }
    user = update.effective_user
    if is_subscription_payload(paid.invoice_payload):
        # Premium: Telegram sends one such payment per period (the first and each renewal).
        del payment["provider_payment_charge_id"]
        payment.update(
            subscription_expiration_date=paid.subscription_expiration_date,
            is_recurring=bool(paid.is_recurring),
            is_first_recurring=bool(paid.is_first_recurring),
        )
        reply = await call_service(flask_app(context), premium_replies.payment_reply, user.id, user.language_code, payment)
    else:
        reply = await call_service(flask_app(context), payment_reply, user.id, user.language_code, payment)
    await sender(context).send(message.chat_id, reply)


async def refunded_payment(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Telegram's service message about a refund: reverse the credit, or flag the account for admins."""
    message = update.effective_message
    refund = message.refunded_payment
    user = update.effective_user
    reply = await call_service(
        flask_app(context), refunded_reply, user.id, user.language_code, refund.telegram_payment_charge_id, refund.total_amount
    )
    if reply:
        await sender(context).send(message.chat_id, reply)


# --- /paysupport ----------------------------------------------------------------------


async def paysupport(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/paysupport: refund policy, recent payments, and a way to ask for help with a payment."""
    if update.effective_user is None or update.effective_chat is None:
        return
    details = " ".join(context.args or []).strip()
    reply = await call_service(flask_app(context), paysupport_reply, profile_of(update.effective_user), details)
    await sender(context).send(update.effective_chat.id, reply)


async def paysupport_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """`paysupport:open`: open a payment support request (other data is a stale button: just answered)."""
    query = update.callback_query
    await query.answer()
    if update.effective_chat is None or update.effective_user is None or query.data != "paysupport:open":
        return
    reply = await call_service(flask_app(context), paysupport_button_reply, profile_of(update.effective_user))
    await sender(context).send(update.effective_chat.id, reply)


# --- /refund (admins) -----------------------------------------------------------------


async def refund(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/refund <payment id> (admins): give a purchase back through refundStarPayment."""
    if update.effective_user is None or update.effective_chat is None:
        return
    loop = asyncio.get_running_loop()
    bot = context.bot

    def send_refund(telegram_user_id: int, charge_id: str) -> None:
        # Runs in the service's worker thread, between its transactions. A lost answer
        # (timeout, network) propagates as is: the outcome is unknown, not a refusal.
        future = asyncio.run_coroutine_threadsafe(bot.refund_star_payment(telegram_user_id, charge_id), loop)
        try:
            future.result(REFUND_WAIT_SECONDS)
        except TelegramError as error:
            # BadRequest is a NetworkError in python-telegram-bot, but it is Telegram's answer.
            if isinstance(error, NetworkError) and not isinstance(error, BadRequest):
                raise
            if "charge_already_refunded" in error.message.lower():
                return  # a retry after a lost answer: the first request did refund
            raise payments.RefundDeclined(error.message) from error

    argument = " ".join(context.args or []).strip()
    reply = await call_service(flask_app(context), refund_reply, profile_of(update.effective_user), argument, send_refund)
    await sender(context).send(update.effective_chat.id, reply)

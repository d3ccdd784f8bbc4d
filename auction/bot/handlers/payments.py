"""Stars in the bot: /buy_stars, invoices, pre-checkout, payments, refunds, /status and /paysupport."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from flask import current_app
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from sqlalchemy import select
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

from auction.bot.bridge import call_service, flask_app, profile_of, sender, speaking_to
from auction.extensions import db
from auction.models import User
from auction.services import account, outbox, payments
from auction.services.errors import ServiceError
from auction.services.users import TelegramProfile, upsert_telegram_user

log = logging.getLogger("auction.bot")

CURRENCY = "XTR"
REFUND_WAIT_SECONDS = 15


def register(application: Application) -> None:
    application.add_handler(CommandHandler("buy_stars", buy_stars))
    application.add_handler(CallbackQueryHandler(buy_stars_button, pattern=r"^buy_stars:"))
    application.add_handler(CommandHandler("status", status))
    application.add_handler(CommandHandler("paysupport", paysupport))
    application.add_handler(CallbackQueryHandler(paysupport_button, pattern=r"^paysupport:open$"))
    application.add_handler(CommandHandler("refund", refund))
    application.add_handler(PreCheckoutQueryHandler(pre_checkout))
    application.add_handler(MessageHandler(filters.SUCCESSFUL_PAYMENT, successful_payment))
    application.add_handler(MessageHandler(filters.StatusUpdate.REFUNDED_PAYMENT, refunded_payment))


def _registered_user(profile: TelegramProfile) -> User:
    user = upsert_telegram_user(profile, admin_ids=current_app.config["ADMIN_TELEGRAM_IDS"])
    outbox.mark_reachable(user.id)
    return user


def _user_by_telegram_id(telegram_id: int) -> User | None:
    return db.session.scalar(select(User).where(User.telegram_id == telegram_id))


def _wallet_button() -> list[list[dict]]:
    return [[{"text": _("Open your wallet"), "url": current_app.config["BASE_URL"] + "/wallet"}]]


# --- invoices -------------------------------------------------------------------------


def invoice_texts(amount: int) -> dict:
    """Title, description and price label of a Stars invoice, in the active language."""
    stars = ngettext("%(num)s Star", "%(num)s Stars", amount)
    return {
        "title": _("%(stars)s for Bot-Auction", stars=stars)[:32],
        "description": _(
            "%(stars)s for bidding on Bot-Auction. They are added to your wallet as soon as the payment goes through.",
            stars=stars,
        ),
        "label": stars,
    }


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


async def invoice_link(bot: Bot, amount: int, payload: str, texts: dict) -> str:
    """createInvoiceLink for the wallet page (run through BotRuntime.call)."""
    return await bot.create_invoice_link(
        title=texts["title"],
        description=texts["description"],
        payload=payload,
        currency=CURRENCY,
        prices=[LabeledPrice(texts["label"], amount)],
        provider_token="",
    )


# --- /buy_stars -----------------------------------------------------------------------


def buy_stars_reply(profile: TelegramProfile, argument: str) -> dict:
    """The package menu, an invoice to send ({"invoice": ...}), or the reason an amount is refused."""
    user = _registered_user(profile)
    with speaking_to(user):
        low, high = payments.stars_limits()
        if not argument:
            packages = [{"text": f"{amount} ⭐", "callback_data": f"buy_stars:{amount}"} for amount in payments.PACKAGES]
            return {
                "text": _("How many Stars would you like to buy? Stars pay for bids and purchases on Bot-Auction."),
                "buttons": [packages[:3], packages[3:], [{"text": _("Other amount"), "callback_data": "buy_stars:other"}]],
            }
        if argument == "other":
            return {
                "text": _(
                    "Send /buy_stars and the number of Stars, for example /buy_stars 300 (from %(min)s to %(max)s).",
                    min=low,
                    max=high,
                )
            }
        try:
            purchase = payments.start_purchase(user.id, payments.parse_amount(argument), "bot")
        except ServiceError as refused:
            return {"text": str(refused)}
        return {"invoice": {"amount": purchase.amount, "payload": purchase.payload, "texts": invoice_texts(purchase.amount)}}


async def _answer_buy(update: Update, context: ContextTypes.DEFAULT_TYPE, argument: str) -> None:
    chat_id = update.effective_chat.id
    reply = await call_service(flask_app(context), buy_stars_reply, profile_of(update.effective_user), argument)
    invoice = reply.get("invoice")
    if invoice:
        await send_invoice(context.bot, chat_id, invoice["amount"], invoice["payload"], invoice["texts"])
    else:
        await sender(context).send(chat_id, reply)


async def buy_stars(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/buy_stars shows the packages; /buy_stars N sends an invoice for N Stars."""
    if update.effective_user is None or update.effective_chat is None:
        return
    await _answer_buy(update, context, " ".join(context.args or []).strip())


async def buy_stars_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    await query.answer()
    if update.effective_chat is None:
        return
    await _answer_buy(update, context, query.data.partition(":")[2])


# --- paying ---------------------------------------------------------------------------


def pre_checkout_refusal(telegram_id: int, language_code: str | None, payload: str, total: int, currency: str) -> str | None:
    """None when Telegram may charge, else the reason, in the payer's language."""
    try:
        payments.check_pre_checkout(telegram_id, payload, total, currency)
        return None
    except ServiceError as refused:
        with speaking_to(_user_by_telegram_id(telegram_id), language_code):
            return str(refused)


async def pre_checkout(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer Telegram's last check before charging (it waits at most 10 seconds)."""
    query = update.pre_checkout_query
    try:
        refusal = await asyncio.wait_for(
            call_service(
                flask_app(context),
                pre_checkout_refusal,
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
        with flask_app(context).app_context(), speaking_to(language_code=query.from_user.language_code):
            refusal = _("Payments are unavailable for a moment. Nothing was charged; please try again.")
    if refusal is None:
        await query.answer(ok=True)
    else:
        await query.answer(ok=False, error_message=refusal)


def payment_reply(telegram_id: int, language_code: str | None, payment: dict) -> dict:
    result = payments.complete_payment(telegram_id, **payment)
    with speaking_to(_user_by_telegram_id(telegram_id), language_code):
        if result.already_credited:
            text = _(
                "This payment was already credited; nothing changed. Available: %(available)s ⭐.",
                available=result.available,
            )
        else:
            text = _(
                "Payment received: +%(amount)s ⭐. Available now: %(available)s ⭐.",
                amount=result.amount,
                available=result.available,
            )
        return {"text": text, "buttons": _wallet_button()}


async def successful_payment(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Credit the Stars exactly once and tell the payer their new balance."""
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
    reply = await call_service(flask_app(context), payment_reply, user.id, user.language_code, payment)
    await sender(context).send(message.chat_id, reply)


def refunded_reply(telegram_id: int, language_code: str | None, charge_id: str, amount: int) -> dict | None:
    outcome = payments.handle_refunded_payment(telegram_id, charge_id)
    with speaking_to(_user_by_telegram_id(telegram_id), language_code):
        if outcome == "reversed":
            return {"text": _("Telegram refunded your purchase of %(amount)s Stars; they were taken out of your wallet.", amount=amount)}
        if outcome == "flagged":
            return {
                "text": _(
                    "Telegram refunded your purchase of %(amount)s Stars, but they were already spent or reserved "
                    "for bids. An admin will review your account.",
                    amount=amount,
                )
            }
    return None


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


# --- /status --------------------------------------------------------------------------


def status_reply(profile: TelegramProfile) -> dict:
    user = _registered_user(profile)
    state = account.account_status(user.id)
    with speaking_to(user):
        locale = str(get_locale())
        if state.subscription_until:
            zone = ZoneInfo(user.timezone or "UTC")
            subscription = _("active until %(date)s", date=format_date(state.subscription_until.astimezone(zone), "long", locale=locale))
        else:
            subscription = _("none")
        lines = [
            _("Your account"),
            _("Available: %(amount)s ⭐", amount=state.available),
            _("Reserved for bids: %(amount)s ⭐", amount=state.held),
            _("Subscription: %(state)s", state=subscription),
            ngettext("Leading in %(num)s auction", "Leading in %(num)s auctions", state.leading),
            ngettext("Outbid in %(num)s auction", "Outbid in %(num)s auctions", state.outbid),
        ]
        if state.sealed:
            lines.append(ngettext("Sealed bids in %(num)s auction", "Sealed bids in %(num)s auctions", state.sealed))
        return {"text": "\n".join(lines), "buttons": _wallet_button()}


async def status(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/status: Stars available and reserved, subscription, leading and outbid bids."""
    if update.effective_user is None or update.effective_chat is None:
        return
    reply = await call_service(flask_app(context), status_reply, profile_of(update.effective_user))
    await sender(context).send(update.effective_chat.id, reply)


# --- /paysupport ----------------------------------------------------------------------


def paysupport_reply(profile: TelegramProfile, details: str) -> dict:
    """The refund policy and recent payments, or (with details) a new payment support request."""
    user = _registered_user(profile)
    recent = payments.recent_payments(user.id)
    if details:
        ticket_id = payments.open_payment_request(user.id, details, recent[0].id if recent else None)
        with speaking_to(user):
            return {"text": _("Your payment support request #%(id)s is open. We answer here in the bot.", id=ticket_id)}
    with speaking_to(user):
        locale = str(get_locale())
        zone = ZoneInfo(user.timezone or "UTC")
        lines = [
            _("Payment support"),
            "",
            _(
                "Refunds: Stars you bought can be refunded while they are unspent, that is, while the whole purchase "
                "is still available in your wallet (not spent and not reserved for bids). Refunds go back to your "
                "Telegram account."
            ),
            "",
        ]
        if recent:
            lines.append(_("Your recent payments:"))
            statuses = {"paid": _("paid"), "refunded": _("refunded")}
            for payment in recent:
                when = format_datetime(payment.created_at.astimezone(zone), "short", locale=locale)
                lines.append(f"• {when} · {payment.amount} ⭐ · {statuses.get(payment.status, payment.status)} · #{payment.id}")
        else:
            lines.append(_("You have no payments yet."))
        lines += ["", _("Something wrong? Press the button, or send /paysupport followed by a description of the problem.")]
        return {
            "text": "\n".join(lines),
            "buttons": [[{"text": _("Open a payment support request"), "callback_data": "paysupport:open"}]],
        }


def paysupport_button_reply(profile: TelegramProfile) -> dict:
    user = _registered_user(profile)
    recent = payments.recent_payments(user.id, limit=1)
    body = "Payment support requested from the bot."
    ticket_id = payments.open_payment_request(user.id, body, recent[0].id if recent else None)
    with speaking_to(user):
        return {
            "text": _(
                "Your payment support request #%(id)s is open. We answer here in the bot. "
                "You can add details with /paysupport followed by a description.",
                id=ticket_id,
            )
        }


async def paysupport(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/paysupport: refund policy, recent payments, and a way to ask for help with a payment."""
    if update.effective_user is None or update.effective_chat is None:
        return
    details = " ".join(context.args or []).strip()
    reply = await call_service(flask_app(context), paysupport_reply, profile_of(update.effective_user), details)
    await sender(context).send(update.effective_chat.id, reply)


async def paysupport_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    await query.answer()
    if update.effective_chat is None:
        return
    reply = await call_service(flask_app(context), paysupport_button_reply, profile_of(update.effective_user))
    await sender(context).send(update.effective_chat.id, reply)


# --- /refund (admins) -----------------------------------------------------------------


def refund_reply(profile: TelegramProfile, argument: str, send_refund: Callable[[int, str], None]) -> dict:
    user = _registered_user(profile)
    with speaking_to(user):
        if not user.is_admin:
            return {"text": _("You are not allowed to do that.")}
        if not argument.isdigit():
            return {"text": _("Send /refund followed by the payment number, for example /refund 42.")}
    try:
        result = payments.refund_payment(user.id, int(argument), send_refund)
    except ServiceError as refused:
        with speaking_to(user):
            return {"text": str(refused)}
    with speaking_to(user):
        if not result.completed:
            return {
                "text": _(
                    "Telegram did not answer, so it is unknown whether payment #%(id)s was refunded. Its %(amount)s ⭐ "
                    "are set aside from the user's balance until the refund is confirmed: Telegram's refund notice "
                    "completes it, or send /refund %(id)s again to retry.",
                    id=result.payment_id,
                    amount=result.amount,
                )
            }
        return {
            "text": _(
                "Payment #%(id)s refunded. The user was told; they now have %(available)s ⭐ available.",
                id=result.payment_id,
                available=result.available,
            )
        }


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

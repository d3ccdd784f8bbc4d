"""Replies about Stars in the bot: /buy_stars, invoices, payments, refunds and /paysupport."""

from __future__ import annotations

from collections.abc import Callable
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from flask import current_app
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _

from auction import numbers, stars
from auction.bot.calls import speaking_to
from auction.bot.replies import known_user, registered
from auction.services import payments
from auction.services.errors import ServiceError
from auction.services.users import TelegramProfile


def wallet_button() -> list[list[dict]]:
    return [[{"text": _("Open your wallet"), "url": current_app.config["BASE_URL"] + "/wallet"}]]


# --- invoices -------------------------------------------------------------------------


def invoice_texts(amount: int) -> dict:
    """Title, description and price label of a Stars invoice, in the active language."""
    count = ngettext("%(num)s Star", "%(num)s Stars", stars.Amount(amount))
    return {
        "title": _("%(stars)s for Bot-Auction", stars=count)[:32],
        "description": _(
            "%(stars)s for bidding on Bot-Auction. They are added to your wallet as soon as the payment goes through.",
            stars=count,
        ),
        "label": count,
    }


def subscription_invoice_texts() -> dict:
    """Title, description and price label of the Premium subscription invoice, in the active language."""
    days = current_app.config["PREMIUM_PERIOD_DAYS"]
    return {
        "title": _("Bot-Auction Premium")[:32],
        "description": _(
            "Premium for %(days)s days: more live auctions and photos, Dutch and sealed-bid auctions and a lower fee. "
            "Telegram renews it every %(days)s days until you cancel.",
            days=days,
        )[:255],
        "label": _("Premium, %(days)s days", days=days),
    }


def buy_stars_reply(profile: TelegramProfile, argument: str) -> dict:
    """The package menu, an invoice to send ({"invoice": ...}), or the reason an amount is refused.

    `argument` is what follows /buy_stars (or a package button's data): read by auction.stars.
    """
    user = registered(profile)
    with speaking_to(user):
        low, high = payments.stars_limits()
        if not argument:
            packages = [{"text": stars.with_sign(amount), "callback_data": f"buy_stars:{amount}"} for amount in payments.PACKAGES]
            return {
                "text": _("How many Stars would you like to buy? Stars pay for bids and purchases on Bot-Auction."),
                "buttons": [packages[:3], packages[3:], [{"text": _("Other amount"), "callback_data": "buy_stars:other"}]],
            }
        if argument == "other":
            return {
                "text": _(
                    "Send /buy_stars and the number of Stars, for example /buy_stars 300 (from %(min)s to %(max)s).",
                    min=stars.format(low),
                    max=stars.format(high),
                )
            }
        try:
            purchase = payments.start_purchase(user.id, payments.parse_amount(argument), "bot")
        except ServiceError as refused:
            return {"text": str(refused)}
        return {"invoice": {"amount": purchase.amount, "payload": purchase.payload, "texts": invoice_texts(purchase.amount)}}


# --- paying ---------------------------------------------------------------------------


def pre_checkout_refusal(telegram_id: int, language_code: str | None, payload: str, total: int, currency: str) -> str | None:
    """None when Telegram may charge, else the reason, in the payer's language."""
    try:
        payments.check_pre_checkout(telegram_id, payload, total, currency)
        return None
    except ServiceError as refused:
        with speaking_to(known_user(telegram_id), language_code):
            return str(refused)


def payments_unavailable(language_code: str | None) -> str:
    with speaking_to(language_code=language_code):
        return _("Payments are unavailable for a moment. Nothing was charged; please try again.")


def payment_reply(telegram_id: int, language_code: str | None, payment: dict) -> dict:
    """Credit a successful payment (exactly once) and say the new balance."""
    result = payments.complete_payment(telegram_id, **payment)
    with speaking_to(known_user(telegram_id), language_code):
        if result.already_credited:
            text = _(
                "This payment was already credited; nothing changed. Available: %(available)s ⭐.",
                available=stars.format(result.available),
            )
        else:
            text = _(
                "Payment received: +%(amount)s ⭐. Available now: %(available)s ⭐.",
                amount=stars.format(result.amount),
                available=stars.format(result.available),
            )
        return {"text": text, "buttons": wallet_button()}


def refunded_reply(telegram_id: int, language_code: str | None, charge_id: str, amount: int) -> dict | None:
    """Telegram's refund notice: reverse the credit, or flag the account; what to tell the payer."""
    outcome = payments.handle_refunded_payment(telegram_id, charge_id)
    with speaking_to(known_user(telegram_id), language_code):
        if outcome == "reversed":
            return {
                "text": _(
                    "Telegram refunded your purchase of %(amount)s Stars; they were taken out of your wallet.",
                    amount=stars.format(amount),
                )
            }
        if outcome == "premium_ended":
            return {
                "text": _(
                    "Telegram refunded your Premium payment of %(amount)s Stars; the period it paid for has ended.",
                    amount=stars.format(amount),
                )
            }
        if outcome == "flagged":
            return {
                "text": _(
                    "Telegram refunded your purchase of %(amount)s Stars, but they were already spent or reserved "
                    "for bids. An admin will review your account.",
                    amount=stars.format(amount),
                )
            }
    return None


# --- /paysupport ----------------------------------------------------------------------


def paysupport_reply(profile: TelegramProfile, details: str) -> dict:
    """The refund policy and recent payments, or (with details) a new payment support request."""
    user = registered(profile)
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
                status = statuses.get(payment.status, payment.status)
                lines.append(f"• {when} · {stars.with_sign(payment.amount)} · {status} · #{payment.id}")
        else:
            lines.append(_("You have no payments yet."))
        lines += ["", _("Something wrong? Press the button, or send /paysupport followed by a description of the problem.")]
        return {
            "text": "\n".join(lines),
            "buttons": [[{"text": _("Open a payment support request"), "callback_data": "paysupport:open"}]],
        }


def paysupport_button_reply(profile: TelegramProfile) -> dict:
    """The "Open a payment support request" button: a request about the latest payment."""
    user = registered(profile)
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


# --- /refund (admins) -----------------------------------------------------------------


def refund_reply(profile: TelegramProfile, argument: str, send_refund: Callable[[int, str], None]) -> dict:
    """/refund <payment id>: an admin gives a purchase back; `send_refund` asks Telegram."""
    user = registered(profile)
    payment_id = numbers.read_id(argument)
    with speaking_to(user):
        if not user.is_admin:
            return {"text": _("You are not allowed to do that.")}
        if payment_id is None:
            return {"text": _("Send /refund followed by the payment number, for example /refund 42.")}
    try:
        result = payments.refund_payment(user.id, payment_id, send_refund)
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
                    amount=stars.format(result.amount),
                )
            }
        return {
            "text": _(
                "Payment #%(id)s refunded. The user was told; they now have %(available)s ⭐ available.",
                id=result.payment_id,
                available=stars.format(result.available),
            )
        }

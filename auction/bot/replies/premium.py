"""Replies about Premium in the bot: /subscribe, its renewal buttons, and subscription payments."""

from __future__ import annotations

import logging
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from flask import current_app
from flask_babel import get_locale
from flask_babel import gettext as _

from auction import stars
from auction.bot.calls import speaking_to
from auction.bot.replies import known_user, registered
from auction.bot.runtime import BotUnavailable, bot_runtime
from auction.models import User
from auction.services import premium, subscriptions
from auction.services.errors import ServiceError
from auction.services.users import TelegramProfile

log = logging.getLogger("auction.bot")


def _when(user: User, at) -> str:
    return format_datetime(at.astimezone(ZoneInfo(user.timezone or "UTC")), "d MMMM yyyy, HH:mm", locale=str(get_locale()))


def renewal_words(state: subscriptions.State) -> str:
    """How Premium goes on, in the words the dashboard uses too."""
    return {"telegram": _("renews in Telegram"), "balance": _("renews from your Stars")}.get(state.renewal, _("renewal off"))


def premium_line(user: User, state: subscriptions.State) -> str:
    """/status's Premium line: the end in the person's zone, renewal and how it is paid; or none."""
    if not state.premium:
        return _("Premium: none")
    return _("Premium: until %(date)s · %(renewal)s", date=_when(user, state.until), renewal=renewal_words(state))


def _page_button() -> list[dict]:
    return [{"text": _("Open the Premium page"), "url": current_app.config["BASE_URL"] + "/premium"}]


def _gives() -> list[str]:
    free, plus = premium.plans()
    return [
        _("Premium gives you:"),
        "• " + _("up to %(num)s live auctions at once (free: %(free)s)", num=plus.live_auctions, free=free.live_auctions),
        "• " + _("up to %(num)s photos per listing (free: %(free)s)", num=plus.photos, free=free.photos),
        "• " + _("Dutch and sealed-bid auctions"),
        "• " + _("a platform fee of %(fee)s%% instead of %(free)s%%", fee=plus.fee_percent, free=free.fee_percent),
    ]


def subscribe_reply(profile: TelegramProfile) -> dict:
    """/subscribe: what Premium gives, the person's state, and a button: pay in Telegram, or renewal off/on."""
    user = registered(profile)
    now = subscriptions.state(user.id)
    with speaking_to(user):
        lines = _gives() + [""]
        buttons: list[list[dict]] = []
        if now.premium:
            if now.renews and now.telegram:
                lines.append(_("Your Premium runs until %(date)s; Telegram renews it for %(price)s ⭐.",
                               date=_when(user, now.until), price=stars.format(now.price)))
            elif now.renews:
                lines.append(_("Your Premium runs until %(date)s; it renews from your wallet for %(price)s ⭐.",
                               date=_when(user, now.until), price=stars.format(now.price)))
            else:
                lines.append(_("Your Premium runs until %(date)s and will not renew.", date=_when(user, now.until)))
            if now.renews:
                buttons.append([{"text": _("Cancel renewal"), "callback_data": "premium:cancel"}])
            else:
                buttons.append([{"text": _("Turn renewal back on"), "callback_data": "premium:renew"}])
        else:
            lines.append(_("%(price)s ⭐ every %(days)s days, paid in Telegram; cancel any time.",
                           price=stars.format(now.price), days=now.period_days))
            link = _subscription_link(user.id)
            if link is None:
                lines.append(_("Telegram did not create the invoice. Please try again in a minute."))
            else:
                buttons.append([{"text": _("Subscribe for %(price)s ⭐", price=stars.format(now.price)), "url": link}])
        buttons.append(_page_button())
        return {"text": "\n".join(lines), "buttons": buttons}


def _subscription_link(user_id: int) -> str | None:
    try:
        return bot_runtime().create_subscription_link(subscriptions.price(), subscriptions.open_invoice(user_id))
    except ServiceError:
        raise
    except Exception:
        log.warning("subscribe: the subscription invoice link could not be made", exc_info=True)
        return None


def renewal_reply(profile: TelegramProfile, renew: bool) -> dict:
    """A renewal button: turn renewal off (`renew` False) or back on, through Telegram for a Telegram subscription."""
    user = registered(profile)
    try:
        now = subscriptions.set_renewal(user.id, renew, bot_runtime().edit_star_subscription)
    except BotUnavailable:
        with speaking_to(user):
            return {"text": _("The bot cannot reach Telegram right now, so nothing was changed. Please try again later.")}
    except ServiceError as refused:
        with speaking_to(user):
            return {"text": str(refused)}
    with speaking_to(user):
        if now.renews:
            text = _("Renewal is on again. Your Premium runs until %(date)s and then renews.", date=_when(user, now.until))
            button = {"text": _("Cancel renewal"), "callback_data": "premium:cancel"}
        else:
            text = _("Renewal is off. Your Premium stays until %(date)s and then ends; nothing more is charged.",
                     date=_when(user, now.until))
            button = {"text": _("Turn renewal back on"), "callback_data": "premium:renew"}
        return {"text": text, "buttons": [[button], _page_button()]}


def pre_checkout_refusal(telegram_id: int, language_code: str | None, payload: str, total: int, currency: str) -> str | None:
    """None when Telegram may charge this Premium invoice, else the reason, in the payer's language."""
    try:
        subscriptions.check_pre_checkout(telegram_id, payload, total, currency)
        return None
    except ServiceError as refused:
        with speaking_to(known_user(telegram_id), language_code):
            return str(refused)


def payment_reply(telegram_id: int, language_code: str | None, payment: dict) -> dict:
    """Store a Premium payment (the first or a renewal) exactly once and say until when Premium runs."""
    paid = subscriptions.complete_telegram_payment(telegram_id, **payment)
    user = known_user(telegram_id)
    with speaking_to(user, language_code):
        until = _when(user, paid.expires_at)
        if paid.already:
            text = _("This payment was already counted; nothing changed. Premium runs until %(date)s.", date=until)
        elif paid.renewal:
            text = _("Premium renewed: %(amount)s ⭐ paid. It now runs until %(date)s.", amount=stars.format(paid.amount), date=until)
        else:
            text = _("Welcome to Premium! %(amount)s ⭐ paid. It runs until %(date)s and Telegram renews it every month "
                     "until you cancel (/subscribe).", amount=stars.format(paid.amount), date=until)
        return {"text": text, "buttons": [_page_button()]}

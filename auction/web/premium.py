"""The Premium page: what it unlocks and costs, the person's subscription, and paying or changing it."""

from __future__ import annotations

import logging

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from auction import numbers, rate_limits
from auction.bot.runtime import BotUnavailable, bot_runtime
from auction.services import ledger, premium, subscriptions
from auction.services.errors import InsufficientFunds, ServiceError
from auction.web.submissions import one_effect

log = logging.getLogger(__name__)

bp = Blueprint("premium", __name__)


def _page(link: str | None = None, status: int = 200):
    config = current_app.config
    signed_in = current_user.is_authenticated
    free, plus = premium.plans()
    return render_template(
        "premium/page.html",
        free=free,
        plus=plus,
        price=config["PREMIUM_PRICE"],
        period_days=config["PREMIUM_PERIOD_DAYS"],
        mine=subscriptions.state(current_user.id) if signed_in else None,
        can_subscribe=signed_in and current_user.telegram_id is not None,
        bot_available=bot_runtime().running,
        link=link,
    ), status


@bp.app_template_global("header_premium")
def header_premium() -> bool:
    """Whether the signed-in person has Premium now, for the mark next to their name in the header."""
    return premium.is_premium(current_user.id)


@bp.get("/premium")
def page():
    """Free and Premium side by side, the price in Stars, and the viewer's subscription with its buttons."""
    return _page()


@bp.post("/premium/subscribe")
@rate_limits.limit("INVOICES")
@login_required
def subscribe():
    """Make a Telegram Stars subscription invoice link (30 days, PREMIUM_PRICE) and show it to open."""
    if not bot_runtime().running:
        flash(_("Subscribing in Telegram is not available at the moment: the bot is not running. Please try again later."), "error")
        return redirect(url_for("premium.page"))
    try:
        payload = subscriptions.open_invoice(current_user.id)
        link = bot_runtime().create_subscription_link(subscriptions.price(), payload)
    except ServiceError as refused:
        flash(str(refused), "error")
        return redirect(url_for("premium.page"))
    except Exception:
        log.warning("premium: Telegram did not create the subscription invoice link", exc_info=True)
        flash(_("Telegram did not create the invoice. Please try again in a minute."), "error")
        return redirect(url_for("premium.page"))
    return _page(link)


@bp.post("/premium/renewal")
@login_required
def renewal():
    """Turn renewal of the current Premium period off or back on (editUserStarSubscription for Telegram)."""
    renew = request.form.get("renew") == "on"
    try:
        subscriptions.set_renewal(current_user.id, renew, bot_runtime().edit_star_subscription)
    except BotUnavailable:
        flash(_("The bot cannot reach Telegram right now, so nothing was changed. Please try again later."), "error")
    except ServiceError as refused:
        flash(str(refused), "error")
    except Exception:
        log.warning("premium: editUserStarSubscription got no answer", exc_info=True)
        flash(_("Telegram did not answer, so nothing was changed. Please try again in a minute."), "error")
    else:
        if renew:
            flash(_("Renewal is on again."), "success")
        else:
            flash(_("Renewal is off. Your Premium stays until the end of the paid period."), "success")
    return redirect(url_for("people.dashboard") if request.form.get("next") == "dashboard" else url_for("premium.page"))


@bp.get("/premium/pay")
@login_required
def confirm_pay():
    """The confirm step of paying one period from the wallet: the amount, the new end date, the balance."""
    return render_template(
        "premium/pay.html", mine=subscriptions.state(current_user.id), available=ledger.balances(current_user.id).available
    )


@bp.post("/premium/pay")
@login_required
@one_effect("premium")
def pay():
    """Pay one period from available Stars (the price confirmed on the form); optionally renew from the wallet."""
    confirmed = numbers.read_whole(request.form.get("price"), max_digits=12)
    if confirmed is None:
        flash(_("Confirm the price of Premium to pay for it."), "error")
        return redirect(url_for("premium.confirm_pay"))
    try:
        paid = subscriptions.pay_from_balance(current_user.id, confirmed, renew=request.form.get("renew") == "on")
    except InsufficientFunds as short:
        flash(str(short), "error")
        return redirect(url_for("premium.confirm_pay"))
    except ServiceError as refused:
        flash(str(refused), "error")
        return redirect(url_for("premium.confirm_pay"))
    flash(_("Premium paid: %(amount)s Stars from your wallet.", amount=paid.amount), "success")
    return redirect(url_for("premium.page"))

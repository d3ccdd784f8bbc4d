"""A seller's payout requests on the wallet page: ask for Stars to be paid out, see each request's state."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from auction import stars as stars_module
from auction.services import payouts
from auction.services.errors import ServiceError
from auction.web.formatting import stars

bp = Blueprint("payouts", __name__)


@bp.app_template_global("my_payouts")
def my_payouts() -> list:
    """The signed-in person's payout requests, newest first (for the wallet page)."""
    return payouts.payouts_of(current_user.id)


@bp.app_template_global("payout_minimum")
def payout_minimum() -> int:
    return current_app.config["PAYOUT_MIN"]


@bp.post("/wallet/payouts")
@login_required
def request_payout():
    """Ask for a payout of part of the available Stars; they move to "payouts pending" at once."""
    try:
        amount = stars_module.parse(request.form.get("amount"))
    except stars_module.InvalidStars as exc:
        flash(str(exc), "error")
        return redirect(url_for("wallet.show", _anchor="payouts"))
    try:
        payouts.request_payout(current_user.id, amount, request.form.get("details", ""), current_app.config["PAYOUT_MIN"])
    except ServiceError as exc:
        flash(str(exc), "error")
    else:
        flash(_("Your payout request for %(amount)s is in. An administrator will carry it out.", amount=stars(amount)), "success")
    return redirect(url_for("wallet.show", _anchor="payouts"))

"""A seller's payout requests on the wallet page: ask for Stars to be paid out, see each request's state."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from auction.services import payouts
from auction.services.errors import ServiceError
from auction.web.formatting import stars

bp = Blueprint("payouts", __name__)


def whole_stars(value: str | None) -> int | None:
    """A typed whole number of Stars ("1200", "1 200", "1,200"), or None when it is not one."""
    digits = (value or "").strip().replace(",", "").replace(" ", "").replace("\u00a0", "").replace("'", "")
    return int(digits) if digits.isdigit() and len(digits) <= 12 else None


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
    amount = whole_stars(request.form.get("amount"))
    if amount is None:
        flash(_("Enter a whole number of Stars."), "error")
        return redirect(url_for("wallet.show", _anchor="payouts"))
    try:
        payouts.request_payout(current_user.id, amount, request.form.get("details", ""), current_app.config["PAYOUT_MIN"])
    except ServiceError as exc:
        flash(exc.render(stars_number), "error")
    else:
        flash(_("Your payout request for %(amount)s is in. An administrator will carry it out.", amount=stars(amount)), "success")
    return redirect(url_for("wallet.show", _anchor="payouts"))


def stars_number(amount: int) -> str:
    from auction.web.formatting import grouped

    return grouped(amount)

"""Help and policy pages: how auctions work (with worked examples from the real rules), fees, terms, privacy."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template

from auction.services import guide

bp = Blueprint("help", __name__)


@bp.get("/help")
def help_page():
    """How to bid and how each auction type works, each with a worked example."""
    return render_template("help/help.html", ex=guide.examples(current_app.config["PLATFORM_FEE_PERCENT"]))


@bp.get("/fees")
def fees():
    """The platform fee, Premium, and how earnings leave the platform (payouts)."""
    return render_template(
        "help/fees.html",
        ex=guide.examples(current_app.config["PLATFORM_FEE_PERCENT"]),
        payout_min=current_app.config["PAYOUT_MIN"],
    )


@bp.get("/terms")
def terms():
    """Terms of use: what may be sold here (digital goods and services, as Telegram's rules for Stars require)."""
    return render_template("help/terms.html", fee_percent=current_app.config["PLATFORM_FEE_PERCENT"])


@bp.get("/privacy")
def privacy():
    """What the site keeps about a person and why."""
    return render_template("help/privacy.html")

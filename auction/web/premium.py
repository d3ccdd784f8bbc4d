"""The Premium page: what it unlocks, what it costs, and the signed-in person's subscription."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template
from flask_login import current_user

from auction.services import premium

bp = Blueprint("premium", __name__)


@bp.get("/premium")
def page():
    """Free and Premium side by side, the price in Stars, and the viewer's current state."""
    config = current_app.config
    mine = premium.allowance(current_user.id) if current_user.is_authenticated else None
    return render_template(
        "premium/page.html",
        free=premium.allowance(None),
        plus=premium.Allowance(
            True, None, config["PREMIUM_LIVE_AUCTIONS"], config["PREMIUM_PHOTOS"], config["PREMIUM_FEE_PERCENT"]
        ),
        price=config["PREMIUM_PRICE"],
        period_days=config["PREMIUM_PERIOD_DAYS"],
        mine=mine,
    )

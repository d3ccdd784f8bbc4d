"""Watching auctions on the site: the Watch / Watching toggle on an auction page and the watchlist page."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from auction.services import catalog, watchlist
from auction.services.errors import ServiceError
from auction.web.htmx import is_htmx

bp = Blueprint("watching", __name__)


@bp.app_template_global("viewer_watches")
def viewer_watches(auction_id: int) -> bool:
    """Whether the signed-in reader watches the auction (the toggle is per reader, never pushed live)."""
    return watchlist.is_watching(current_user.id if current_user.is_authenticated else None, auction_id)


@bp.post("/auctions/<int:auction_id>/watch")
@login_required
def watch(auction_id: int):
    """Add the auction to the reader's watchlist."""
    return _toggle(auction_id, on=True)


@bp.post("/auctions/<int:auction_id>/unwatch")
@login_required
def unwatch(auction_id: int):
    """Take the auction off the reader's watchlist."""
    return _toggle(auction_id, on=False)


@bp.get("/watchlist")
@login_required
def index():
    """The open auctions the reader watches, the ones ending soonest first."""
    return render_template("watching/index.html", auctions=watchlist.watched_auctions(current_user.id))


def _toggle(auction_id: int, on: bool):
    back = url_for("auctions.show", auction_id=auction_id)
    error = None
    try:
        watchlist.set_watching(current_user.id, auction_id, on)
    except ServiceError as exc:
        if exc.status in (403, 404):
            abort(exc.status)
        error = str(exc)
    if is_htmx():
        auction = catalog.get_auction(auction_id)
        if auction is None:
            abort(404)
        return render_template(
            "auctions/_watch_button.html", a=auction, watching=viewer_watches(auction_id), is_seller=False, error=error
        )
    if error:
        flash(error, "error")
    else:
        flash(_("Added to your watchlist.") if on else _("Removed from your watchlist."), "success")
    return redirect(back, 303)

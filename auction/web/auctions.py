"""Auction pages: one auction live, bidding, buy now, Dutch accept, cancel, and the listing form."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from auction.live import renders
from auction.services import auctions_read, bidding, catalog
from auction.services.errors import ServiceError
from auction.services.ledger import InsufficientFunds
from auction.web.formatting import is_htmx

bp = Blueprint("auctions", __name__, url_prefix="/auctions")


def _viewer_id() -> int | None:
    return current_user.id if current_user.is_authenticated else None


def _page_or_404(auction_id: int) -> auctions_read.AuctionPage:
    page = auctions_read.auction_page(auction_id, _viewer_id())
    if page is None:
        abort(404)
    return page


@bp.get("/<int:auction_id>")
def show(auction_id: int):
    """The auction page: gallery, price, bid form, history, live through SSE."""
    return render_template("auctions/show.html", page=_page_or_404(auction_id), form={}, error=None)


def _parse_stars(value: str | None) -> int | None:
    value = (value or "").strip().replace(" ", "").replace("\u00a0", "")
    if not value:
        return None
    if not value.isdigit() or len(value) > 12:
        raise ValueError(value)
    return int(value)


def _bid_response(auction_id: int, form: dict, error: str | None = None, funds: bool = False, message: str | None = None):
    """The bid form again: the fragment (plus fresh price and history) for htmx, else the full page."""
    page = _page_or_404(auction_id)
    context = {"page": page, "form": form, "error": error, "funds_link": funds, "message": message}
    if is_htmx():
        return render_template("auctions/_bid_response.html", **context)
    status = 200 if error is None else (402 if funds else 422)
    return render_template("auctions/show.html", **context), status


@bp.post("/<int:auction_id>/bids")
def place_bid(auction_id: int):
    """Place a bid (or raise a proxy maximum, or a sealed bid)."""
    if not current_user.is_authenticated:
        return _login_first(auction_id)
    form = {"amount": request.form.get("amount", ""), "max_amount": request.form.get("max_amount", "")}
    try:
        amount = _parse_stars(form["amount"])
        maximum = _parse_stars(form["max_amount"])
    except ValueError:
        return _bid_response(auction_id, form, _("Enter a whole number of Stars."))
    if amount is None and maximum is None:
        return _bid_response(auction_id, form, _("Enter your bid."))
    offer = max(amount or 0, maximum or 0)
    try:
        result = bidding.place_bid(auction_id, current_user.id, offer, source="web")
    except InsufficientFunds as exc:
        return _bid_response(auction_id, form, str(exc), funds=True)
    except ServiceError as exc:
        if exc.status == 404:
            abort(404)
        return _bid_response(auction_id, form, str(exc))
    if result.leading:
        message = _("Your bid is in: you are the highest bidder.")
    elif catalog.get_auction(auction_id).kind.startswith("sealed"):
        message = _("Your sealed bid is in. Amounts stay hidden until the end.")
    else:
        message = _("Your bid is in, but another bidder's maximum is higher. You have been outbid.")
    if not is_htmx():
        flash(message, "success" if result.leading else "warning")
        return redirect(url_for("auctions.show", auction_id=auction_id), 303)
    return _bid_response(auction_id, {}, message=message)


def _login_first(auction_id: int):
    target = url_for("auth.login", next=url_for("auctions.show", auction_id=auction_id))
    if is_htmx():
        return "", 204, {"HX-Redirect": target}
    return redirect(target)


def _finish(auction_id: int, action) -> object:
    """Run a one-shot action (buy now, accept, cancel); report the outcome on the auction page."""
    if not current_user.is_authenticated:
        return _login_first(auction_id)
    try:
        message = action()
    except ServiceError as exc:
        if exc.status == 404:
            abort(404)
        flash(str(exc), "error")
        if isinstance(exc, InsufficientFunds):
            flash(_("Top up your Stars in your wallet: %(url)s", url="/wallet"), "warning")
    else:
        flash(message, "success")
    return redirect(url_for("auctions.show", auction_id=auction_id), 303)


@bp.post("/<int:auction_id>/buy-now")
def buy_now(auction_id: int):
    """Buy at the buy-it-now price; ends the auction."""

    def act():
        result = bidding.buy_now(auction_id, current_user.id, source="web")
        return _("You bought it for %(price)s Stars.", price=result.price)

    return _finish(auction_id, act)


@bp.post("/<int:auction_id>/accept")
def accept(auction_id: int):
    """Accept the current Dutch price."""

    def act():
        result = bidding.accept_dutch(auction_id, current_user.id, source="web")
        return _("You bought it for %(price)s Stars.", price=result.price)

    return _finish(auction_id, act)


@bp.post("/<int:auction_id>/cancel")
def cancel(auction_id: int):
    """Cancel a listing (the seller before the first bid, an admin any time)."""

    def act():
        bidding.cancel_auction(auction_id, current_user.id)
        return _("The auction was cancelled.")

    return _finish(auction_id, act)


# --- live fragments ---------------------------------------------------------------------


def live_fragments(auction_id: int) -> list[tuple[str, str]]:
    """The price panel, bid history and end time of an auction, as every visitor sees them."""
    page = auctions_read.auction_page(auction_id, None)
    if page is None:
        return []
    return [
        (f"auction-{auction_id}-price", render_template("auctions/_price.html", page=page, box=page.box)),
        (f"auction-{auction_id}-bids", render_template("auctions/_bids.html", page=page)),
        (f"auction-{auction_id}-ends", render_template("auctions/_ends.html", box=page.box)),
    ]


@renders("bid_placed")
@renders("auction_extended")
@renders("auction_closed")
@renders("auction_opened")
@renders("dutch_price")
def render_auction_event(app, data: dict, locale: str) -> list[tuple[str, str]]:
    return live_fragments(int(data["auction_id"]))


"""One auction's page and its actions: bid, buy it now, accept a Dutch price, cancel (each confirmed)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from auction import rate_limits, stars
from auction.services import auction_view, bidding, lifecycle, view_counts
from auction.services.errors import InsufficientFunds, ServiceError
from auction.web.auctions.blueprint import bp
from auction.web.chart import with_chart
from auction.web.formatting import grouped
from auction.web.htmx import fragment_or_page, is_htmx


def _viewer_id() -> int | None:
    return current_user.id if current_user.is_authenticated else None


def _viewer_is_admin() -> bool:
    return current_user.is_authenticated and current_user.is_admin


def _page_or_404(auction_id: int, full: bool = True) -> auction_view.AuctionPage:
    page = auction_view.auction_page(auction_id, _viewer_id(), full=full, is_admin=_viewer_is_admin())
    if page is None or not page.visible:
        abort(404)
    return with_chart(page)


@bp.get("/<int:auction_id>")
def show(auction_id: int):
    """The auction page: gallery, price, bid form, history, live through SSE; a view for the seller's statistics."""
    page = _page_or_404(auction_id)
    view_counts.count_view(auction_id, by_seller=page.viewer_is_seller)
    return render_template("auctions/show.html", page=page, form={}, error=None)


def _bid_response(
    auction_id: int, form: dict, error: str | None = None, funds: bool = False, message: str | None = None, page=None, warning: bool = False
):
    """The bid form again: the fragment (plus the fresh price panel) for htmx, else the full page.

    `page` is what an accepted bid's transaction already holds; without it the page is read.
    The bid history reaches every open page, this one included, through the live stream.
    """
    page = page or _page_or_404(auction_id, full=not is_htmx())
    status = 200 if error is None else (402 if funds else 422)
    return fragment_or_page(
        "auctions/_bid_response.html", "auctions/show.html", status,
        page=page, form=form, error=error, funds_link=funds, message=message, message_warning=warning,
    )


@bp.post("/<int:auction_id>/bids")
@login_required
@rate_limits.limit("BIDS")
def place_bid(auction_id: int):
    """Place a bid (or raise a proxy maximum, or a sealed bid)."""
    form = {"amount": request.form.get("amount", ""), "max_amount": request.form.get("max_amount", "")}
    try:
        amount = stars.read(form["amount"])
        maximum = stars.read(form["max_amount"])
    except stars.InvalidStars as exc:
        return _bid_response(auction_id, form, str(exc))
    if amount is None and maximum is None:
        return _bid_response(auction_id, form, _("Enter your bid."))
    try:
        result = bidding.place_bid(auction_id, current_user.id, maximum, source="web", amount=amount)
    except InsufficientFunds as exc:
        return _bid_response(auction_id, form, exc.render(grouped), funds=True)
    except ServiceError as exc:
        if exc.status == 404:
            abort(404)
        return _bid_response(auction_id, form, exc.render(grouped))
    if result.leading:
        message = _("Your bid is in: you are the highest bidder.")
    elif result.sealed:
        message = _("Your sealed bid is in. Amounts stay hidden until the end.")
    else:
        message = _("Your bid is in, but another bidder's maximum is higher. You have been outbid.")
    outbid = not result.leading and not result.sealed
    if not is_htmx():
        flash(message, "warning" if outbid else "success")
        return redirect(url_for("auctions.show", auction_id=auction_id), 303)
    return _bid_response(auction_id, {}, message=message, page=auction_view.page_after_bid(result.box, result.viewer), warning=outbid)


@bp.get("/<int:auction_id>/bids")
def bids_address(auction_id: int):
    """A reload of the address a plain-form bid error left in the bar: back to the auction."""
    return redirect(url_for("auctions.show", auction_id=auction_id), 303)


def _run_and_report(auction_id: int, action) -> object:
    """Run a one-shot action (buy now, accept, cancel); report the outcome on the auction page."""
    try:
        message = action()
    except ServiceError as exc:
        if exc.status == 404:
            abort(404)
        # "funds" renders as an error with a link to the wallet (templates/_partials/flashes.html).
        flash(exc.render(grouped), "funds" if isinstance(exc, InsufficientFunds) else "error")
    else:
        flash(message, "success")
    return redirect(url_for("auctions.show", auction_id=auction_id), 303)


# The one-press actions that move money or end an auction; each asks for a confirming press first.
CONFIRMS = ("buy-now", "accept", "cancel")


@bp.get("/<int:auction_id>/<any('buy-now', accept, cancel):action>")
@login_required
def confirm(auction_id: int, action: str):
    """A second look before buying now, accepting a Dutch price or cancelling: what happens, and the amount."""
    page = _page_or_404(auction_id, full=False)
    allowed = {"buy-now": page.viewer.can_buy_now, "accept": page.viewer.can_accept, "cancel": page.viewer.cancellable}[action]
    return fragment_or_page("auctions/_confirm.html", "auctions/confirm.html", 200 if allowed else 409, page=page, action=action, allowed=allowed)


@bp.post("/<int:auction_id>/buy-now")
@login_required
@rate_limits.limit("BIDS")
def buy_now(auction_id: int):
    """Buy at the buy-it-now price; ends the auction."""

    def act():
        result = lifecycle.buy_now(auction_id, current_user.id, source="web")
        return _("You bought it for %(price)s Stars.", price=grouped(result.price))

    return _run_and_report(auction_id, act)


@bp.post("/<int:auction_id>/accept")
@login_required
@rate_limits.limit("BIDS")
def accept(auction_id: int):
    """Accept the current Dutch price."""

    def act():
        result = lifecycle.accept_dutch(auction_id, current_user.id, source="web")
        return _("You bought it for %(price)s Stars.", price=grouped(result.price))

    return _run_and_report(auction_id, act)


@bp.post("/<int:auction_id>/cancel")
@login_required
def cancel(auction_id: int):
    """Cancel a listing (the seller before the first bid, an admin any time)."""

    def act():
        lifecycle.cancel_auction(auction_id, current_user.id)
        return _("The auction was cancelled.")

    return _run_and_report(auction_id, act)

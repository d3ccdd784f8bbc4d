"""The home page's grid, live: each card's price, bids, end and outcome, and the new-auctions notice.

Cards follow the `listings` channel. Each card swaps its own named event
("auction-card-<id>"), as the auction page's panels do, so an event about an auction the page
does not show (another category, past the first screenful) is simply not listened to.
"""

from __future__ import annotations

from contextlib import contextmanager

from flask import render_template
from flask_babel import force_locale
from markupsafe import Markup, escape

from auction.live import renders
from auction.services import catalog


@contextmanager
def _render_context(app, locale: str):
    # A fresh app context is a fresh database session (the committing one may still be busy);
    # it replaces `g`, where flask-babel keeps the forced language, so force it again inside.
    with app.app_context(), force_locale(locale):
        yield


@renders("price_changed")
def render_card(app, data: dict, locale: str) -> list[tuple[str, str]]:
    """A bid, an extension, a Dutch step, an edit or the close: the card's moving part, read fresh."""
    auction_id = int(data["auction_id"])
    with _render_context(app, locale):
        auction = catalog.get_auction(auction_id)
        if auction is None:
            return []
        html = render_template("_partials/auction_card_live.html", auction=auction)
        return [(f"auction-card-{auction_id}", html)]


@renders("auction_created")
def render_new_listing(app, data: dict, locale: str) -> list[tuple[str, str]]:
    """A marker the page counts into its "new auctions" notice; scheduled ones wait for their opening."""
    auction_id = int(data["auction_id"])
    with _render_context(app, locale):
        auction = catalog.get_auction(auction_id)
        if auction is None or auction.status != "live":
            return []
        slug = auction.category.slug if auction.category else ""
        return [("listings-new", str(Markup('<i data-auction="{}" data-category="{}"></i>').format(auction_id, escape(slug))))]

"""Live fragments: what an event looks like on the auction page and the home grid.

Each renderer turns one committed event into the server-sent events a page swaps in; it is
rendered once per event and language and shared by every reader of the channel.
"""

from __future__ import annotations

from contextlib import contextmanager

from flask import render_template
from flask_babel import force_locale
from markupsafe import Markup, escape

from auction.live import renders
from auction.services import auctions_read, catalog, watchlist


def live_fragments(auction_id: int, controls: bool = False) -> list[tuple[str, str]]:
    """The price panel, bid history, price chart and end time of an auction, as every visitor sees them.

    `controls` adds the bid form / outcome block, for the events that change what a visitor can
    do: opening, closing, and a bid (who leads, the minimum, buy it now, the seller's edit and
    cancel). It carries every viewer's variant; auction.js keeps the page's own and what its
    reader was typing.
    """
    page = auctions_read.auction_page(auction_id, None)
    if page is None:
        return []
    fragments = [
        (f"auction-{auction_id}-price", render_template("auctions/_price.html", page=page, box=page.box)),
        (f"auction-{auction_id}-bids", render_template("auctions/_bids.html", page=page)),
        (f"auction-{auction_id}-ends", render_template("auctions/_ends.html", box=page.box)),
    ]
    if page.chart:
        fragments.append((f"auction-{auction_id}-chart", render_template("auctions/_chart.html", page=page)))
    if controls:
        fragments.append((f"auction-{auction_id}-controls", render_template("auctions/_controls.html", page=page, form={}, live=True)))
    return fragments


@contextmanager
def _render_context(app, locale: str):
    # A fresh app context means a fresh database session (the caller's may be mid-commit);
    # flask-babel keeps the forced language on `g`, which the new context replaces, so force it again.
    with app.app_context(), force_locale(locale):
        yield


@renders("auction_extended")
@renders("dutch_price")
def render_auction_event(app, data: dict, locale: str) -> list[tuple[str, str]]:
    with _render_context(app, locale):
        return live_fragments(int(data["auction_id"]))


@renders("bid_placed")
@renders("auction_closed")
@renders("auction_opened")
def render_auction_turn(app, data: dict, locale: str) -> list[tuple[str, str]]:
    with _render_context(app, locale):
        return live_fragments(int(data["auction_id"]), controls=True)


@renders("watchers_changed")
def render_watchers(app, data: dict, locale: str) -> list[tuple[str, str]]:
    # Counted at render time, not taken from the event: two watches committing together
    # could each have counted without the other.
    auction_id = int(data["auction_id"])
    with _render_context(app, locale):
        watchers = watchlist.watchers_count(auction_id)
        return [(f"auction-{auction_id}-watchers", render_template("auctions/_watchers.html", watchers=watchers))]


# --- the home page's grid ---------------------------------------------------------------


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

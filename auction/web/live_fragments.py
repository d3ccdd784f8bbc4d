"""Live fragments: what an event looks like on the auction page and the home grid.

Each renderer turns one committed event into the server-sent events a page swaps in; it is
rendered once per event and language and shared by every reader of the channel.
"""

from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime

from flask import render_template
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape

from auction.extensions import db
from auction.models import User
from auction.services import auction_view, catalog, watchlist
from auction.web.formatting import stars


def _panel(page, extended: int | None = None) -> list[tuple[str, str]]:
    """The price panel and the end time, as every visitor sees them."""
    auction_id = page.auction.id
    return [
        (f"auction-{auction_id}-price", render_template("auctions/_price.html", page=page, box=page.box)),
        (f"auction-{auction_id}-ends", render_template("auctions/_ends.html", box=page.box, extended=extended)),
    ]


def _extension_minutes(page, data: dict) -> int | None:
    return page.auction.snipe_extension_seconds // 60 if data.get("extended") and page.auction.snipe_extension_seconds else None


def live_fragments(auction_id: int, controls: bool = False) -> list[tuple[str, str]]:
    """The price panel, the whole bid history and the end time; with `controls`, the controls too.

    Controls come in two shared renders, for a guest and for anyone signed in without a part in
    the auction (each page listens to its own); what is personal goes on the person's channel
    (render_viewer). Used when the auction opens or closes: everything may change then.
    """
    page = auction_view.auction_page(auction_id, None)
    if page is None:
        return []
    fragments = _panel(page)
    fragments.append((f"auction-{auction_id}-bids", render_template("auctions/_bids.html", page=page)))
    if controls:
        member = auction_view.auction_page(auction_id, None, full=False, signed_in=True)
        fragments.append((f"auction-{auction_id}-controls-guest", render_template("auctions/_controls.html", page=page, form={}, live=True)))
        fragments.append((f"auction-{auction_id}-controls", render_template("auctions/_controls.html", page=member, form={}, live=True)))
    return fragments


@contextmanager
def _render_context(app, locale: str):
    # A fresh app context means a fresh database session (the caller's may be mid-commit);
    # flask-babel keeps the forced language on `g`, which the new context replaces, so force it again.
    with app.app_context(), force_locale(locale):
        yield


def render_auction_event(app, data: dict, locale: str) -> list[tuple[str, str]]:
    with _render_context(app, locale):
        page = auction_view.auction_page(int(data["auction_id"]), None, full=False)
        return _panel(page, _extension_minutes(page, {"extended": True} if "extended" not in data else data)) if page else []


def render_bid(app, data: dict, locale: str) -> list[tuple[str, str]]:
    """One bid, small whatever the number of bids: the price panel, the end, the bid's own history
    rows, the chart's new point, the public least offer and buy it now (while offered)."""
    auction_id = int(data["auction_id"])
    with _render_context(app, locale):
        page = auction_view.auction_page(auction_id, None, full=False, signed_in=True)
        if page is None:
            return []
        a = page.auction
        fragments = _panel(page, _extension_minutes(page, data))
        at = datetime.fromisoformat(data["at"]) if data.get("at") else None
        rows = auction_view.rows_at(auction_id, at) if at else []
        if rows:
            fragments.append((f"auction-{auction_id}-bid", render_template("auctions/_bid_rows.html", rows=rows)))
        if a.kind == "english":
            if at:
                point = Markup('<data value="{}" data-at="{}"></data>').format(a.current_price, int(at.timestamp()))
                fragments.append((f"auction-{auction_id}-chart-point", str(point)))
            if page.viewer.least_offer is not None:
                fragments.append((f"auction-{auction_id}-least", stars(page.viewer.least_offer)))
            if a.buy_now_price:
                fragments.append((f"auction-{auction_id}-buy-now", render_template("auctions/_buy_now.html", page=page)))
        return fragments


def render_auction_turn(app, data: dict, locale: str) -> list[tuple[str, str]]:
    with _render_context(app, locale):
        return live_fragments(int(data["auction_id"]), controls=True)


# What a person's own bid came to, on every page of theirs (the same words as the answer to the bid).
BID_RESULTS = {
    "leading": _l("Your bid is in: you are the highest bidder."),
    "outbid": _l("Your bid is in, but another bidder's maximum is higher. You have been outbid."),
    "sealed": _l("Your sealed bid is in. Amounts stay hidden until the end."),
}


def render_viewer(app, data: dict, locale: str) -> list[tuple[str, str]]:
    """One person's own controls on one auction (sent on their channel): they lead, were outbid, won, lost..."""
    auction_id, user_id = int(data["auction_id"]), int(data["user_id"])
    with _render_context(app, locale):
        user = db.session.get(User, user_id)
        page = auction_view.auction_page(auction_id, user_id, full=False, is_admin=bool(user and user.is_admin))
        if page is None or user is None:
            return []
        message = BID_RESULTS[data["bid"]] if data.get("bid") in BID_RESULTS else None
        html = render_template(
            "auctions/_controls.html", page=page, form={}, live=True, outbid=bool(data.get("outbid")),
            message=message, message_warning=data.get("bid") == "outbid",
        )
        return [(f"auction-{auction_id}-mine", html)]


def render_watchers(app, data: dict, locale: str) -> list[tuple[str, str]]:
    # Counted at render time, not taken from the event: two watches committing together
    # could each have counted without the other.
    auction_id = int(data["auction_id"])
    with _render_context(app, locale):
        watchers = watchlist.watchers_count(auction_id)
        return [(f"auction-{auction_id}-watchers", render_template("auctions/_watchers.html", watchers=watchers))]


# --- the home page's grid ---------------------------------------------------------------


def render_card(app, data: dict, locale: str) -> list[tuple[str, str]]:
    """A bid, an extension, a Dutch step, an edit or the close: the card's moving part, read fresh."""
    auction_id = int(data["auction_id"])
    with _render_context(app, locale):
        auction = catalog.get_auction(auction_id)
        if auction is None:
            return []
        html = render_template("_partials/auction_card_live.html", auction=auction)
        return [(f"auction-card-{auction_id}", html)]


def render_new_listing(app, data: dict, locale: str) -> list[tuple[str, str]]:
    """A marker the page counts into its "new auctions" notice; scheduled ones wait for their opening."""
    auction_id = int(data["auction_id"])
    with _render_context(app, locale):
        auction = catalog.get_auction(auction_id)
        if auction is None or auction.status != "live":
            return []
        slug = auction.category.slug if auction.category else ""
        return [("listings-new", str(Markup('<i data-auction="{}" data-category="{}"></i>').format(auction_id, escape(slug))))]


# The events this module draws (create_app's register_live registers them).
RENDERERS = {
    "auction_extended": render_auction_event,
    "dutch_price": render_auction_event,
    "bid_placed": render_bid,
    "auction_closed": render_auction_turn,
    "auction_opened": render_auction_turn,
    "auction_viewer": render_viewer,
    "watchers_changed": render_watchers,
    "price_changed": render_card,
    "auction_created": render_new_listing,
}

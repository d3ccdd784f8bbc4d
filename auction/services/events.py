"""The live contract: every event the services publish, its channel and its payload.

An event is queued with `transaction.emit(*event)` inside a transaction and published only
after that transaction commits. Channels: `listings` (the home page grid), `auction:<id>`
(everyone watching one auction) and `user:<id>` (one person's own pages). Payloads are plain
JSON values: amounts in Stars, times as ISO 8601 UTC strings.
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from auction.models import Auction

LISTINGS = "listings"

# Every event name, one line each: what happened.
AUCTION_CREATED = "auction_created"  # listings: a new auction belongs on the home page
AUCTION_OPENED = "auction_opened"  # auction: a scheduled auction (or an edited listing) opened
BID_PLACED = "bid_placed"  # auction: the price, bid count or end changed by a bid
AUCTION_EXTENDED = "auction_extended"  # auction: anti-sniping moved the end
PRICE_CHANGED = "price_changed"  # listings: a card's price, bid count, end or status changed
DUTCH_PRICE = "dutch_price"  # auction: a Dutch price stepped down by the clock
AUCTION_CLOSED = "auction_closed"  # auction: ended (sold or not) or cancelled
WATCHERS_CHANGED = "watchers_changed"  # auction: someone started or stopped watching
BALANCE_CHANGED = "balance_changed"  # user: available or held Stars changed
AUCTION_VIEWER = "auction_viewer"  # user: what changed for this person on an auction (lead, outbid, won...)

EVENT_NAMES = (
    AUCTION_CREATED,
    AUCTION_OPENED,
    BID_PLACED,
    AUCTION_EXTENDED,
    PRICE_CHANGED,
    DUTCH_PRICE,
    AUCTION_CLOSED,
    WATCHERS_CHANGED,
    BALANCE_CHANGED,
)


class Event(NamedTuple):
    channel: str
    name: str
    data: dict


def auction_channel(auction_id: int) -> str:
    return f"auction:{auction_id}"


def user_channel(user_id: int) -> str:
    return f"user:{user_id}"


def auction_created(auction_id: int) -> Event:
    return Event(LISTINGS, AUCTION_CREATED, {"auction_id": auction_id})


def auction_opened(auction_id: int) -> Event:
    return Event(auction_channel(auction_id), AUCTION_OPENED, {"auction_id": auction_id})


def listing_repriced(auction: Auction) -> Event:
    """A listing's card changed: an edit before the first bid, or a scheduled auction opening."""
    return Event(LISTINGS, PRICE_CHANGED, {"auction_id": auction.id, "price": auction.current_price})


def bid_placed(auction: Auction, min_next: int | None, extended: bool, at: datetime, raised: bool = False) -> list[Event]:
    """A bid moved the price, the count or the end: the auction's watchers and the home grid.

    `min_next` is the minimum next bid (Stars) or None for a sealed auction, whose price stays put;
    `at` (UTC) the moment of the bid's rows, so a page appends just those; `raised`, a sealed bidder
    raised their one bid (their row moves to the top instead of a new one).
    """
    data = {
        "auction_id": auction.id,
        "price": auction.current_price,
        "bid_count": auction.bid_count,
        "ends_at": auction.ends_at.isoformat(),
        "extended": extended,
        "at": at.isoformat(),
    }
    if min_next is not None:
        data["min_next"] = min_next
    else:
        data["raised"] = raised
    events = [Event(auction_channel(auction.id), BID_PLACED, data)]
    if extended:
        events.append(Event(auction_channel(auction.id), AUCTION_EXTENDED, {"auction_id": auction.id, "ends_at": data["ends_at"]}))
    events.append(Event(LISTINGS, PRICE_CHANGED, data))
    return events


def dutch_price(auction: Auction) -> list[Event]:
    data = {"auction_id": auction.id, "price": auction.current_price, "bid_count": auction.bid_count, "ends_at": auction.ends_at.isoformat()}
    return [Event(auction_channel(auction.id), DUTCH_PRICE, data), Event(LISTINGS, PRICE_CHANGED, data)]


def auction_closed(auction: Auction) -> list[Event]:
    data = {
        "auction_id": auction.id,
        "status": auction.status,
        "price": auction.current_price,
        "final_price": auction.final_price,
        "winner_id": auction.winner_id,
        "bid_count": auction.bid_count,
        "ends_at": auction.ends_at.isoformat(),
    }
    return [Event(auction_channel(auction.id), AUCTION_CLOSED, data), Event(LISTINGS, PRICE_CHANGED, data)]


def watchers_changed(auction_id: int) -> Event:
    return Event(auction_channel(auction_id), WATCHERS_CHANGED, {"auction_id": auction_id})


def balance_changed(user_id: int, available: int, held: int) -> Event:
    """A person's Stars (available and held) after a transfer."""
    return Event(user_channel(user_id), BALANCE_CHANGED, {"user_id": user_id, "available": available, "held": held})


def auction_viewers(
    auction_id: int, user_ids: list[int | None], outbid: int | None = None, bidder: int | None = None, result: str | None = None
) -> list[Event]:
    """Each person's own pages learn what changed for them on this auction (they lead, were outbid, won...).

    `result` is what `bidder`'s own bid came to ("leading", "outbid" or "sealed"): every page of
    theirs says it, not only the one that sent it. Emitted after the auction's shared events, so a
    page swaps its personal state last.
    """
    found = []
    for user_id in dict.fromkeys(u for u in user_ids if u is not None):
        data = {"auction_id": auction_id, "user_id": user_id, "outbid": user_id == outbid}
        if user_id == bidder and result:
            data["bid"] = result
        found.append(Event(user_channel(user_id), AUCTION_VIEWER, data))
    return found

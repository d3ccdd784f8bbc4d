"""What one viewer may do on one auction right now, computed once from the pure rules.

The auction page, the bid response, the live layer and the bot's card all read these fields;
no template or handler recomputes a rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from auction.models import Auction
from auction.services import rules

if TYPE_CHECKING:
    from auction.services.auction_view import PriceBox


@dataclass(frozen=True)
class ViewerState:
    role: str  # "guest" | "seller" | "leader" | "bidder" | "winner" | "loser"
    is_open: bool  # the auction takes bids or purchases now (server clock)
    biddable: bool  # this viewer may place a bid now (open, signed in, not the seller, not Dutch)
    can_buy_now: bool  # buy-it-now is offered to this viewer now
    can_accept: bool  # a Dutch price can be accepted by this viewer now
    least_offer: int | None  # the least this viewer may offer, in Stars
    own_maximum: int | None  # the viewer's private maximum (English leader) or sealed bid, in Stars
    watching: bool
    editable: bool  # the seller may still edit
    cancellable: bool  # this viewer may cancel (the seller before the first bid, an admin while open)
    outcome: str | None  # after the end, for this viewer: "won" | "sold" | "lost" | "unsold" | "canceled" | None


def viewer_state(
    auction: Auction,
    viewer_id: int | None,
    now: datetime,
    *,
    box: PriceBox,
    own_maximum: int | None = None,
    has_bid: bool | None = None,
    watching: bool | None = False,
    is_admin: bool = False,
    signed_in: bool | None = None,
) -> ViewerState:
    """The capabilities of `viewer_id` (None: a visitor) on `auction` at `now` (UTC).

    `own_maximum` is the viewer's English maximum when they lead, or their sealed bid (Stars);
    `has_bid` whether they have bid at all (None: assumed when they have a maximum);
    `box` the auction's public price panel (its minimum next bid and buy-it-now offer);
    `signed_in=True` without a viewer is any signed-in person with no part in the auction (the
    live render for them).
    """
    is_open = rules.takes_offers(auction.status, auction.starts_at, auction.ends_at, now)
    signed_in = viewer_id is not None if signed_in is None else signed_in
    is_seller = signed_in and viewer_id == auction.seller_id
    if has_bid is None:
        has_bid = own_maximum is not None
    over = auction.status in rules.CLOSED_STATUSES
    if not signed_in:
        role = "guest"
    elif is_seller:
        role = "seller"
    elif viewer_id is None:
        role = "bidder"  # the live render for anyone signed in with no part in the auction
    elif over and auction.winner_id == viewer_id:
        role = "winner"
    elif over and has_bid:
        role = "loser"
    elif auction.kind == "english" and auction.leading_bidder_id == viewer_id:
        role = "leader"
    else:
        role = "bidder"  # signed in, may bid: with a stake or not yet
    may_offer = is_open and signed_in and not is_seller and auction.hidden_at is None  # hidden: no new offers
    # Private: the English leader's maximum, or a sealed bidder's own bid.
    private = own_maximum if role == "leader" or (role == "bidder" and rules.is_sealed(auction.kind)) else None
    least = None
    if rules.not_over(auction.status):
        # A leader may only raise their own maximum and a sealed bid only go up; anyone else
        # offers at least the public minimum next bid (a Dutch auction: its current price).
        least = private + 1 if private is not None else box.min_next
    editable = is_seller and rules.editable(auction.status, auction.bid_count)
    outcome = None
    if over:
        if auction.status == "canceled":
            outcome = "canceled"
        elif role == "winner":
            outcome = "won"
        elif role == "loser":
            outcome = "lost"
        elif role == "seller":
            outcome = "sold" if auction.winner_id is not None else "unsold"
    return ViewerState(
        role=role,
        is_open=is_open,
        biddable=may_offer and auction.kind != "dutch",
        can_buy_now=may_offer and box.buy_now_price is not None,
        can_accept=may_offer and auction.kind == "dutch",
        least_offer=least,
        own_maximum=private,
        watching=bool(watching),
        editable=editable,
        cancellable=(editable or (is_admin and rules.not_over(auction.status))),
        outcome=outcome,
    )

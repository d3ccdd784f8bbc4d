"""What one viewer may do on one auction now, computed once for the page, its live updates and the bot."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

SEALED_KINDS = ("sealed_first", "sealed_second")


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
    outcome: str | None  # after the end: "won" | "sold" | "lost" | "unsold" | "canceled" | None


def viewer_state(
    *,
    kind: str,
    status: str,
    starts_at: datetime,
    ends_at: datetime,
    now: datetime,
    signed_in: bool,
    is_seller: bool,
    is_admin: bool,
    leading: bool,
    won: bool,
    has_bid: bool,
    bid_count: int,
    min_next: int,
    buy_now_price: int | None,
    own_maximum: int | None,
    sealed_bid: int | None,
    watching: bool,
    sold: bool,
) -> ViewerState:
    """The viewer's role and capabilities from the auction's public state and their own bids (Stars, UTC).

    Rules: a seller may edit or cancel only before the first bid (listings.editable); an admin
    may cancel while the auction runs; the English leader's least offer is their own maximum + 1,
    a sealed bidder's their own bid + 1 (a sealed bid can only be raised); nobody bids on a
    Dutch auction (its price is accepted) nor before a scheduled auction opens.
    """
    is_open = status == "live" and starts_at <= now < ends_at
    ended = status in ("ended", "canceled")
    if not signed_in:
        role = "guest"
    elif is_seller:
        role = "seller"
    elif ended and won:
        role = "winner"
    elif ended and has_bid:
        role = "loser"
    elif leading and not ended:
        role = "leader"
    else:
        role = "bidder"
    member = role in ("leader", "bidder")
    biddable = is_open and member and kind != "dutch"
    if role == "leader" and own_maximum:
        least: int | None = own_maximum + 1
    elif kind in SEALED_KINDS and sealed_bid:
        least = sealed_bid + 1
    elif kind == "dutch" or status != "live" or ended:
        least = None
    else:
        least = min_next
    if status == "canceled":
        outcome: str | None = "canceled"
    elif status != "ended":
        outcome = None
    elif role == "winner":
        outcome = "won"
    elif role == "seller":
        outcome = "sold" if sold else "unsold"
    elif role == "loser":
        outcome = "lost"
    else:
        outcome = None
    editable = is_seller and bid_count == 0 and status in ("scheduled", "live")
    return ViewerState(
        role=role,
        is_open=is_open,
        biddable=biddable,
        can_buy_now=is_open and member and buy_now_price is not None,
        can_accept=is_open and member and kind == "dutch",
        least_offer=least,
        own_maximum=own_maximum if role == "leader" else sealed_bid if kind in SEALED_KINDS else None,
        watching=watching,
        editable=editable,
        cancellable=editable or (is_admin and status in ("scheduled", "live")),
        outcome=outcome,
    )

"""The person's own bids, grouped for the bot's /mybids: leading, outbid, sealed, won, lost."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from auction.extensions import db
from auction.models import Auction, Bid
from auction.services.rules import min_next_bid

GROUPS = ("leading", "outbid", "sealed", "won", "lost")
PER_PAGE = 6


@dataclass(frozen=True)
class MyBid:
    """One auction the person bid on: its group, price (Stars), end (UTC) and the minimum to lead again."""

    auction_id: int
    title: str
    group: str
    price: int
    ends_at: datetime
    min_next: int | None  # only where they are outbid on a live English auction


@dataclass(frozen=True)
class MyBidsPage:
    items: list[MyBid]
    page: int
    pages: int


def _group(auction: Auction, user_id: int) -> str:
    if auction.status == "live":
        if auction.kind != "english":
            return "sealed"
        return "leading" if auction.leading_bidder_id == user_id else "outbid"
    return "won" if auction.winner_id == user_id else "lost"


def my_bids(user_id: int, page: int = 1, per_page: int = PER_PAGE) -> MyBidsPage:
    """The auctions `user_id` bid on, live ones first (soonest end first), then the ended, newest first."""
    last_bid = (
        select(Bid.auction_id, func.max(Bid.created_at).label("at"))
        .where(Bid.bidder_id == user_id)
        .group_by(Bid.auction_id)
        .subquery()
    )
    auctions = list(db.session.scalars(select(Auction).join(last_bid, last_bid.c.auction_id == Auction.id)))
    live = sorted((a for a in auctions if a.status == "live"), key=lambda a: (a.ends_at, a.id))
    ended = sorted((a for a in auctions if a.status != "live"), key=lambda a: (a.closed_at or a.ends_at, a.id), reverse=True)
    rows = []
    for auction in live + ended:
        group = _group(auction, user_id)
        minimum = None
        if group == "outbid":
            minimum = min_next_bid(auction.start_price, auction.current_price, auction.leading_bidder_id is not None, auction.increment)
        price = auction.final_price if auction.final_price is not None else auction.current_price
        rows.append(MyBid(auction.id, auction.title, group, price, auction.ends_at, minimum))
    rows.sort(key=lambda row: GROUPS.index(row.group))  # stable: each group keeps the order above
    pages = max(1, -(-len(rows) // per_page))
    page = min(max(1, page), pages)
    return MyBidsPage(rows[(page - 1) * per_page : page * per_page], page, pages)

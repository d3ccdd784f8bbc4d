"""The auction card (the bot's view of an auction): price, time left and the bids one press can place."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from auction.services import auctions_read, bidding, watchlist

QUICK_BID_STEPS = 5


def raised_by_increments(amount: int, steps: int, custom_increment: int | None = None) -> int:
    """`amount` plus `steps` increments, each step taken from the table at the amount reached so far."""
    for _ in range(steps):
        amount += bidding.increment_for(amount, custom_increment)
    return amount


@dataclass(frozen=True)
class AuctionCard:
    """What one viewer's card shows; `min_bid` is the smallest offer the service would take from them."""

    auction_id: int
    title: str
    kind: str
    status: str
    price: int
    bid_count: int
    starts_at: datetime
    ends_at: datetime
    photo: str | None
    is_open: bool
    min_bid: int
    quick_bids: tuple[int, ...]
    watching: bool
    viewer_is_seller: bool
    viewer_leading: bool
    viewer_max: int | None
    viewer_sealed: int | None

    @property
    def biddable(self) -> bool:
        """Whether the card offers bid buttons (a Dutch auction is bought on the site at the clock's price)."""
        return self.is_open and self.kind != "dutch" and not self.viewer_is_seller

    @property
    def watchable(self) -> bool:
        return (self.is_open or self.status == "scheduled") and not self.viewer_is_seller


def auction_card(auction_id: int, viewer_id: int | None) -> AuctionCard | None:
    """The card for `viewer_id`, or None when there is no such auction."""
    page = auctions_read.auction_page(auction_id, viewer_id, full=False)
    if page is None:
        return None
    auction, box = page.auction, page.box
    min_bid = box.min_next
    if page.viewer_leading and page.viewer_max is not None:
        min_bid = page.viewer_max + 1  # the leader can only raise their own maximum
    elif page.viewer_sealed is not None:
        min_bid = page.viewer_sealed + 1  # a sealed bid can only go up
    cover = auction.cover
    return AuctionCard(
        auction_id=auction.id,
        title=auction.title,
        kind=auction.kind,
        status=auction.status,
        price=box.final_price or box.price,
        bid_count=box.bid_count,
        starts_at=auction.starts_at,
        ends_at=auction.ends_at,
        photo=cover.large_path if cover else None,
        is_open=page.is_open,
        min_bid=min_bid,
        quick_bids=(min_bid, raised_by_increments(min_bid, QUICK_BID_STEPS, auction.increment)),
        watching=watchlist.is_watching(viewer_id, auction.id),
        viewer_is_seller=page.viewer_is_seller,
        viewer_leading=page.viewer_leading,
        viewer_max=page.viewer_max,
        viewer_sealed=page.viewer_sealed,
    )

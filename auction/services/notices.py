"""Who is told what when an auction moves: the notices of a bid, a close and a cancel.

Each goes through `notifications.notify` (the kinds, their texts and channels live there),
written in the same transaction as its cause. Amounts are Stars.
"""

from __future__ import annotations

from auction.models import Auction
from auction.services import notifications, sale_followups


def notify(user_id: int, kind: str, auction: Auction, dedupe: bool = True, **params) -> None:
    """Tell `user_id` about `auction` on every channel they chose (this transaction, their language).

    With `dedupe`, a second notice of the same kind about the same auction to the same person is dropped.
    """
    notifications.notify(user_id, kind, auction, dedupe_key=f"{kind}:{auction.id}:{user_id}" if dedupe else None, **params)


def notify_close(auction: Auction, losers: list[int], net: int | None = None) -> None:
    """The winner, the seller (with `net`, the Stars they receive) and every other bidder of a closed auction."""
    price = auction.final_price
    if auction.winner_id is not None:
        notify(auction.winner_id, "auction_won", auction, price=price)
        notify(auction.seller_id, "auction_sold", auction, price=price, net=net)
    else:
        notify(auction.seller_id, "auction_unsold", auction)
    for user_id in sorted(set(losers)):
        if user_id != auction.winner_id:
            notify(user_id, "auction_lost", auction)
    sale_followups.after_close(auction)

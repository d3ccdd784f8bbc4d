"""What follows the close of an auction on the people side, in the closing transaction:
the badges of the winner and the seller, the rating requests to both, and an automatic relist."""

from __future__ import annotations

from auction.models import Auction
from auction.services import achievements, ratings, relisting


def after_close(auction: Auction) -> None:
    """Called once by every closing path (end of time, buy it now, a Dutch accept) after the sale's notices."""
    if auction.winner_id is not None:
        achievements.on_auction_ended(auction)
        ratings.ask_both_sides(auction)
    elif auction.status == "ended":
        relisting.relist_automatically(auction)

"""A person's standing at a glance: Stars, subscription and how their bids are doing (/status)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from auction.extensions import db
from auction.models import Auction, Bid, utcnow
from auction.services import ledger, rules, subscriptions

OPEN_KINDS = ("english", "dutch")


@dataclass(frozen=True)
class AccountStatus:
    available: int
    held: int
    premium: subscriptions.State  # the same Premium state the web pages show
    leading: int
    outbid: int
    sealed: int


def account_status(user_id: int) -> AccountStatus:
    """Balances, Premium (until when, renewal, how it is paid), and live auctions where the user leads or was outbid.

    Sealed-bid auctions are counted apart: whether a sealed bid leads is secret until the end.
    """
    balances = ledger.balances(user_id)
    now = utcnow()
    bid_on = (
        select(Auction.id, Auction.kind, Auction.leading_bidder_id)
        .where(Auction.status == "live", Auction.id.in_(select(Bid.auction_id).where(Bid.bidder_id == user_id)))
    )
    leading = outbid = sealed = 0
    for _auction_id, kind, leader in db.session.execute(bid_on):
        if rules.is_sealed(kind):
            sealed += 1
        elif leader == user_id:
            leading += 1
        else:
            outbid += 1
    return AccountStatus(balances.available, balances.held, subscriptions.state(user_id, now), leading, outbid, sealed)

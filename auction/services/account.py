"""A person's standing at a glance: Stars, subscription and how their bids are doing (/status)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from auction.extensions import db
from auction.models import Auction, Bid, Subscription, utcnow
from auction.services import ledger, rules

OPEN_KINDS = ("english", "dutch")


@dataclass(frozen=True)
class AccountStatus:
    available: int
    held: int
    subscription_until: datetime | None
    leading: int
    outbid: int
    sealed: int


def account_status(user_id: int) -> AccountStatus:
    """Balances, the active subscription's end, and live auctions where the user leads or was outbid.

    Sealed-bid auctions are counted apart: whether a sealed bid leads is secret until the end.
    """
    balances = ledger.balances(user_id)
    now = utcnow()
    subscription_until = db.session.scalar(
        select(func.max(Subscription.expires_at)).where(
            Subscription.user_id == user_id, Subscription.status == "active", Subscription.expires_at > now
        )
    )
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
    return AccountStatus(balances.available, balances.held, subscription_until, leading, outbid, sealed)

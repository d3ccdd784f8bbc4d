"""My activity: the dashboard's read model of one person's bidding, selling and watching.

Every figure is computed here once (the least offer, what a seller received, whether a
rating can be given) so that the page, and later the bot's /mybids, only read fields.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from auction.extensions import db
from auction.models import Auction, Bid, Hold, LedgerAccount, LedgerTransfer, User, WatchlistEntry, utcnow
from auction.services import auction_view, ledger, ratings, relisting, watchlist
from auction.services.names import public_name

OPEN = ("scheduled", "live")
RECENT_LIMIT = 30  # finished auctions shown per list


@dataclass(frozen=True)
class BiddingRow:
    """One auction the person bid on. Stars are whole Stars; `least_offer` only for an outbid English bid."""

    auction: Auction
    my_bid: int  # the person's highest bid (their maximum when it is an English proxy bid)
    held: int  # Stars still reserved for it
    least_offer: int | None = None
    seller_name: str | None = None
    seller_username: str | None = None
    rating: ratings.RatingPrompt | None = None


@dataclass(frozen=True)
class SellingRow:
    """One of the person's own auctions; for a sale, what the buyer paid, the fee and what the seller received."""

    auction: Auction
    watchers: int = 0
    buyer_name: str | None = None
    buyer_id: int | None = None
    fee: int | None = None
    received: int | None = None
    can_relist: bool = False
    rating: ratings.RatingPrompt | None = None


@dataclass
class Dashboard:
    leading: list[BiddingRow] = field(default_factory=list)
    outbid: list[BiddingRow] = field(default_factory=list)
    won: list[BiddingRow] = field(default_factory=list)
    lost: list[BiddingRow] = field(default_factory=list)
    scheduled: list[SellingRow] = field(default_factory=list)
    live: list[SellingRow] = field(default_factory=list)
    sold: list[SellingRow] = field(default_factory=list)
    unsold: list[SellingRow] = field(default_factory=list)
    watching: list[Auction] = field(default_factory=list)
    balances: ledger.Balances | None = None

    @property
    def bidding_count(self) -> int:
        return len(self.leading) + len(self.outbid) + len(self.won) + len(self.lost)

    @property
    def selling_count(self) -> int:
        return len(self.scheduled) + len(self.live) + len(self.sold) + len(self.unsold)


def _bidding(user_id: int, board: Dashboard, now: datetime) -> None:
    mine = (
        select(Bid.auction_id, func.max(func.coalesce(Bid.max_amount, Bid.amount)))
        .where(Bid.bidder_id == user_id)
        .group_by(Bid.auction_id)
    )
    my_bids = dict(db.session.execute(mine).all())
    if not my_bids:
        return
    held = dict(
        db.session.execute(
            select(Hold.auction_id, Hold.amount).where(Hold.user_id == user_id, Hold.status == "active", Hold.auction_id.in_(my_bids))
        ).all()
    )
    auctions = db.session.scalars(
        select(Auction)
        .where(Auction.id.in_(my_bids))
        .options(selectinload(Auction.images), selectinload(Auction.seller), selectinload(Auction.category))
        .order_by(Auction.ends_at.desc(), Auction.id.desc())
    )
    for auction in auctions:
        row = dict(auction=auction, my_bid=my_bids[auction.id], held=held.get(auction.id, 0))
        if auction.status in OPEN:
            if auction.kind == "english" and auction.leading_bidder_id != user_id:
                board.outbid.append(BiddingRow(**row, least_offer=auction_view.price_box(auction, now).min_next))
            else:
                board.leading.append(BiddingRow(**row))
        elif auction.winner_id == user_id:
            if len(board.won) < RECENT_LIMIT:
                board.won.append(
                    BiddingRow(
                        **row,
                        seller_name=public_name(auction.seller),
                        seller_username=auction.seller.username,
                        rating=ratings.prompt(auction.id, user_id, now),
                    )
                )
        elif len(board.lost) < RECENT_LIMIT:
            board.lost.append(BiddingRow(**row))
    board.leading.sort(key=lambda r: r.auction.ends_at)
    board.outbid.sort(key=lambda r: r.auction.ends_at)


def _received(auction_ids: list[int], user_id: int) -> dict[int, int]:
    """What the seller's available balance got from each sale (the price less the fee), from the ledger."""
    if not auction_ids:
        return {}
    return dict(
        db.session.execute(
            select(LedgerTransfer.auction_id, func.sum(LedgerTransfer.amount))
            .join(LedgerAccount, LedgerAccount.id == LedgerTransfer.credit_account_id)
            .where(
                LedgerTransfer.reason == ledger.SALE,
                LedgerTransfer.auction_id.in_(auction_ids),
                LedgerAccount.user_id == user_id,
                LedgerAccount.kind == "available",
            )
            .group_by(LedgerTransfer.auction_id)
        ).all()
    )


def _selling(user_id: int, board: Dashboard, now: datetime) -> None:
    auctions = list(
        db.session.scalars(
            select(Auction)
            .where(Auction.seller_id == user_id, Auction.status != "canceled")
            .options(selectinload(Auction.images), selectinload(Auction.category))
            .order_by(Auction.ends_at.desc(), Auction.id.desc())
        )
    )
    watchers = dict(
        db.session.execute(
            select(WatchlistEntry.auction_id, func.count(WatchlistEntry.id))
            .where(WatchlistEntry.auction_id.in_([a.id for a in auctions if a.status in OPEN]))
            .group_by(WatchlistEntry.auction_id)
        ).all()
    )
    sold = [a for a in auctions if a.status == "ended" and a.winner_id is not None][:RECENT_LIMIT]
    received = _received([a.id for a in sold], user_id)
    buyers = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_([a.winner_id for a in sold])))}
    for auction in auctions:
        if auction.status == "scheduled":
            board.scheduled.append(SellingRow(auction, watchers.get(auction.id, 0)))
        elif auction.status == "live":
            board.live.append(SellingRow(auction, watchers.get(auction.id, 0)))
        elif auction in sold:
            got = received.get(auction.id, 0)
            board.sold.append(
                SellingRow(
                    auction,
                    buyer_name=public_name(buyers[auction.winner_id]),
                    buyer_id=auction.winner_id,
                    fee=auction.final_price - got,
                    received=got,
                    rating=ratings.prompt(auction.id, user_id, now),
                )
            )
        elif auction.status == "ended" and auction.winner_id is None and len(board.unsold) < RECENT_LIMIT:
            board.unsold.append(SellingRow(auction, can_relist=relisting.relistable(auction)))
    board.scheduled.sort(key=lambda r: r.auction.starts_at)
    board.live.sort(key=lambda r: r.auction.ends_at)


def dashboard(user_id: int) -> Dashboard:
    """Everything /dashboard shows for one person."""
    now = utcnow()
    board = Dashboard()
    _bidding(user_id, board, now)
    _selling(user_id, board, now)
    board.watching = watchlist.watched_auctions(user_id)
    board.balances = ledger.balances(user_id)
    return board

"""Read models of one auction: its public price box, the auction page for one viewer, and the
bot's card for one viewer. Both fronts read the same `ViewerState` (services/viewer.py).

Amounts are Stars; times are UTC.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from datetime import datetime

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from auction.extensions import db
from auction.models import Auction, Bid, Hold, Rating, User, WatchlistEntry, utcnow
from auction.services import rules, watchlist
from auction.services.auction_lock import current_dutch_price
from auction.services.auction_lock import leader_max as stored_leader_max
from auction.services.viewer import ViewerState, viewer_state

_UNKNOWN = object()

HISTORY_LIMIT = 20


@dataclass(frozen=True)
class BidRow:
    name: str  # masked, e.g. A***e
    amount: int | None  # None while a sealed auction hides amounts
    at: datetime
    automatic: bool
    tag: str  # an opaque per-auction bidder tag, so a page can mark its viewer's rows
    mine: bool = False

    def as_event(self) -> dict:
        return {"name": self.name, "amount": self.amount, "at": self.at.isoformat(), "automatic": self.automatic, "tag": self.tag}


@dataclass(frozen=True)
class PriceBox:
    """Everything the price panel shows; also the payload of live price events."""

    auction_id: int
    kind: str
    status: str
    price: int
    min_next: int
    bid_count: int
    ends_at: datetime
    # None (no reserve), "met", "not_met", or "set": a sealed auction has one, and whether a
    # hidden bid reaches it must not show before the end.
    reserve_status: str | None
    buy_now_price: int | None
    final_price: int | None = None
    winner_name: str | None = None
    next_step_at: datetime | None = None
    starts_at: datetime | None = None
    closed_at: datetime | None = None
    # A Dutch auction's terms: the price drops by `dutch_step` Stars every
    # `dutch_interval_minutes` down to `dutch_floor` Stars.
    dutch_step: int | None = None
    dutch_floor: int | None = None
    dutch_interval_minutes: int | None = None

    @property
    def sealed(self) -> bool:
        """Bids stay hidden until the end."""
        return rules.is_sealed(self.kind)

    @property
    def running(self) -> bool:
        """Not ended or cancelled yet (scheduled or live)."""
        return rules.not_over(self.status)


@dataclass
class AuctionPage:
    auction: Auction
    seller: User | None
    seller_rating: float | None
    seller_ratings: int
    box: PriceBox
    is_open: bool
    history: list[BidRow]
    watchers: int
    chart: object | None  # the web layer draws it from `price_steps` (auction/web/chart.py)
    viewer_tag: str | None
    # The English leader's bidder tag: a live render marks its "you lead" variant with it, and a
    # page keeps that variant only when the tag is its own viewer's. None for sealed auctions.
    leader_tag: str | None = None
    viewer_is_seller: bool = False
    # Once sold: the winner's bidder tag (a live render marks its "you won" variant with it),
    # whether the viewer won, and for the seller only, the buyer (they arrange the delivery).
    winner_tag: str | None = None
    viewer_won: bool = False
    buyer: User | None = None
    viewer_leading: bool = False
    viewer_max: int | None = None
    viewer_sealed: int | None = None
    revealed: bool = True
    images: list = field(default_factory=list)
    viewer: ViewerState | None = None
    # An English auction's price over time: the start, each bid's price (Stars), until when (UTC).
    price_steps: list[tuple[datetime, int]] | None = None
    chart_span: tuple[datetime, int, datetime] | None = None  # (start, start price, until)
    # For a bidder who did not win: the hold released at the close, in Stars.
    released_hold: int | None = None
    # The winner's own name, unmasked, for the winner's page only.
    viewer_name: str | None = None
    visible: bool = True  # False: hidden by moderation and this viewer has no part in it (see `shown_to`)


def bidder_tag(auction_id: int, user_id: int) -> str:
    """Stable within one auction, unlinkable across auctions."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"bidder:{auction_id}:{user_id}".encode(), hashlib.sha256).hexdigest()[:12]


def _reserve_status(auction: Auction, leader_max: int | None) -> str | None:
    if auction.reserve_price is None:
        return None
    return "met" if rules.reserve_met(auction.reserve_price, leader_max) else "not_met"


def price_box(auction: Auction, now: datetime | None = None, leader_max=_UNKNOWN) -> PriceBox:
    """The public state of an auction's price (nothing hidden leaks: no maximums, no sealed amounts).

    `leader_max` (Stars) is the English leader's maximum when the caller holds it already.
    """
    now = now or utcnow()
    # The leader's hidden maximum only matters here when a reserve must be compared with it.
    top = None
    if auction.kind == "english" and auction.reserve_price is not None:
        top = stored_leader_max(auction) if leader_max is _UNKNOWN else leader_max
    price = auction.current_price
    next_step = None
    if auction.kind == "dutch" and rules.not_over(auction.status):
        price = current_dutch_price(auction, now)
        next_step = rules.next_dutch_step_at(
            auction.start_price, auction.dutch_floor, auction.dutch_step, auction.dutch_interval_seconds, auction.starts_at, now
        )
    if auction.kind == "english":
        min_next = rules.min_next_bid(auction.start_price, auction.current_price, auction.leading_bidder_id is not None, auction.increment)
        buy_now = auction.buy_now_price if rules.buy_now_available(auction.buy_now_price, auction.bid_count > 0, auction.reserve_price, top) else None
        reserve = _reserve_status(auction, top)
    elif auction.kind == "dutch":
        min_next, buy_now, reserve = price, None, None
    else:
        min_next = auction.start_price
        buy_now = auction.buy_now_price if auction.bid_count == 0 else None
        reserve = "set" if auction.reserve_price is not None and auction.status != "ended" else None
    winner = db.session.get(User, auction.winner_id) if auction.winner_id else None
    return PriceBox(
        auction_id=auction.id,
        kind=auction.kind,
        status=auction.status,
        price=auction.final_price or price,
        min_next=min_next,
        bid_count=auction.bid_count,
        ends_at=auction.ends_at,
        reserve_status=reserve,
        buy_now_price=buy_now,
        final_price=auction.final_price,
        winner_name=rules.mask_name(winner.display_name) if winner else None,
        next_step_at=next_step,
        starts_at=auction.starts_at,
        closed_at=auction.closed_at,
        dutch_step=auction.dutch_step if auction.kind == "dutch" else None,
        dutch_floor=auction.dutch_floor if auction.kind == "dutch" else None,
        dutch_interval_minutes=(auction.dutch_interval_seconds or 0) // 60 if auction.kind == "dutch" else None,
    )


def _history(auction: Auction, viewer_id: int | None, revealed: bool) -> list[BidRow]:
    bids = list(
        db.session.scalars(
            select(Bid).where(Bid.auction_id == auction.id).options(selectinload(Bid.bidder)).order_by(Bid.id.desc()).limit(HISTORY_LIMIT * 2)
        )
    )
    bids.reverse()
    rows: list[BidRow] = []
    previous: Bid | None = None
    for bid in bids:
        # A leader raising their own maximum changes nothing anyone else can see.
        raise_only = previous is not None and previous.bidder_id == bid.bidder_id and previous.amount == bid.amount and not bid.is_automatic
        previous = bid
        if raise_only and bid.bidder_id != viewer_id:
            continue
        rows.append(
            BidRow(
                name=rules.mask_name(bid.bidder.display_name),
                amount=bid.amount if revealed or bid.bidder_id == viewer_id else None,
                at=bid.created_at,
                automatic=bid.is_automatic,
                tag=bidder_tag(auction.id, bid.bidder_id),
                mine=bid.bidder_id == viewer_id,
            )
        )
    rows.reverse()
    return rows[:HISTORY_LIMIT]


def shown_to(auction: Auction, viewer_id: int | None, has_bid: bool, is_admin: bool) -> bool:
    """Whether `viewer_id` may open the auction's page (and the bot's card).

    An auction hidden by moderation is shown only to its seller, the people who bid on it
    (they have Stars or a result at stake) and admins; everyone else gets "not found".
    """
    if auction.hidden_at is None or is_admin:
        return True
    return viewer_id is not None and (viewer_id == auction.seller_id or has_bid)


def hidden_from(viewer_id: int | None, auction_ids: list[int], admin_ids: frozenset[int] = frozenset()) -> list[int]:
    """The auctions among `auction_ids` hidden by moderation that `viewer_id` may not follow live
    (the rule of `shown_to`: only their seller, their bidders and admins). One statement, plus the
    viewer's row when one is signed in."""
    from auction.services import staff

    if not auction_ids or staff.is_admin(db.session.get(User, viewer_id) if viewer_id else None, admin_ids):
        return []
    has_bid = select(Bid.id).where(Bid.auction_id == Auction.id, Bid.bidder_id == (viewer_id or 0)).exists()
    rows = db.session.execute(
        select(Auction.id, Auction.seller_id, has_bid).where(Auction.id.in_(auction_ids), Auction.hidden_at.is_not(None))
    )
    return [auction_id for auction_id, seller_id, bid in rows if not (viewer_id is not None and (viewer_id == seller_id or bid))]


def auction_page(
    auction_id: int, viewer_id: int | None, full: bool = True, is_admin: bool = False, signed_in: bool | None = None
) -> AuctionPage | None:
    """Everything the auction page shows to `viewer_id` (None: a visitor; `is_admin` may cancel).

    `signed_in=True` without a viewer is "any signed-in person with no part in the auction": the
    live render for them.

    `full=False` skips what only the whole page needs (history, chart, ratings, watchers,
    photos): enough for the bid form, the price panel and the bot's card.
    """
    query = select(Auction).where(Auction.id == auction_id)
    if full:
        query = query.options(selectinload(Auction.images), selectinload(Auction.seller))
    auction = db.session.scalars(query).first()
    if auction is None:
        return None
    now = utcnow()
    box = price_box(auction, now)
    revealed = not box.sealed or auction.status == "ended"
    own_bids, own_max = 0, None
    if viewer_id is not None and viewer_id != auction.seller_id:
        # The viewer's own stake: whether they bid, and their highest maximum (an English
        # leader's proxy maximum; a sealed bid's amount).
        own_bids, own_max = db.session.execute(
            select(func.count(Bid.id), func.max(Bid.max_amount)).where(Bid.auction_id == auction.id, Bid.bidder_id == viewer_id)
        ).one()
    viewer = viewer_state(
        auction,
        viewer_id,
        now,
        box=box,
        own_maximum=own_max,
        has_bid=own_bids > 0,
        watching=watchlist.is_watching(viewer_id, auction.id) if viewer_id is not None else False,
        is_admin=is_admin,
        signed_in=signed_in,
    )
    page = AuctionPage(
        auction=auction,
        seller=auction.seller if full else None,
        seller_rating=None,
        seller_ratings=0,
        box=box,
        is_open=viewer.is_open,
        history=[],
        watchers=0,
        chart=None,
        viewer_tag=bidder_tag(auction.id, viewer_id) if viewer_id else None,
        leader_tag=bidder_tag(auction.id, auction.leading_bidder_id) if auction.kind == "english" and auction.leading_bidder_id else None,
        viewer_is_seller=viewer.role == "seller",
        revealed=revealed,
        winner_tag=bidder_tag(auction.id, auction.winner_id) if auction.winner_id else None,
        viewer_won=viewer.role == "winner",
        viewer=viewer,
        visible=shown_to(auction, viewer_id, own_bids > 0, is_admin),
    )
    if page.viewer_is_seller and auction.winner_id:
        page.buyer = db.session.get(User, auction.winner_id)
    if full:
        page.history = _history(auction, viewer_id, revealed)
        rating_avg, rating_count = db.session.execute(
            select(func.avg(Rating.score), func.count(Rating.id)).where(
                Rating.ratee_id == auction.seller_id, Rating.direction == "buyer_to_seller", Rating.hidden.is_(False)
            )
        ).one()
        page.seller_rating = round(float(rating_avg), 1) if rating_avg is not None else None
        page.seller_ratings = rating_count
        page.watchers = db.session.scalar(select(func.count(WatchlistEntry.id)).where(WatchlistEntry.auction_id == auction.id)) or 0
        if auction.kind == "english":
            page.price_steps = _price_steps(auction)
            page.chart_span = (auction.starts_at, auction.start_price, min(now, auction.ends_at))
        page.images = list(auction.images)
    page.viewer_leading = viewer.role == "leader"
    if page.viewer_leading:
        page.viewer_max = viewer.own_maximum
    if box.sealed and viewer.role in ("bidder", "loser", "winner"):
        page.viewer_sealed = own_max
    ended = auction.status in ("ended", "canceled")
    if viewer_id is not None and ended and viewer.role == "loser":
        # What a bidder who did not win gets back: the hold released at the close (Stars).
        page.released_hold = db.session.scalar(
            select(Hold.amount).where(Hold.auction_id == auction.id, Hold.user_id == viewer_id, Hold.status == "released").order_by(Hold.id.desc()).limit(1)
        )
    if page.viewer_won:
        page.viewer_name = db.session.get(User, viewer_id).display_name
    return page


@dataclass(frozen=True)
class AuctionRef:
    """The few fields of an auction the bid form needs, held after its transaction ended."""

    id: int
    kind: str
    status: str


def page_after_bid(box: PriceBox, viewer: ViewerState) -> AuctionPage:
    """The bid form's page for the bidder, from what the bid's transaction held (no read)."""
    return AuctionPage(
        auction=AuctionRef(box.auction_id, box.kind, box.status),
        seller=None,
        seller_rating=None,
        seller_ratings=0,
        box=box,
        is_open=viewer.is_open,
        history=[],
        watchers=0,
        chart=None,
        viewer_tag=None,
        revealed=not box.sealed,
        viewer_leading=viewer.role == "leader",
        viewer_max=viewer.own_maximum if viewer.role == "leader" else None,
        viewer_sealed=viewer.own_maximum if box.sealed else None,
        viewer=viewer,
    )


def rows_at(auction_id: int, at: datetime) -> list[BidRow]:
    """The history rows one bid wrote (all at the same moment, newest first), as every visitor sees them.

    A leader raising their own maximum writes a row nobody else sees: it is left out here too.
    Sealed amounts stay hidden until the end.
    """
    auction = db.session.get(Auction, auction_id)
    if auction is None:
        return []
    revealed = not rules.is_sealed(auction.kind) or auction.status == "ended"
    bids = list(
        db.session.scalars(
            select(Bid).where(Bid.auction_id == auction_id, Bid.created_at == at).options(selectinload(Bid.bidder)).order_by(Bid.id)
        )
    )
    if not bids:
        return []
    previous = db.session.scalars(
        select(Bid).where(Bid.auction_id == auction_id, Bid.id < bids[0].id).order_by(Bid.id.desc()).limit(1)
    ).first()
    rows = []
    for bid in bids:
        raise_only = previous is not None and previous.bidder_id == bid.bidder_id and previous.amount == bid.amount and not bid.is_automatic
        previous = bid
        if raise_only:
            continue
        rows.append(
            BidRow(
                name=rules.mask_name(bid.bidder.display_name),
                amount=bid.amount if revealed else None,
                at=bid.created_at,
                automatic=bid.is_automatic,
                tag=bidder_tag(auction_id, bid.bidder_id),
            )
        )
    rows.reverse()
    return rows


def _price_steps(auction: Auction) -> list[tuple[datetime, int]]:
    """The English price after each bid: the last row written at a moment sets the price."""
    rows = db.session.execute(
        select(Bid.created_at, Bid.amount).where(Bid.auction_id == auction.id).order_by(Bid.id)
    ).all()
    return [(at, amount) for at, amount in rows]


QUICK_BID_STEPS = 5


@dataclass(frozen=True)
class AuctionCard:
    """What one viewer's bot card shows; `viewer` holds what they may do (the least offer, ...)."""

    auction_id: int
    title: str
    kind: str
    status: str
    price: int
    bid_count: int
    starts_at: datetime
    ends_at: datetime
    photo: str | None
    quick_bids: tuple[int, ...]
    viewer: ViewerState

    @property
    def running(self) -> bool:
        """Not ended or cancelled yet (scheduled or live)."""
        return rules.not_over(self.status)

    @property
    def watchable(self) -> bool:
        """Watching is offered until the end passes (server clock), never to the seller."""
        return (self.viewer.is_open or self.status == "scheduled") and self.viewer.role != "seller"

    # The viewer's fields under the names the card's texts use.
    @property
    def is_open(self) -> bool:
        return self.viewer.is_open

    @property
    def biddable(self) -> bool:
        return self.viewer.biddable

    @property
    def min_bid(self) -> int:
        return self.quick_bids[0]

    @property
    def watching(self) -> bool:
        return self.viewer.watching

    @property
    def viewer_is_seller(self) -> bool:
        return self.viewer.role == "seller"

    @property
    def viewer_leading(self) -> bool:
        return self.viewer.role == "leader"

    @property
    def viewer_max(self) -> int | None:
        return self.viewer.own_maximum if self.viewer.role == "leader" else None

    @property
    def viewer_sealed(self) -> int | None:
        return self.viewer.own_maximum if rules.is_sealed(self.kind) else None


def auction_card(auction_id: int, viewer_id: int | None) -> AuctionCard | None:
    """The bot's card of an auction for `viewer_id`, or None when there is no such auction (or it is hidden from them).

    `quick_bids` are the least offer and that plus QUICK_BID_STEPS increments (Stars).
    """
    page = auction_page(auction_id, viewer_id, full=False)
    if page is None or not page.visible:
        return None
    auction, box, viewer = page.auction, page.box, page.viewer
    least = viewer.least_offer if viewer.least_offer is not None else box.min_next
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
        quick_bids=(least, rules.raised_by_increments(least, QUICK_BID_STEPS, auction.increment)),
        viewer=viewer,
    )

"""Read models for the auction page: what a viewer may see of an auction, computed once."""

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
from auction.services import bidding
from auction.services.viewer import ViewerState, viewer_state

HISTORY_LIMIT = 20
CHART_WIDTH, CHART_HEIGHT = 320, 96


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
    chart: PriceChart | None
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
    # For a bidder who did not win: the hold released at the close, in Stars.
    released_hold: int | None = None
    # The winner's own name, unmasked, for the winner's page only.
    viewer_name: str | None = None


def bidder_tag(auction_id: int, user_id: int) -> str:
    """Stable within one auction, unlinkable across auctions."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"bidder:{auction_id}:{user_id}".encode(), hashlib.sha256).hexdigest()[:12]


def _reserve_status(auction: Auction, leader_max: int | None) -> str | None:
    if auction.reserve_price is None:
        return None
    return "met" if bidding.reserve_met(auction.reserve_price, leader_max) else "not_met"


def price_box(auction: Auction, now: datetime | None = None) -> PriceBox:
    """The public state of an auction's price (nothing hidden leaks: no maximums, no sealed amounts)."""
    now = now or utcnow()
    # The leader's hidden maximum only matters here when a reserve must be compared with it.
    top = bidding.leader_max(auction) if auction.kind == "english" and auction.reserve_price is not None else None
    price = auction.current_price
    next_step = None
    if auction.kind == "dutch" and auction.status in ("live", "scheduled"):
        price = bidding.current_dutch_price(auction, now)
        next_step = bidding.next_dutch_step_at(
            auction.start_price, auction.dutch_floor, auction.dutch_step, auction.dutch_interval_seconds, auction.starts_at, now
        )
    if auction.kind == "english":
        min_next = bidding.min_next_bid(auction.start_price, auction.current_price, auction.leading_bidder_id is not None, auction.increment)
        buy_now = auction.buy_now_price if bidding.buy_now_available(auction.buy_now_price, auction.bid_count > 0, auction.reserve_price, top) else None
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
        winner_name=bidding.mask_name(winner.display_name) if winner else None,
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
                name=bidding.mask_name(bid.bidder.display_name),
                amount=bid.amount if revealed or bid.bidder_id == viewer_id else None,
                at=bid.created_at,
                automatic=bid.is_automatic,
                tag=bidder_tag(auction.id, bid.bidder_id),
                mine=bid.bidder_id == viewer_id,
            )
        )
    rows.reverse()
    return rows[:HISTORY_LIMIT]


@dataclass(frozen=True)
class PriceChart:
    """The price over time as an SVG step line, with the range it spans for its labels."""

    points: str
    low: int
    high: int
    start: datetime
    end: datetime
    series: tuple = ()  # ((UTC seconds, Stars), ...): what a page redraws from when a bid adds a point


def price_chart(start: datetime, start_price: int, steps: list[tuple[datetime, int]], until: datetime) -> PriceChart:
    """Scale the price history into the chart box (a step line: a price holds until the next bid)."""
    series = [(start, start_price)]
    for at, price in steps:
        if series and series[-1][0] == at:
            series[-1] = (at, price)
        else:
            series.append((at, price))
    series.append((max(until, series[-1][0]), series[-1][1]))
    t0, t1 = series[0][0].timestamp(), series[-1][0].timestamp()
    low, high = min(p for _, p in series), max(p for _, p in series)
    span_t, span_p = max(t1 - t0, 1.0), max(high - low, 1)
    pad = 4

    def xy(at: datetime, price: int) -> tuple[float, float]:
        x = pad + (at.timestamp() - t0) / span_t * (CHART_WIDTH - 2 * pad)
        y = CHART_HEIGHT - pad - (price - low) / span_p * (CHART_HEIGHT - 2 * pad)
        return round(x, 1), round(y, 1)

    points: list[tuple[float, float]] = []
    for i, (at, price) in enumerate(series):
        x, y = xy(at, price)
        if i:
            points.append((x, points[-1][1]))  # hold the previous price until this moment
        points.append((x, y))
    return PriceChart(
        " ".join(f"{x},{y}" for x, y in points), low, high, series[0][0], series[-1][0],
        tuple((int(at.timestamp()), price) for at, price in series[:-1]),
    )


def auction_page(
    auction_id: int, viewer_id: int | None, full: bool = True, signed_in: bool | None = None, is_admin: bool = False
) -> AuctionPage | None:
    """Everything the auction page shows to `viewer_id` (None: a visitor).

    `full=False` skips what only the whole page needs (history, chart, ratings, watchers,
    photos): enough for the bid form and the price panel after a bid. `signed_in=True` without
    a viewer is "any signed-in person with no part in the auction": the live render for them.
    """
    query = select(Auction).where(Auction.id == auction_id)
    if full:
        query = query.options(selectinload(Auction.images), selectinload(Auction.seller))
    auction = db.session.scalars(query).first()
    if auction is None:
        return None
    now = utcnow()
    box = price_box(auction, now)
    sealed = auction.kind in ("sealed_first", "sealed_second")
    revealed = not sealed or auction.status == "ended"
    page = AuctionPage(
        auction=auction,
        seller=auction.seller if full else None,
        seller_rating=None,
        seller_ratings=0,
        box=box,
        is_open=auction.status == "live" and now < auction.ends_at and auction.starts_at <= now,
        history=[],
        watchers=0,
        chart=None,
        viewer_tag=bidder_tag(auction.id, viewer_id) if viewer_id else None,
        leader_tag=bidder_tag(auction.id, auction.leading_bidder_id) if auction.kind == "english" and auction.leading_bidder_id else None,
        viewer_is_seller=viewer_id == auction.seller_id,
        revealed=revealed,
        winner_tag=bidder_tag(auction.id, auction.winner_id) if auction.winner_id else None,
        viewer_won=viewer_id is not None and viewer_id == auction.winner_id,
    )
    if page.viewer_is_seller and auction.winner_id:
        page.buyer = db.session.get(User, auction.winner_id)
    if full:
        page.history = _history(auction, viewer_id, revealed)
        rating_avg, rating_count = db.session.execute(
            select(func.avg(Rating.score), func.count(Rating.id)).where(
                Rating.ratee_id == auction.seller_id, Rating.direction == "buyer_to_seller"
            )
        ).one()
        page.seller_rating = round(float(rating_avg), 1) if rating_avg is not None else None
        page.seller_ratings = rating_count
        page.watchers = db.session.scalar(select(func.count(WatchlistEntry.id)).where(WatchlistEntry.auction_id == auction.id)) or 0
        if auction.kind == "english":
            page.chart = price_chart(auction.starts_at, auction.start_price, _price_steps(auction), min(now, auction.ends_at))
        page.images = list(auction.images)
    if viewer_id is not None:
        page.viewer_leading = auction.kind == "english" and auction.leading_bidder_id == viewer_id
        if page.viewer_leading:
            page.viewer_max = bidding.leader_max(auction)
        if sealed:
            page.viewer_sealed = db.session.scalar(
                select(Bid.amount).where(Bid.auction_id == auction.id, Bid.bidder_id == viewer_id, Bid.kind == "sealed")
            )
    has_bid = False
    ended = auction.status in ("ended", "canceled")
    if viewer_id is not None and ended and not page.viewer_won and not page.viewer_is_seller:
        has_bid = db.session.scalar(select(Bid.id).where(Bid.auction_id == auction.id, Bid.bidder_id == viewer_id).limit(1)) is not None
        if has_bid:
            page.released_hold = db.session.scalar(
                select(Hold.amount).where(Hold.auction_id == auction.id, Hold.user_id == viewer_id, Hold.status == "released").order_by(Hold.id.desc()).limit(1)
            )
    if page.viewer_won:
        page.viewer_name = db.session.get(User, viewer_id).display_name
    page.viewer = viewer_state(
        kind=auction.kind,
        status=auction.status,
        starts_at=auction.starts_at,
        ends_at=auction.ends_at,
        now=now,
        signed_in=viewer_id is not None if signed_in is None else signed_in,
        is_seller=page.viewer_is_seller,
        is_admin=is_admin,
        leading=page.viewer_leading,
        won=page.viewer_won,
        has_bid=has_bid,
        bid_count=auction.bid_count,
        min_next=box.min_next,
        buy_now_price=box.buy_now_price,
        own_maximum=page.viewer_max,
        sealed_bid=page.viewer_sealed,
        watching=viewer_id is not None and db.session.scalar(
            select(WatchlistEntry.id).where(WatchlistEntry.auction_id == auction.id, WatchlistEntry.user_id == viewer_id).limit(1)
        ) is not None,
        sold=bool(auction.final_price),
    )
    return page


def rows_at(auction_id: int, at: datetime) -> list[BidRow]:
    """The history rows one bid wrote (all at the same moment, newest first), as every visitor sees them.

    A leader raising their own maximum writes a row nobody else sees: it is left out here too.
    Sealed amounts stay hidden until the end.
    """
    auction = db.session.get(Auction, auction_id)
    if auction is None:
        return []
    revealed = auction.kind not in ("sealed_first", "sealed_second") or auction.status == "ended"
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
                name=bidding.mask_name(bid.bidder.display_name),
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

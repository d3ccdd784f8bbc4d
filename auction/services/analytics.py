"""Analytics for the admin panel: aggregate queries over a date range (UTC days, both ends included).

Every figure is one grouped query on an indexed column (`created_at`, `closed_at`, the ledger's
`reason, created_at`), so a 90-day report stays cheap with 100,000 auctions. Amounts are Stars.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Date, and_, case, cast, func, select, union

from auction.extensions import db
from auction.models import Auction, Bid, Category, LedgerAccount, LedgerTransfer, User
from auction.services import ledger

MAX_DAYS = 366


@dataclass(frozen=True)
class Bar:
    """One bar of a chart: its label and value, and its place in a 100-high SVG box."""

    label: str
    value: int
    x: float
    width: float
    height: float


@dataclass(frozen=True)
class Series:
    """A daily series with the geometry of its bar chart (viewBox 0 0 100 100)."""

    days: list[tuple[date, int]]
    total: int
    peak: int
    bars: list[Bar] = field(default_factory=list)


@dataclass(frozen=True)
class Ranked:
    name: str
    count: int
    volume: int


@dataclass(frozen=True)
class Report:
    start: date
    end: date
    people_total: int
    people_new: int
    people_active: int
    people_bidding: int
    auctions_by_status: dict[str, int]
    auctions_by_kind: dict[str, int]
    bids: Series
    volume: Series
    gross_volume: int
    sales: int
    fees: int
    other_revenue: int
    stars_bought: int
    stars_refunded: int
    top_categories: list[Ranked]
    top_sellers: list[Ranked]

    @property
    def revenue(self) -> int:
        return self.fees + self.other_revenue

    @property
    def bidding_share_percent(self) -> int:
        """Of the people active in the range, the share (whole per cent, rounded down) who placed a bid."""
        return self.people_bidding * 100 // self.people_active if self.people_active else 0


def date_range(start: date | None, end: date | None, today: date) -> tuple[date, date]:
    """The range to report: the last 30 days by default; ends swapped when reversed; at most MAX_DAYS long."""
    end = end or today
    start = start or end - timedelta(days=29)
    if start > end:
        start, end = end, start
    if (end - start).days >= MAX_DAYS:
        start = end - timedelta(days=MAX_DAYS - 1)
    return start, end


def _day(column):
    """The UTC calendar day of a timestamp column, on SQLite (stored in UTC) and PostgreSQL."""
    if db.session.get_bind().dialect.name == "postgresql":
        return cast(func.timezone("UTC", column), Date)
    return func.date(column)


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _series(rows, start: date, end: date) -> Series:
    counts = {_as_date(day): int(value or 0) for day, value in rows}
    days = [(start + timedelta(days=i), counts.get(start + timedelta(days=i), 0)) for i in range((end - start).days + 1)]
    peak = max((value for _, value in days), default=0)
    width = 100 / len(days)
    bars = [
        Bar(day.isoformat(), value, round(i * width, 3), round(width * 0.8, 3), round(value * 100 / peak, 3) if peak else 0)
        for i, (day, value) in enumerate(days)
    ]
    return Series(days, sum(value for _, value in days), peak, bars)


def report(start: date, end: date, locale: str = "en") -> Report:
    """Every figure of the analytics page for the UTC days `start`..`end` (category names in `locale`)."""
    since = datetime.combine(start, time.min, tzinfo=UTC)
    until = datetime.combine(end + timedelta(days=1), time.min, tzinfo=UTC)
    session = db.session

    def between(column):
        return and_(column >= since, column < until)

    people_total = session.scalar(select(func.count()).select_from(User).where(User.created_at < until))
    people_new = session.scalar(select(func.count()).select_from(User).where(between(User.created_at)))
    bidders = select(Bid.bidder_id.label("user_id")).where(between(Bid.created_at))
    sellers = select(Auction.seller_id.label("user_id")).where(between(Auction.created_at))
    signed_in = select(User.id.label("user_id")).where(between(User.last_login_at))
    active = union(bidders, sellers, signed_in).subquery()
    people_active = session.scalar(select(func.count()).select_from(active))
    people_bidding = session.scalar(select(func.count(func.distinct(Bid.bidder_id))).where(between(Bid.created_at)))

    created = between(Auction.created_at)
    by_status = dict(session.execute(select(Auction.status, func.count()).where(created).group_by(Auction.status)).all())
    by_kind = dict(session.execute(select(Auction.kind, func.count()).where(created).group_by(Auction.kind)).all())

    bid_day = _day(Bid.created_at)
    bids = _series(session.execute(select(bid_day, func.count()).where(between(Bid.created_at)).group_by(bid_day)).all(), start, end)

    sold = and_(Auction.status == "ended", between(Auction.closed_at), Auction.winner_id.is_not(None))
    close_day = _day(Auction.closed_at)
    volume = _series(
        session.execute(select(close_day, func.sum(Auction.final_price)).where(sold).group_by(close_day)).all(), start, end
    )
    sales = session.scalar(select(func.count()).select_from(Auction).where(sold))

    moved = between(LedgerTransfer.created_at)
    by_reason = dict(
        session.execute(
            select(LedgerTransfer.reason, func.sum(LedgerTransfer.amount))
            .where(moved, LedgerTransfer.reason.in_((ledger.FEE, ledger.PURCHASE, ledger.REFUND, ledger.REFUND_CANCELED)))
            .group_by(LedgerTransfer.reason)
        ).all()
    )
    revenue_account = select(LedgerAccount.id).where(LedgerAccount.kind == "platform_revenue").scalar_subquery()
    other_revenue = session.scalar(
        select(func.coalesce(func.sum(LedgerTransfer.amount), 0)).where(
            moved, LedgerTransfer.credit_account_id == revenue_account, LedgerTransfer.reason != ledger.FEE
        )
    )
    # A refunded Premium charge leaves platform revenue again.
    other_revenue -= session.scalar(
        select(func.coalesce(func.sum(LedgerTransfer.amount), 0)).where(
            moved, LedgerTransfer.debit_account_id == revenue_account, LedgerTransfer.reason == ledger.SUBSCRIPTION_REFUND
        )
    )

    sold_price = case((Auction.winner_id.is_not(None), Auction.final_price), else_=0)
    top_categories = [
        Ranked(Category(name_en=name_en, name_ru=name_ru).name(locale), count, int(total or 0))
        for name_en, name_ru, count, total in session.execute(
            select(Category.name_en, Category.name_ru, func.count(Auction.id), func.sum(sold_price))
            .select_from(Auction)
            .join(Category, Category.id == Auction.category_id)
            .where(created)
            .group_by(Category.id, Category.name_en, Category.name_ru)
            .order_by(func.count(Auction.id).desc(), Category.name_en)
            .limit(5)
        ).all()
    ]
    top_sellers = [
        Ranked(_name(first, last, username, user_id), count, int(total or 0))
        for user_id, first, last, username, count, total in session.execute(
            select(User.id, User.first_name, User.last_name, User.username, func.count(Auction.id), func.sum(Auction.final_price))
            .select_from(Auction)
            .join(User, User.id == Auction.seller_id)
            .where(sold)
            .group_by(User.id, User.first_name, User.last_name, User.username)
            .order_by(func.sum(Auction.final_price).desc(), User.id)
            .limit(5)
        ).all()
    ]
    return Report(
        start=start,
        end=end,
        people_total=people_total,
        people_new=people_new,
        people_active=people_active,
        people_bidding=people_bidding,
        auctions_by_status=by_status,
        auctions_by_kind=by_kind,
        bids=bids,
        volume=volume,
        gross_volume=volume.total,
        sales=sales,
        fees=int(by_reason.get(ledger.FEE) or 0),
        other_revenue=int(other_revenue or 0),
        stars_bought=int(by_reason.get(ledger.PURCHASE) or 0),
        stars_refunded=int(by_reason.get(ledger.REFUND) or 0) - int(by_reason.get(ledger.REFUND_CANCELED) or 0),
        top_categories=top_categories,
        top_sellers=top_sellers,
    )


def _name(first: str | None, last: str | None, username: str | None, user_id: int) -> str:
    full = " ".join(part for part in (first, last) if part)
    return full or (f"@{username}" if username else f"#{user_id}")

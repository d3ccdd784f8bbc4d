"""Analytics for the admin panel: aggregate queries over a date range (UTC days, both ends included).

Each figure is aggregated in SQL over an indexed range (`created_at`, `closed_at`, the ledger's
`reason, created_at`); the sales index covers every column read, so those scans never touch the
table. Measured with bench/search.py at 100,000 auctions and 1,000,000 bids (README): a 90-day
report went from about 15 s of queries to about 0.15 s; keeping the per-day totals of past days
took the page's p95 on PostgreSQL from 876 ms to 269 ms (README, "Analytics at 100,000 auctions").

- the per-day figures (bids, sales, volume) of complete UTC days are kept in `analytics_daily`
  by a scheduled job (`roll_up`) and read from there; today's are counted live, so the report
  stays exact. Counting a day is one statement of per-day range counts (`_live_totals`), not a
  GROUP BY on a computed day, which would evaluate a date function on every row;
- who was active or bid is counted per person with EXISTS on the (user, created_at) indexes,
  not as DISTINCT over every bid of the range;
- auctions listed per status, kind and category are ranges of the (value, created_at) indexes;
  a category's volume is what sold in the range (closed_at), like the gross volume.

Amounts are Stars.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import and_, bindparam, case, exists, func, literal, or_, select, true, union_all
from sqlalchemy.dialects import postgresql, sqlite

from auction.extensions import db
from auction.models import AnalyticsDay, Auction, Bid, Category, LedgerAccount, LedgerTransfer, User, utcnow
from auction.models.auctions import AUCTION_KINDS, AUCTION_STATUSES
from auction.services import ledger
from auction.services.transaction import atomic

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


_BUILT: dict[tuple[str, int], object] = {}  # statements by (figure, parts): building one costs more than running it

# The scheduled roll-up recomputes this many complete days before today on every run, so a row
# stamped just before midnight by a transaction that committed after it still counts (see roll_up).
REFRESH_DAYS = 3
_CHUNK_DAYS = 92  # days per roll-up statement: SQLite allows at most 500 parts in one compound SELECT


def _counted(groups: list[tuple[str, object, list]], created_since: datetime, created_until: datetime) -> list[dict]:
    """For each group (name, column, values): how many auctions created in [`created_since`, `created_until`) have each value.

    One statement for every group: per-value ranges on the (column, created_at) indexes. The
    names key the built statement; returns one {value: count} per group, zero counts left out.
    """
    key = ("counted:" + ",".join(f"{name}{len(values)}" for name, _, values in groups), 0)
    statement = _BUILT.get(key)
    if statement is None:
        parts = [
            select(literal(g).label("g"), literal(i).label("n"),
                   select(func.count()).where(column == bindparam(f"v{g}_{i}"), Auction.created_at >= bindparam("since"),
                                              Auction.created_at < bindparam("until")).scalar_subquery().label("value"))
            for g, (_, column, values) in enumerate(groups) for i in range(len(values))
        ]
        statement = _BUILT.setdefault(key, union_all(*parts))
    params = {f"v{g}_{i}": value for g, (_, _, values) in enumerate(groups) for i, value in enumerate(values)}
    counts: list[dict] = [{} for _ in groups]
    for g, i, count in db.session.execute(statement, {**params, "since": created_since, "until": created_until}).all():
        if count:
            counts[g][groups[g][2][i]] = int(count)
    return counts


@dataclass(frozen=True)
class DayTotals:
    """What the report sums per UTC day: bids placed, auctions closed sold and their volume (Stars)."""

    bids: int = 0
    sales: int = 0
    volume: int = 0


def _live_totals(start: date, end: date) -> dict[date, DayTotals]:
    """Each UTC day `start`..`end` counted from the bids and auctions themselves, in one statement.

    Each day is its own range on the created_at / closed_at indexes: counting index entries is
    several times cheaper than a GROUP BY on a day computed from every row.
    """
    count = (end - start).days + 1
    statement = _BUILT.get(("totals", count))
    if statement is None:
        def ranged(value, column, where, i):
            return select(value).where(where, column >= bindparam(f"s{i}"), column < bindparam(f"e{i}")).scalar_subquery()

        sold = and_(Auction.status == "ended", Auction.winner_id.is_not(None))
        parts = [
            select(literal(i).label("day"),
                   ranged(func.count(), Bid.created_at, true(), i).label("bids"),
                   ranged(func.count(), Auction.closed_at, sold, i).label("sales"),
                   ranged(func.sum(Auction.final_price), Auction.closed_at, sold, i).label("volume"))
            for i in range(count)
        ]
        statement = _BUILT.setdefault(("totals", count), union_all(*parts))
    first = datetime.combine(start, time.min, tzinfo=UTC)
    bounds = {}
    for i in range(count):
        bounds[f"s{i}"], bounds[f"e{i}"] = first + timedelta(days=i), first + timedelta(days=i + 1)
    return {start + timedelta(days=i): DayTotals(int(bids or 0), int(sales or 0), int(volume or 0))
            for i, bids, sales, volume in db.session.execute(statement, bounds).all()}


@atomic
def _store(start: date, end: date) -> dict[date, DayTotals]:
    """Count the UTC days `start`..`end` live and keep them in `analytics_daily` (insert or replace); returns them."""
    totals: dict[date, DayTotals] = {}
    day = start
    while day <= end:
        last = min(end, day + timedelta(days=_CHUNK_DAYS - 1))
        totals.update(_live_totals(day, last))
        day = last + timedelta(days=1)
    rows = [{"day": d, "bids": t.bids, "sales": t.sales, "volume": t.volume, "computed_at": utcnow()} for d, t in totals.items()]
    insert = postgresql.insert if db.session.get_bind().dialect.name == "postgresql" else sqlite.insert
    for chunk in range(0, len(rows), _CHUNK_DAYS):
        statement = insert(AnalyticsDay).values(rows[chunk:chunk + _CHUNK_DAYS])
        db.session.execute(statement.on_conflict_do_update(
            index_elements=[AnalyticsDay.day],
            set_={name: getattr(statement.excluded, name) for name in ("bids", "sales", "volume", "computed_at")},
        ))
    return totals


def roll_up(today: date | None = None) -> int:
    """Keep `analytics_daily` right for the complete UTC days before `today` (default: today, UTC); returns the days written.

    Idempotent (a scheduled job): recomputes the last REFRESH_DAYS days on every run and fills any
    missing day of the last MAX_DAYS; today is never stored, the report counts it live. Why that
    is enough: a bid is stamped with the time it is placed and a sale with the time the auction
    closes (`closed_at`), both written "now", and neither is edited nor deleted later (there is no
    way to delete an auction or a bid); refunds and payouts are ledger figures the report reads
    live. So a past day only changes when a transaction that stamped its rows before midnight
    commits after the day was rolled up — seconds late, well inside REFRESH_DAYS.
    """
    today = today or utcnow().date()
    first, last = today - timedelta(days=MAX_DAYS), today - timedelta(days=1)
    kept = set(db.session.scalars(select(AnalyticsDay.day).where(AnalyticsDay.day.between(first, last))))
    missing = [first + timedelta(days=i) for i in range(MAX_DAYS) if first + timedelta(days=i) not in kept]
    since = min([*missing, today - timedelta(days=REFRESH_DAYS)])
    return len(_store(since, last))


def _totals(start: date, end: date, today: date) -> dict[date, DayTotals]:
    """The per-day totals of `start`..`end`: complete days from `analytics_daily` (counted and kept
    first if missing, e.g. before the job's first run), today and later days counted live."""
    totals: dict[date, DayTotals] = {}
    past_end = min(end, today - timedelta(days=1))
    if start <= past_end:
        for row in db.session.scalars(select(AnalyticsDay).where(AnalyticsDay.day.between(start, past_end))):
            totals[row.day] = DayTotals(row.bids, row.sales, row.volume)
        missing = [start + timedelta(days=i) for i in range((past_end - start).days + 1) if start + timedelta(days=i) not in totals]
        if missing:
            totals.update(_store(missing[0], missing[-1]))
    if end >= today:
        totals.update(_live_totals(max(start, today), end))
    return totals


def _series(days: list[tuple[date, int]]) -> Series:
    peak = max((value for _, value in days), default=0)
    width = 100 / len(days)
    bars = [
        Bar(day.isoformat(), value, round(i * width, 3), round(width * 0.8, 3), round(value * 100 / peak, 3) if peak else 0)
        for i, (day, value) in enumerate(days)
    ]
    return Series(days, sum(value for _, value in days), peak, bars)


def report(start: date, end: date, locale: str = "en", today: date | None = None) -> Report:
    """Every figure of the analytics page for the UTC days `start`..`end` (category names in `locale`).

    The per-day bids, sales and volume of days before `today` (default: today, UTC) come from
    `analytics_daily` (see roll_up), counted and kept first for a day not there yet; today's are
    counted live. The other figures are counted live over the whole range. Nine statements once
every past day is kept (two more, a write, for the days not kept yet).
    """
    since = datetime.combine(start, time.min, tzinfo=UTC)
    until = datetime.combine(end + timedelta(days=1), time.min, tzinfo=UTC)
    session = db.session

    def between(column):
        return and_(column >= since, column < until)

    # Read before anything else: filling a missing day is its own transaction.
    totals = _totals(start, end, today or utcnow().date())
    people_total, people_new = session.execute(
        select(select(func.count()).select_from(User).where(User.created_at < until).scalar_subquery(),
               select(func.count()).select_from(User).where(between(User.created_at)).scalar_subquery())
    ).one()
    bid = exists().where(Bid.bidder_id == User.id, between(Bid.created_at))
    listed = exists().where(Auction.seller_id == User.id, between(Auction.created_at))
    people_active, people_bidding = session.execute(
        select(func.count(User.id), func.count(case((bid, 1))))
        .where(or_(bid, listed, between(User.last_login_at)))
    ).one()

    categories = {category.id: category for category in session.scalars(select(Category))}
    by_status, by_kind, listed_in = _counted(
        [("status", Auction.status, list(AUCTION_STATUSES)), ("kind", Auction.kind, list(AUCTION_KINDS)),
         ("category", Auction.category_id, list(categories))],
        since, until,
    )

    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    bids = _series([(day, totals[day].bids) for day in days])
    volume = _series([(day, totals[day].volume) for day in days])
    sales = sum(totals[day].sales for day in days)
    sold = and_(Auction.status == "ended", between(Auction.closed_at), Auction.winner_id.is_not(None))

    moved = between(LedgerTransfer.created_at)
    revenue_account = select(LedgerAccount.id).where(LedgerAccount.kind == "platform_revenue").scalar_subquery()

    def total(*conditions):
        return func.coalesce(func.sum(case((and_(*conditions), LedgerTransfer.amount))), 0)

    # One pass over the range's transfers; a refunded Premium charge leaves platform revenue again.
    fees, bought, refunded, refund_canceled, other_credit, other_debit = session.execute(
        select(total(LedgerTransfer.reason == ledger.FEE), total(LedgerTransfer.reason == ledger.PURCHASE),
               total(LedgerTransfer.reason == ledger.REFUND), total(LedgerTransfer.reason == ledger.REFUND_CANCELED),
               total(LedgerTransfer.credit_account_id == revenue_account, LedgerTransfer.reason != ledger.FEE),
               total(LedgerTransfer.debit_account_id == revenue_account, LedgerTransfer.reason == ledger.SUBSCRIPTION_REFUND))
        .where(moved)
    ).one()

    sold_in = dict(session.execute(
        select(Auction.category_id, func.sum(Auction.final_price)).where(sold, Auction.category_id.is_not(None)).group_by(Auction.category_id)
    ).all())
    top_categories = sorted(
        (Ranked(categories[cid].name(locale), listed_in.get(cid, 0), int(sold_in.get(cid) or 0))
         for cid in set(listed_in) | set(sold_in) if cid in categories),
        key=lambda ranked: (-ranked.count, -ranked.volume, ranked.name),
    )[:5]
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
        fees=int(fees),
        other_revenue=int(other_credit) - int(other_debit),
        stars_bought=int(bought),
        stars_refunded=int(refunded) - int(refund_canceled),
        top_categories=top_categories,
        top_sellers=top_sellers,
    )


def _name(first: str | None, last: str | None, username: str | None, user_id: int) -> str:
    full = " ".join(part for part in (first, last) if part)
    return full or (f"@{username}" if username else f"#{user_id}")

"""Server-drawn SVG charts: the auction page's price step line, and the seller statistics' daily counts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

CHART_WIDTH, CHART_HEIGHT = 320, 96


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


def with_chart(page):
    """Give `page` (an AuctionPage) its chart when the read model carried the price steps."""
    if page.price_steps is not None and page.chart_span is not None:
        start, start_price, until = page.chart_span
        page.chart = price_chart(start, start_price, page.price_steps, until)
    return page


@dataclass(frozen=True)
class DailyChart:
    """Counts per day as SVG polylines on one scale: `lines` is ((name, points), ...), `high` the top of the scale."""

    lines: tuple[tuple[str, str], ...]
    high: int
    start: date
    end: date


def daily_chart(days: Sequence[date], series: dict[str, Sequence[int]]) -> DailyChart:
    """Scale daily counts (one value per day in `days`, oldest first) into the chart box, one line per series."""
    high = max([1, *(max(values, default=0) for values in series.values())])
    pad = 4
    step = (CHART_WIDTH - 2 * pad) / max(len(days) - 1, 1)

    def points(values: Sequence[int]) -> str:
        return " ".join(f"{round(pad + i * step, 1)},{round(CHART_HEIGHT - pad - v / high * (CHART_HEIGHT - 2 * pad), 1)}" for i, v in enumerate(values))

    return DailyChart(tuple((name, points(values)) for name, values in series.items()), high, days[0], days[-1])


def statistics_chart(series) -> DailyChart:
    """The chart of a seller_stats.DailySeries: views, watchers and bids per day."""
    return daily_chart(series.days, {"views": series.views, "watchers": series.watchers, "bids": series.bids})

"""Saved searches and their alerts: a person keeps a search, and hears of new auctions that match it.

Alerts come from a job (`alert_saved_searches`, every minute) that looks at auctions listed or
opened since each saved search was last checked, rather than from a hook in the listing and
opening transactions: those lock the auction house's writes (on SQLite, every bid waits), and a
search per saved search inside them would make listing slower as saved searches grow. The job
also keeps the rule "at most one message per saved search per hour" in one place: matches that
come up during the quiet hour are told in the next message, not lost.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import parse_qsl

from flask import current_app
from flask_babel import force_locale, format_decimal, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from sqlalchemy import and_, delete, func, or_, select

from auction.extensions import db
from auction.models import Auction, Category, SavedSearch, User, utcnow
from auction.services import notifications
from auction.services.errors import NotFound, ServiceError
from auction.services.search import SearchRequest, matching_query, parse_request, parse_terms
from auction.services.transaction import atomic

MAX_SAVED = 20
ALERT_GAP = timedelta(hours=1)
# A listing's created_at is taken a moment before its transaction commits, and a scheduled
# auction turns live when the opening job (every 10 s) reaches it: look only at what is at least
# this old, so a row still being written or opened is seen on the next run instead of skipped.
SETTLE = timedelta(seconds=30)
TITLES_IN_ALERT = 3
MAX_LINK = 255  # a notification's link (notifications.url)


class TooManySavedSearches(ServiceError):
    message = _l("You can keep up to %(limit)d saved searches. Delete one to save this.")


class NothingToSave(ServiceError):
    message = _l("Type some words or choose a filter first.")


@dataclass(frozen=True)
class SavedSearchRow:
    id: int
    label: str
    url_query: str


def describe(request: SearchRequest, locale: str) -> str:
    """A short human label of a search, e.g. “dragon” · Digital art · up to 500 ⭐."""
    f = request.filters
    parts = []
    if request.query.strip():
        parts.append(f"“{request.query.strip()[:60]}”")
    if f.category:
        category = db.session.scalar(select(Category).where(Category.slug == f.category))
        if category is not None:
            parts.append(category.name(locale))
    kinds = {"english": _("English auction"), "dutch": _("Dutch auction"),
             "sealed_first": _("Sealed bids, highest price pays"), "sealed_second": _("Sealed bids, second price pays")}
    if f.kind:
        parts.append(kinds[f.kind])
    if f.status != "live":
        parts.append({"scheduled": _("Starting later"), "ended": _("Ended"), "all": _("Any state")}[f.status])
    if f.min_price is not None:
        parts.append(_("from %(amount)s ⭐", amount=format_decimal(f.min_price)))
    if f.max_price is not None:
        parts.append(_("up to %(amount)s ⭐", amount=format_decimal(f.max_price)))
    if f.ending_within:
        parts.append({"1h": _("ending within an hour"), "24h": _("ending within a day"), "7d": _("ending within a week")}[f.ending_within])
    if f.buy_now:
        parts.append(_("buy it now"))
    if f.seller_id is not None:
        seller = db.session.get(User, f.seller_id)
        if seller is not None:
            parts.append(_("seller %(name)s", name=seller.display_name))
    return " · ".join(parts) or _("All auctions")


def saved_searches(user_id: int, locale: str) -> list[SavedSearchRow]:
    """The person's saved searches, newest first, with their labels in `locale`."""
    rows = db.session.scalars(select(SavedSearch).where(SavedSearch.user_id == user_id).order_by(SavedSearch.id.desc()))
    with force_locale(locale):
        return [SavedSearchRow(row.id, describe(_request_of(row), locale), row.query_string) for row in rows]


def _request_of(row: SavedSearch) -> SearchRequest:
    return parse_request(dict(parse_qsl(row.query_string)))


@atomic
def save_search(user_id: int, request: SearchRequest) -> int:
    """Keep `request` (without its page) for `user_id`; saving the same search twice keeps one. Returns its id.

    Raises NothingToSave for an empty search, TooManySavedSearches past MAX_SAVED.
    """
    if not parse_terms(request.query) and not request.filtered:
        raise NothingToSave()
    if db.session.get(User, user_id) is None:
        raise NotFound()
    query_string = request.query_string()
    existing = db.session.scalar(select(SavedSearch).where(SavedSearch.user_id == user_id, SavedSearch.query_string == query_string))
    if existing is not None:
        return existing.id
    if db.session.scalar(select(func.count(SavedSearch.id)).where(SavedSearch.user_id == user_id)) >= MAX_SAVED:
        raise TooManySavedSearches(limit=MAX_SAVED)
    now = utcnow()
    row = SavedSearch(user_id=user_id, query_string=query_string, created_at=now, checked_until=now - SETTLE)
    db.session.add(row)
    db.session.flush()
    return row.id


@atomic
def delete_saved_search(user_id: int, saved_search_id: int) -> None:
    """Forget one of the person's saved searches; someone else's is NotFound."""
    deleted = db.session.execute(
        delete(SavedSearch).where(SavedSearch.id == saved_search_id, SavedSearch.user_id == user_id)
    ).rowcount
    if not deleted:
        raise NotFound()


@atomic
def alert_saved_searches(now: datetime | None = None) -> int:
    """Tell people of auctions listed or opened since their saved searches were last checked.

    One notification ("saved_search_alert": Telegram, the site, email, push as the person chose)
    per saved search and at most one per ALERT_GAP (an hour); a saved
    search in its quiet hour is not checked, so what came up meanwhile goes in its next message.
    Returns the number of notifications written.
    """
    now = now or utcnow()
    until = now - SETTLE
    due = db.session.scalars(
        select(SavedSearch)
        .where(SavedSearch.checked_until < until)
        .where(or_(SavedSearch.last_alerted_at.is_(None), SavedSearch.last_alerted_at <= now - ALERT_GAP))
        .order_by(SavedSearch.id)
    ).all()
    sent = 0
    for saved in due:
        request = _request_of(saved)
        since = saved.checked_until
        came_up = or_(
            and_(Auction.created_at > since, Auction.created_at <= until),
            and_(Auction.starts_at > since, Auction.starts_at <= until),
        )
        mine = Auction.seller_id != saved.user_id  # nobody needs telling of their own listing
        query = matching_query(parse_terms(request.query), request.filters, "newest", None, now, extra=[came_up, mine])
        if request.filters.category:
            category = db.session.scalar(select(Category).where(Category.slug == request.filters.category))
            query = query.where(Auction.category_id == (category.id if category else -1))
        matches = list(db.session.scalars(query.limit(TITLES_IN_ALERT + 1)))
        count = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) if len(matches) > TITLES_IN_ALERT else len(matches)
        saved.checked_until = until
        if not matches:
            continue
        if _queue_alert(saved, request, matches[:TITLES_IN_ALERT], count):
            saved.last_alerted_at = now
            sent += 1
    return sent


def _alert_lines(params: dict) -> str:
    """The alert in the active language: how many, the search's label, the first titles with links."""
    from flask_babel import get_locale

    base_url = current_app.config["BASE_URL"].rstrip("/")
    request = parse_request(dict(parse_qsl(params.get("query", ""))))
    lines = [
        ngettext(
            "%(num)d new auction for your saved search %(label)s:",
            "%(num)d new auctions for your saved search %(label)s:",
            params.get("count", 0),
            label=describe(request, str(get_locale() or "en")),
        )
    ]
    lines += [f"• {title} — {format_decimal(price)} ⭐\n{base_url}/auctions/{auction_id}" for auction_id, title, price in params.get("auctions", [])]
    return "\n".join(lines)


def _alert_buttons(row, url: str) -> list:
    auctions = (row.payload or {}).get("auctions", [])
    buttons = [[{"text": _l("Show them on the site"), "url": url}]] if url else []
    if len(auctions) == 1:
        buttons.insert(0, [{"text": _l("Open the auction"), "callback_data": f"card:{auctions[0][0]}"}])
    return buttons


# This feature's notification kind; create_app adds it to the kinds table (register_notification_kinds).
ALERT_KIND = notifications.Kind(
    "saved_search_alert",
    _l("New auctions for a saved search"),
    lambda **params: LazyString(_alert_lines, params),  # rendered in whichever language shows it
    buttons=_alert_buttons,
)


def _queue_alert(saved: SavedSearch, request: SearchRequest, auctions: list[Auction], count: int) -> bool:
    path = f"/search?{saved.query_string}"
    return notifications.notify(
        saved.user_id,
        "saved_search_alert",
        dedupe_key=f"saved-search:{saved.id}:{saved.checked_until.isoformat()}",
        path=path if len(path) <= MAX_LINK else "/search",
        query=saved.query_string,
        count=count,
        auctions=[[a.id, a.title, a.current_price] for a in auctions],
    ) is not None

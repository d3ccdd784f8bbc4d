"""Finding auctions: full-text words, filters, sorts and pages, for the search page, the bot and alerts.

Whatever a person types is searched as words: the text is cut into letters-and-digits
tokens here and the database query is written from those tokens alone, so quotes, `*`,
`-`, parentheses, `AND`/`NEAR` and SQL are never operators (nor errors). A quoted part
is a phrase; every other word must appear (as a word or the start of one; a word longer than
eight letters by its first eight) in the title or the description. SQLite answers with FTS5 (bm25 ranking, title ten times the description),
PostgreSQL with its `tsvector` index (ts_rank, title weight A) — see auction/models/search.py.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from urllib.parse import urlencode

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, bindparam, column, func, literal_column, or_, select, table
from sqlalchemy.orm import selectinload

from auction.extensions import db
from auction.models import Auction, Category, User, utcnow
from auction.models.auctions import AUCTION_KINDS
from auction.models.search import FTS_TABLE, VECTOR_COLUMN
from auction.services import premium

PAGE_SIZE = 24
MAX_PAGE = 200
MAX_QUERY_CHARS = 200  # what is read of the words a person typed
MAX_TERMS = 12
MAX_TERM_CHARS = 40
PREFIX_CHARS = 8  # the longest prefix index of auctions_fts
STATUSES = ("live", "scheduled", "ended", "all")
SORTS = ("relevance", "ending", "newest", "price_asc", "price_desc", "bids")
# "Ending within": the filter's choices, in seconds.
ENDING_WITHIN = {"1h": 3600, "24h": 24 * 3600, "7d": 7 * 24 * 3600}
MAX_PRICE = 10**12
LOOKUP_LIMIT = 2000  # more matches than this: walk the index of the order instead
RANKED_POOL = 500  # "best match" ranks this many matches, the ones ending soonest

_TOKEN = re.compile(r"[^\W_]+")
_PHRASE = re.compile(r'"([^"]*)"')
_DIGITS = re.compile(r"[0-9]{1,13}")


@dataclass(frozen=True)
class SearchTerms:
    """The words of a query: single words, and phrases (runs of words that must stand together)."""

    words: tuple[str, ...] = ()
    phrases: tuple[tuple[str, ...], ...] = ()

    def __bool__(self) -> bool:
        return bool(self.words or self.phrases)


def parse_terms(query: str) -> SearchTerms:
    """Cut what a person typed into words and quoted phrases (lower-cased, nothing else survives)."""
    query = (query or "")[:MAX_QUERY_CHARS].lower()
    phrases: list[tuple[str, ...]] = []
    words: list[str] = []
    count = 0

    def take(tokens: list[str]) -> list[str]:
        nonlocal count
        kept = [token[:MAX_TERM_CHARS] for token in tokens][: max(MAX_TERMS - count, 0)]
        count += len(kept)
        return kept

    for quoted in _PHRASE.findall(query):
        tokens = take(_TOKEN.findall(quoted))
        if len(tokens) > 1:
            phrases.append(tuple(tokens))
        else:
            words.extend(tokens)
    for token in take(_TOKEN.findall(_PHRASE.sub(" ", query))):
        if token not in words:
            words.append(token)
    return SearchTerms(tuple(words), tuple(phrases))


def fts5_query(terms: SearchTerms) -> str:
    """An FTS5 MATCH expression: every token a quoted string (so never an operator), each a prefix
    of at most PREFIX_CHARS letters (the longest prefix the index keeps; PostgreSQL's stemmer cuts
    long words similarly)."""
    parts = [f'"{word[:PREFIX_CHARS]}"*' for word in terms.words]
    parts += [" + ".join(f'"{token[:PREFIX_CHARS]}"*' for token in phrase) for phrase in terms.phrases]
    return " AND ".join(parts)


def tsquery_text(terms: SearchTerms) -> str:
    """A to_tsquery() text: every token quoted as a lexeme with a prefix mark, phrases joined by <->."""
    parts = [f"'{word}':*" for word in terms.words]
    parts += ["(" + " <-> ".join(f"'{token}':*" for token in phrase) + ")" for phrase in terms.phrases]
    return " & ".join(parts)


@dataclass(frozen=True)
class SearchFilters:
    """Filters, as plain values: prices in Stars, `seller_id` a user id, `ending_within` a key of ENDING_WITHIN."""

    category: str | None = None
    kind: str | None = None
    status: str = "live"
    min_price: int | None = None
    max_price: int | None = None
    ending_within: str | None = None
    buy_now: bool = False
    seller_id: int | None = None


@dataclass(frozen=True)
class SearchRequest:
    """One search as the page's URL says it; `errors` names the fields that were ignored, and why."""

    query: str = ""
    filters: SearchFilters = field(default_factory=SearchFilters)
    sort: str = "ending"
    page: int = 1
    errors: dict = field(default_factory=dict)

    def args(self, page: int | None = None, **changes) -> dict[str, str]:
        """The URL parameters of this search (defaults left out), for links, the next page and saving."""
        f = self.filters
        values = {
            "q": self.query.strip(),
            "category": f.category or "",
            "kind": f.kind or "",
            "status": f.status if f.status != "live" else "",
            "min_price": "" if f.min_price is None else str(f.min_price),
            "max_price": "" if f.max_price is None else str(f.max_price),
            "ending": f.ending_within or "",
            "buy_now": "1" if f.buy_now else "",
            "seller": "" if f.seller_id is None else str(f.seller_id),
            "sort": self.sort if self.sort != default_sort(self.query) else "",
        }
        values.update({key: str(value) for key, value in changes.items()})
        page = self.page if page is None else page
        if page > 1:
            values["page"] = str(page)
        return {key: value for key, value in values.items() if value}

    def query_string(self) -> str:
        """The canonical URL query of this search without its page (what a saved search keeps)."""
        return urlencode(self.args(page=1))

    @property
    def filtered(self) -> bool:
        return self.filters != SearchFilters()


def default_sort(query: str) -> str:
    return "relevance" if parse_terms(query) else "ending"


def _stars_value(raw: str) -> int | None:
    value = re.sub(r"[\s\u00a0\u202f⭐]", "", raw or "")
    return int(value) if _DIGITS.fullmatch(value) and int(value) <= MAX_PRICE else None


def parse_request(args: Mapping[str, str]) -> SearchRequest:
    """Read a search from URL parameters; a value that makes no sense is ignored and named in `errors`."""
    errors: dict = {}

    def get(name: str) -> str:
        value = args.get(name) or ""
        return value.replace("\x00", "").strip()[:MAX_QUERY_CHARS]

    def price(name: str) -> int | None:
        raw = get(name)
        if not raw:
            return None
        value = _stars_value(raw)
        if value is None:
            errors[name] = _l("Enter a whole number of Stars, such as 100.")
        return value

    kind = get("kind") or None
    if kind is not None and kind not in AUCTION_KINDS:
        kind = None
    status = get("status") or "live"
    if status not in STATUSES:
        status = "live"
    ending = get("ending") or None
    if ending not in ENDING_WITHIN:
        ending = None
    seller = get("seller")
    seller_id = int(seller) if _DIGITS.fullmatch(seller) else None
    min_price, max_price = price("min_price"), price("max_price")
    if min_price is not None and max_price is not None and min_price > max_price:
        errors["max_price"] = _l("The highest price must not be below the lowest.")
        max_price = None
    query = get("q")
    sort = get("sort") or default_sort(query)
    if sort not in SORTS or (sort == "relevance" and not parse_terms(query)):
        sort = default_sort(query)
    page_text = get("page")
    page = min(int(page_text), MAX_PAGE) if _DIGITS.fullmatch(page_text) and int(page_text) > 0 else 1
    filters = SearchFilters(
        category=get("category") or None,
        kind=kind,
        status=status,
        min_price=min_price,
        max_price=max_price,
        ending_within=ending,
        buy_now=get("buy_now") in ("1", "on", "yes", "true"),
        seller_id=seller_id,
    )
    return SearchRequest(query=query, filters=filters, sort=sort, page=page, errors=errors)


@dataclass
class SearchResults:
    """One page of matching auctions (with photos and categories loaded) and whether more pages exist."""

    request: SearchRequest
    auctions: list[Auction]
    page: int
    has_next: bool
    category: Category | None = None
    seller: User | None = None
    featured: frozenset[int] = frozenset()  # ids of the auctions on this page whose seller has Premium now

    @property
    def has_previous(self) -> bool:
        return self.page > 1


def _status_condition(status: str):
    # The same test as the home page (status = 'live'): one index range, in the order asked for.
    if status in ("live", "scheduled", "ended"):
        return Auction.status == status
    return Auction.status.in_(("live", "scheduled", "ended"))


def _buy_now_offered():
    """Buy-it-now still offered (services.rules.buy_now_available): until the first bid, or on an
    English auction with a reserve until the reserve is met — the price reaches the reserve exactly then."""
    return and_(
        Auction.buy_now_price.is_not(None),
        Auction.status.in_(("live", "scheduled")),
        or_(
            Auction.bid_count == 0,
            and_(Auction.kind == "english", Auction.reserve_price.is_not(None), Auction.current_price < Auction.reserve_price),
        ),
    )


def _conditions(filters: SearchFilters, category: Category | None, now: datetime) -> list:
    conditions = [_status_condition(filters.status), Auction.hidden_at.is_(None)]  # hidden by moderation: in no listing
    if category is not None:
        conditions.append(Auction.category_id == category.id)
    if filters.kind:
        conditions.append(Auction.kind == filters.kind)
    if filters.min_price is not None:
        conditions.append(Auction.current_price >= filters.min_price)
    if filters.max_price is not None:
        conditions.append(Auction.current_price <= filters.max_price)
    if filters.ending_within:
        conditions.append(Auction.ends_at <= now + timedelta(seconds=ENDING_WITHIN[filters.ending_within]))
        conditions.append(Auction.ends_at > now)
    if filters.buy_now:
        conditions.append(_buy_now_offered())
    if filters.seller_id is not None:
        conditions.append(Auction.seller_id == filters.seller_id)
    return conditions


def _order(sort: str):
    return {
        "newest": [Auction.starts_at.desc(), Auction.id.desc()],
        "price_asc": [Auction.current_price, Auction.id],
        "price_desc": [Auction.current_price.desc(), Auction.id.desc()],
        "bids": [Auction.bid_count.desc(), Auction.id.desc()],
    }.get(sort, [Auction.ends_at, Auction.id])


def _fts_match(terms: SearchTerms):
    return literal_column(FTS_TABLE).op("MATCH")(bindparam("fts_match", fts5_query(terms)))


def matching_query(terms: SearchTerms, filters: SearchFilters, sort: str, category: Category | None, now: datetime, extra: list | None = None):
    """The SELECT of auctions matching `terms` and `filters` in `sort` order (no paging).

    "Best match" ranks the RANKED_POOL (500) matching auctions that end soonest: a very common word
    matches tens of thousands, and scoring every one of them would cost more than the page.
    Within it, featured auctions (the seller has Premium now: an EXISTS on subscriptions) come first.
    """
    conditions = [*_conditions(filters, category, now), *(extra or [])]
    if not terms:
        return select(Auction).where(*conditions).order_by(*_order(sort))
    postgresql = db.engine.dialect.name == "postgresql"
    if postgresql:
        tsquery = func.to_tsquery(literal_column("'russian'::regconfig"), tsquery_text(terms))
        vector = literal_column(f"auctions.{VECTOR_COLUMN}")
        conditions.append(vector.op("@@")(tsquery))
    else:
        fts = table(FTS_TABLE, column("rowid"))
        matches = select(fts.c.rowid).where(_fts_match(terms))
        # Few matches: look each one up. Many (a common word): walk the order's own index and
        # test each auction against the matches, read once (`id + 0` keeps SQLite from looking
        # every match up). Counting reads the index alone, about a millisecond per 30,000 matches.
        many = db.session.scalar(select(func.count()).select_from(matches.subquery())) > LOOKUP_LIMIT
        conditions.append((Auction.id + 0 if many else Auction.id).in_(matches))
    if sort != "relevance":
        return select(Auction).where(*conditions).order_by(*_order(sort))
    pool = select(Auction.id).where(*conditions).order_by(Auction.ends_at, Auction.id).limit(RANKED_POOL).subquery("pool")
    featured = premium.featured_column(now)
    if postgresql:
        return (
            select(Auction)
            .join(pool, pool.c.id == Auction.id)
            .order_by(featured.desc(), func.ts_rank(vector, tsquery).desc(), Auction.ends_at, Auction.id)
        )
    fts = table(FTS_TABLE, column("rowid"))
    ranked = (
        select(fts.c.rowid.label("auction_id"), func.bm25(literal_column(FTS_TABLE), 10.0, 1.0).label("rank"))
        # `rowid + 0`: a plain rowid IN (...) would run the MATCH once per pooled auction.
        .where(_fts_match(terms), (fts.c.rowid + 0).in_(select(pool.c.id)))
        .subquery("ranked")
    )
    return select(Auction).join(ranked, ranked.c.auction_id == Auction.id).order_by(featured.desc(), ranked.c.rank, Auction.ends_at, Auction.id)


def search_auctions(query: str, filters: SearchFilters, sort: str, page: int = 1, per_page: int = PAGE_SIZE) -> SearchResults:
    """One page of the auctions matching `query` (words) and `filters`, in `sort` order.

    Canceled auctions and auctions hidden by moderation never show. An unknown category or sort is ignored, never an error.
    """
    request = SearchRequest(query=query, filters=filters, sort=sort, page=page)
    page = max(1, min(page, MAX_PAGE))
    category = None
    if filters.category:
        category = db.session.scalar(select(Category).where(Category.slug == filters.category))
        if category is None:
            filters = replace(filters, category=None)
    seller = db.session.get(User, filters.seller_id) if filters.seller_id is not None else None
    terms = parse_terms(query)
    if sort not in SORTS or (sort == "relevance" and not terms):
        sort = default_sort(query)
    now = utcnow()
    statement = (
        matching_query(terms, filters, sort, category, now)
        .add_columns(premium.featured_column(now))
        .options(selectinload(Auction.images), selectinload(Auction.category))
        .limit(per_page + 1)
        .offset((page - 1) * per_page)
    )
    rows = db.session.execute(statement).all()
    auctions = [row[0] for row in rows]
    return SearchResults(
        request=request,
        auctions=auctions[:per_page],
        page=page,
        has_next=len(auctions) > per_page and page < MAX_PAGE,
        category=category,
        seller=seller,
        featured=frozenset(row[0].id for row in rows[:per_page] if row[-1]),
    )


def search(request: SearchRequest, per_page: int = PAGE_SIZE) -> SearchResults:
    """`search_auctions` for a parsed request (the page's errors travel along)."""
    results = search_auctions(request.query, request.filters, request.sort, request.page, per_page)
    results.request = request
    return results

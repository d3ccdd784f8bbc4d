"""Benchmark: /search against the home page on a big catalogue, through the real server.

    .venv/bin/python bench/search.py [--database-url URL] [--auctions 100000] [--bids 1000000]
                                     [--requests 200] [--analytics-requests 50] [--clients 2]

Creates a fresh database (a new SQLite file, or a new schema in the PostgreSQL database given),
generates the catalogue with bulk inserts, not the services (executemany on SQLite, COPY on
PostgreSQL, then VACUUM ANALYZE; the full-text index fills through its own triggers): 1,000 people, eight
categories, `--auctions` auctions (60 % live, 10 % scheduled, 30 % ended; every type; some with
buy it now; the ended ones closed over the last 88 days, so their bids spread over the
90 days of the analytics report) whose titles and descriptions mix a few common words, many ordinary ones and a
rare one, and `--bids` bids spread over them (each auction's price and bid count follow its
bids). Then starts `python wsgi.py` (uvicorn, the whole process) and measures in the same run,
each with `--clients` clients sending `--requests` requests: the home page, and /search with a
common word, a rare word, a phrase and three filter combinations; then the admin analytics
page over the last 90 days, signed in (through /dev-login) as person 1, an admin, with
`--analytics-requests` requests per client. Prints a table and, last, one JSON object: auctions,
bids, home_p95_ms, search_p95_ms (over every search request), ratio (search p95 / home p95; the
target is at most 1.5), analytics_p95_ms, analytics_ratio (analytics p95 / home p95; the target
is at most 3), database.
"""

from __future__ import annotations

import argparse
import json
import random
import socket
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from bench.bids import fresh_database, percentile, redact, server_env  # noqa: E402

COMMON = ["digital", "pack", "set"]  # each in about a third of the titles
RARE = "zephyrine"  # in about 20 auctions
PHRASE = "golden dragon"  # in about 1 % of the titles
SYLLABLES = ["ka", "ro", "mi", "te", "lu", "san", "vor", "del", "qui", "ax", "on", "bre", "zu", "pel", "tor", "ni"]
KINDS = ["english"] * 7 + ["dutch", "sealed_first", "sealed_second"]
CATEGORIES = ["gifts", "art", "games", "templates", "services", "music", "courses", "stickers"]
USERS = 1000


def vocabulary(rng: random.Random, size: int = 3000) -> list[str]:
    words = set()
    while len(words) < size:
        words.add("".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))))
    return sorted(words)


def catalogue(auctions: int, bids: int, seed: int = 7):
    """Rows for users, categories, auctions and bids (plain tuples, in table column order below)."""
    rng = random.Random(seed)
    words = vocabulary(rng)
    now = datetime.now(UTC)
    # Person 1 is an admin (the analytics page); everyone is a demo user, so /dev-login signs them in.
    users = [(i, f"Person{i}", "en", "UTC", i == 1, False, True, False, 1, now) for i in range(1, USERS + 1)]
    categories = [(i + 1, slug, slug.title(), slug.title(), i) for i, slug in enumerate(CATEGORIES)]
    per_auction = [0] * auctions
    with_bids = rng.sample(range(auctions), int(auctions * 0.6))  # 40 % never get a bid
    for _ in range(bids):
        per_auction[with_bids[int(rng.paretovariate(1.2) * 3) % len(with_bids) if rng.random() < 0.3 else rng.randrange(len(with_bids))]] += 1
    auction_rows, bid_rows = [], []
    bid_id = 0
    rare_every = max(auctions // 20, 1)
    for n in range(auctions):
        auction_id = n + 1
        title_words = rng.sample(words, 3)
        if rng.random() < 0.33:
            title_words.insert(rng.randrange(4), rng.choice(COMMON))
        if rng.random() < 0.01:
            title_words.insert(0, PHRASE)
        if n % rare_every == 0:
            title_words.append(RARE)
        title = " ".join(title_words).capitalize()[:120]
        description = " ".join(rng.sample(words, 12)) + (" digital delivery." if rng.random() < 0.3 else ".")
        kind = rng.choice(KINDS)
        roll = rng.random()
        status = "live" if roll < 0.6 else "scheduled" if roll < 0.7 else "ended"
        if status == "scheduled":
            starts_at = now + timedelta(minutes=rng.randint(10, 3 * 24 * 60))
            ends_at = starts_at + timedelta(days=rng.randint(1, 7))
        elif status == "live":
            starts_at = now - timedelta(minutes=rng.randint(1, 5 * 24 * 60))
            ends_at = now + timedelta(minutes=rng.randint(1, 7 * 24 * 60))
        else:
            # Ended over the last 88 days, so the bids (placed through each auction's run) cover the 90-day report.
            ends_at = now - timedelta(minutes=rng.randint(1, 88 * 24 * 60))
            starts_at = ends_at - timedelta(days=rng.randint(1, 7))
        start_price = rng.randint(1, 2000)
        count = per_auction[n] if status != "scheduled" else 0
        seller = rng.randint(1, USERS)
        price, leader = start_price, None
        at = starts_at
        step = (min(ends_at, now) - starts_at) / (count + 1) if count else timedelta(0)
        for _ in range(count):
            bid_id += 1
            price += rng.randint(1, 25)
            leader = rng.randint(1, USERS)
            at += step
            bid_rows.append((bid_id, auction_id, leader, "sealed" if kind.startswith("sealed") else "bid", price, False, "web", at))
        buy_now = start_price * 3 if kind != "dutch" and rng.random() < 0.2 else None
        dutch = (max(start_price // 4, 1), 1, 60) if kind == "dutch" else (None, None, None)
        if kind == "dutch":
            start_price = max(start_price, 2)
            dutch = (1, 1, 60)
            # Started long ago, one Star a minute: already at the floor (so the price-drop job finds nothing to do).
            price, count, leader = (start_price if status == "scheduled" else 1), 0, None
        ended = status == "ended"
        auction_rows.append((
            auction_id, seller, rng.randint(1, len(CATEGORIES)), title, description, kind, status, start_price, price,
            buy_now, *dutch, 120, 120, starts_at, ends_at, count, leader if not ended else None,
            leader if ended and leader else None, price if ended and leader else None, starts_at, starts_at, ends_at if ended else None,
            0, PLATFORM_FEE_PERCENT,
        ))
    return users, categories, auction_rows, bid_rows


PLATFORM_FEE_PERCENT = 5  # every benchmark auction listed on the free plan

USER_COLUMNS = "id, first_name, language_code, timezone, is_admin, is_suspended, is_demo, bot_blocked, session_version, created_at"
CATEGORY_COLUMNS = "id, slug, name_en, name_ru, position"
AUCTION_COLUMNS = (
    "id, seller_id, category_id, title, description, kind, status, start_price, current_price, buy_now_price, dutch_floor,"
    " dutch_step, dutch_interval_seconds, snipe_window_seconds, snipe_extension_seconds, starts_at, ends_at, bid_count,"
    " leading_bidder_id, winner_id, final_price, created_at, updated_at, closed_at, relists_left, fee_percent"
)
BID_COLUMNS = "id, auction_id, bidder_id, kind, amount, is_automatic, source, created_at"


def load(database_url: str, auctions: int, bids: int) -> float:
    """Create the schema and bulk-insert the catalogue; returns the seconds it took."""
    from auction import create_app
    from auction.extensions import db
    from auction.models import search as search_index

    started = time.monotonic()
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "x" * 40, "BOT_MODE": "off", "DEV_LOGIN": True})
    tables = list(zip(("users", "categories", "auctions", "bids"), (USER_COLUMNS, CATEGORY_COLUMNS, AUCTION_COLUMNS, BID_COLUMNS),
                      catalogue(auctions, bids), strict=True))
    with app.app_context():
        db.create_all()
        raw = db.engine.raw_connection()
        try:
            if database_url.startswith("sqlite"):
                cursor = raw.cursor()
                cursor.execute("BEGIN")
                # The index is filled in one pass afterwards ('rebuild'), then its trigger comes back.
                cursor.execute(f"DROP TRIGGER {search_index.FTS_TABLE}_insert")
                for table, columns, rows in tables:
                    marks = ", ".join("?" * len(columns.split(",")))
                    cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", (tuple(_sqlite(v) for v in row) for row in rows))
                cursor.execute(search_index.SQLITE_REBUILD)
                cursor.execute(search_index.SQLITE_INDEX[1])
                cursor.execute("COMMIT")
                cursor.execute("ANALYZE")
            else:
                with raw.cursor() as cursor:
                    for table, columns, rows in tables:
                        with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                            for row in rows:
                                copy.write_row(row)
                    for table in ("users", "categories", "auctions", "bids"):
                        cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
                raw.commit()
                # VACUUM sets the visibility map, as autovacuum soon does on a live database: without it
                # every index-only scan (the analytics counts) still reads the table, 1.9 s against 0.18 s.
                raw.driver_connection.autocommit = True
                with raw.cursor() as cursor:
                    for table in ("users", "categories", "auctions", "bids"):
                        cursor.execute(f"VACUUM ANALYZE {table}")
        finally:
            raw.close()
        db.engine.dispose()
    return time.monotonic() - started


def _sqlite(value):
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    return value


CASES = [
    ("home page", "/"),
    ("common word", "/search?q=digital"),
    ("rare word", f"/search?q={RARE}"),
    ("phrase", f'/search?q="{PHRASE}"'),
    ("category, price, cheapest", "/search?category=art&min_price=100&max_price=900&sort=price_asc"),
    ("word, Dutch, ending in a day", "/search?q=pack&kind=dutch&ending=24h"),
    ("buy it now, cheapest", "/search?buy_now=1&sort=price_asc"),
]


ANALYTICS = "admin analytics, 90 days"
ANALYTICS_DAYS = 90


def analytics_path(today: datetime | None = None) -> str:
    end = (today or datetime.now(UTC)).date()
    return f"/admin/?start={end - timedelta(days=ANALYTICS_DAYS - 1)}&end={end}"


def sign_in_admin(http: httpx.Client) -> None:
    """Sign `http` in as person 1 (an admin) through /dev-login, as a browser does."""
    form = http.get("/dev-login").text
    token = form.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    http.post("/dev-login", data={"csrf_token": token, "user_id": "1"})
    if http.get("/admin/").status_code != 200:
        raise SystemExit("could not sign in as the admin")


def start_server(database_url: str, timeout: float = 180) -> tuple[subprocess.Popen, str]:
    """`python wsgi.py` on a free port; waits for /healthz (a big catalogue makes the first start slow)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen([sys.executable, str(ROOT / "wsgi.py")], cwd=ROOT, env=server_env(database_url, port),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(base_url + "/healthz", timeout=2).status_code == 200:
                return process, base_url
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit(f"the server did not start within {timeout:.0f} s")


def measure(base_url: str, path: str, requests: int, clients: int, admin: bool = False) -> tuple[list[float], int, int]:
    """Latencies (ms) of `requests` GETs of `path` from each of `clients` threads (signed in as the admin with
    `admin`); errors; cards on the page."""
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    cards = 0

    def client() -> None:
        nonlocal errors, cards
        with httpx.Client(base_url=base_url, timeout=60, headers={"Accept-Language": "en"}) as http:
            if admin:
                sign_in_admin(http)
            http.get(path)  # warm: connections, caches
            for _ in range(requests):
                started = time.perf_counter()
                response = http.get(path)
                elapsed = (time.perf_counter() - started) * 1000
                with lock:
                    latencies.append(elapsed)
                    if response.status_code != 200:
                        errors += 1
                    cards = response.text.count('class="card auction-card"')

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, errors, cards


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="")
    parser.add_argument("--auctions", type=int, default=100_000)
    parser.add_argument("--bids", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=200, help="requests per client and case")
    parser.add_argument("--analytics-requests", type=int, default=50, help="requests per client of the analytics page")
    parser.add_argument("--clients", type=int, default=2)
    options = parser.parse_args()

    database_url, cleanup = fresh_database(options.database_url)
    kind = "postgresql" if database_url.startswith("postgresql") else "sqlite"
    server = None
    results = {}
    try:
        load_seconds = load(database_url, options.auctions, options.bids)
        print(f"generated {options.auctions:,} auctions and {options.bids:,} bids in {load_seconds:.1f} s ({kind})")
        server, base_url = start_server(database_url)
        for name, path in CASES:
            results[name] = measure(base_url, path, options.requests, options.clients)
        results[ANALYTICS] = measure(base_url, analytics_path(), options.analytics_requests, options.clients, admin=True)
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()  # the figures are taken; a slow graceful stop must not lose them
                server.wait(timeout=30)
        cleanup()

    home = results["home page"][0]
    searches = [ms for name, (latencies, _, _) in results.items() if name not in ("home page", ANALYTICS) for ms in latencies]
    print(f"{'case':36}{'cards':>7}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'errors':>8}")
    for name in [name for name, _path in CASES] + [ANALYTICS]:
        latencies, errors, cards = results[name]
        print(f"{name:36}{cards:>7}{percentile(latencies, 50):>9.1f}{percentile(latencies, 95):>9.1f}{percentile(latencies, 99):>9.1f}{errors:>8}")
    home_p95, search_p95 = percentile(home, 95), percentile(searches, 95)
    analytics_p95 = percentile(results[ANALYTICS][0], 95)
    summary = {
        "auctions": options.auctions,
        "bids": options.bids,
        "home_p95_ms": round(home_p95, 1),
        "search_p95_ms": round(search_p95, 1),
        "ratio": round(search_p95 / home_p95, 3) if home_p95 else 0.0,
        "analytics_p95_ms": round(analytics_p95, 1),
        "analytics_ratio": round(analytics_p95 / home_p95, 3) if home_p95 else 0.0,
        "errors": sum(errors for _, errors, _ in results.values()),
        "database": kind,
        "database_url": redact(options.database_url) if options.database_url else "fresh SQLite file",
    }
    print(f"ratio search p95 / home p95: {summary['ratio']} (target <= 1.5)   "
          f"analytics p95 / home p95: {summary['analytics_ratio']} (target <= 3)   database: {kind}")
    print(json.dumps(summary))


if __name__ == "__main__":
    main()

"""Benchmark: concurrent bidders on a few hot auctions through the real server, against /healthz.

    .venv/bin/python bench/bids.py --bidders 32 [--database-url URL] [--seconds 10]
    .venv/bin/python bench/bids.py --bidders 32 --threads-sweep 2,4,8

Starts `python wsgi.py` (uvicorn: Flask through a2wsgi, the live stream, the scheduler) on a
fresh database, signs every bidder in through /dev-login (session cookie + CSRF token, the
same as a browser), then measures in the same run:

1. baseline: the same number of clients calling the trivial GET /healthz as fast as they can;
2. floor: the same signed-in htmx bid POST, refused before any bid work (an amount that is not
   a number): session, CSRF, the page read and the rendered fragment, without the bid
   transaction. What the web stack alone costs per bid request;
3. bids: each bidder posts htmx bids (full stack: session, CSRF, the bid transaction with
   its ledger hold, the rendered fragment) on a few hot English auctions, like a person
   after one item: on its own item while someone else leads it (on another while it
   leads), at the minimum next bid it last saw (every bid response shows it), or half the
   time with a proxy maximum 2-5 increments above. `accepted` counts every bid the server
   took (including a maximum the leader's proxy outbid at once); bids refused as too low
   (another bidder got in first) are counted apart.

`ceiling_ratio` is floor requests/s x the share of bids accepted / baseline: the ratio the
bids would reach if the bid transaction itself cost nothing, at the share of bids that win
the race. Afterwards it checks the books: the ledger invariants, one leader per auction holding
exactly its maximum, and every accepted bid recorded. Prints a table and, as its last
line, one JSON object.

`--threads-sweep 2,4,8` runs all of it once per WEB_THREADS value (a fresh database and
server each time, the same bidders), prints one row per value and ends with one JSON object
holding every run's figures under "sweep".
"""

from __future__ import annotations

import argparse
import io
import json
import multiprocessing
import os
import random
import re
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from auction.services.rules import default_increment  # noqa: E402  (the bidders' increment table)

MIN_NEXT = re.compile(r"data-min-next>([^<]*)<")
OWN_MAX = re.compile(r'class="form-note"[^>]*>[^<]*?: ([^<]*)</p>')
TOKEN = re.compile(r"hx-headers='\{\"X-CSRFToken\": \"([^\"]+)\"\}'")
STARS_EACH = 10**9


# --- set-up --------------------------------------------------------------------------


def fresh_database(url: str | None) -> tuple[str, callable]:
    """A database URL to use and a clean-up function: a new SQLite file or a new PostgreSQL schema."""
    if not url or url.startswith("sqlite"):
        folder = tempfile.mkdtemp(prefix="bench-bids-")
        return f"sqlite:///{folder}/bench.db", lambda: None
    from sqlalchemy import create_engine, text

    schema = f"bench_{secrets.token_hex(4)}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in url else "?"

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()

    return f"{url}{separator}options=-csearch_path%3D{schema}", drop


def server_env(database_url: str, port: int, web_threads: int | None = None) -> dict[str, str]:
    env = dict(os.environ)
    if web_threads is not None:
        env["WEB_THREADS"] = str(web_threads)
    env.update(
        DATABASE_URL=database_url,
        SECRET_KEY=secrets.token_hex(32),
        DEV_LOGIN="1",
        BOT_MODE="off",
        TELEGRAM_BOT_TOKEN="",
        BROKER_URL="",
        # The limiter's per-person budgets (30 bids a minute) would answer most of the load with
        # 429: the benchmark measures the bid path, so the limits are off in its server.
        RATELIMIT_ENABLED="0",
        PORT=str(port),
        BASE_URL=f"http://127.0.0.1:{port}",
    )
    return env


def seed(database_url: str, bidders: int, auctions: int) -> tuple[list[int], list[int]]:
    """Create the schema, the bidders (demo users with plenty of Stars) and the hot auctions."""
    from datetime import timedelta

    from PIL import Image

    from auction import create_app
    from auction.extensions import db
    from auction.services import ledger, listings
    from auction.services.users import TelegramProfile, upsert_telegram_user

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "x" * 40, "BOT_MODE": "off", "DEV_LOGIN": True,
                      # One seller lists every benchmark auction: no live-auction limit in the way.
                      "FREE_LIVE_AUCTIONS": 1_000_000})
    with app.app_context():
        db.create_all()
        users = []
        for i in range(bidders + 1):
            user = upsert_telegram_user(TelegramProfile(telegram_id=900_000_000 + i, first_name=f"Bidder{i}", last_name=None, username=None, language_code="en"))
            user.is_demo = True
            db.session.commit()
            users.append(user.id)
        seller, bidder_ids = users[0], users[1:]
        for user_id in bidder_ids:
            ledger.credit_sandbox(user_id, STARS_EACH)
        photo = io.BytesIO()
        Image.new("RGB", (32, 32), (10, 120, 200)).save(photo, "PNG")
        auction_ids = [
            listings.create_listing(
                seller,
                listings.ListingDraft(title=f"Hot item {n}", description="Benchmark", start_price=10, duration=timedelta(days=1), photos=[photo.getvalue()]),
            )
            for n in range(auctions)
        ]
        db.session.remove()
        db.engine.dispose()
    return bidder_ids, auction_ids


def start_server(database_url: str, web_threads: int | None = None) -> tuple[subprocess.Popen, str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log_path = Path(tempfile.mkdtemp(prefix="bench-bids-log-")) / "server.log"
    print(f"server log: {log_path}", flush=True)
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "wsgi.py")],
        cwd=ROOT,
        env=server_env(database_url, port, web_threads),
        stdout=open(log_path, "w"),  # noqa: SIM115  (kept open for the server's lifetime)
        stderr=subprocess.STDOUT,
    )
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(base_url + "/healthz", timeout=1).status_code == 200:
                return process, base_url
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("the server did not start within 30 s")


# --- clients (in worker processes) ---------------------------------------------------------


def sign_in(base_url: str, user_id: int) -> tuple[httpx.Client, str]:
    client = httpx.Client(base_url=base_url, timeout=30)
    token = TOKEN.search(client.get("/dev-login").text).group(1)
    response = client.post("/dev-login", data={"user_id": user_id, "csrf_token": token})
    if response.status_code not in (302, 303):
        raise RuntimeError(f"sign-in failed for user {user_id}: {response.status_code}")
    token = TOKEN.search(client.get("/").text).group(1)  # the signed-in session's token
    return client, token


def stars_value(text: str) -> int:
    return int(re.sub(r"\D", "", text) or 0)


def worker(args: tuple) -> dict:
    """Run one process's share of clients for one phase; returns counts and latencies."""
    phase, base_url, user_ids, auction_ids, start_at, seconds, seed_value = args
    results = {"requests": 0, "accepted": 0, "refused": 0, "errors": 0, "latencies": [], "accepted_by_auction": {}}
    lock = threading.Lock()
    sessions = []
    if phase in ("bids", "floor"):
        sessions = [sign_in(base_url, user_id) for user_id in user_ids]
    else:
        sessions = [(httpx.Client(base_url=base_url, timeout=30), "") for _ in user_ids]

    def run(client: httpx.Client, token: str, rng: random.Random, home: int) -> None:
        known_min = dict.fromkeys(auction_ids, 10)
        own_max = dict.fromkeys(auction_ids, 0)  # our proxy maximum where we lead
        local = {"requests": 0, "accepted": 0, "refused": 0, "errors": 0, "latencies": [], "by_auction": {}}
        while time.time() < start_at:
            time.sleep(0.005)
        end = start_at + seconds
        while time.time() < end:
            began = time.perf_counter()
            try:
                if phase == "baseline":
                    ok = client.get("/healthz").status_code == 200
                    local["requests"] += 1
                    local["errors"] += not ok
                elif phase == "floor":
                    response = client.post(
                        f"/auctions/{home}/bids",
                        data={"amount": "many"},
                        headers={"HX-Request": "true", "X-CSRFToken": token},
                    )
                    local["requests"] += 1
                    local["errors"] += response.status_code != 200 or 'id="bid-error"' not in response.text
                else:
                    # Like a person after one item: bid on it while someone else leads (elsewhere
                    # while we lead it), at the minimum next bid we last saw, or half the time
                    # with a proxy maximum a few increments above it.
                    trailing = [a for a in auction_ids if not own_max[a]]
                    auction_id = home if home in trailing else rng.choice(trailing or auction_ids)
                    amount = known_min[auction_id]
                    form = {"amount": str(amount)}
                    if own_max[auction_id]:  # we lead everywhere: raise our own maximum
                        form["max_amount"] = str(own_max[auction_id] + default_increment(own_max[auction_id]))
                    elif rng.random() < 0.5:
                        form["max_amount"] = str(amount + rng.randint(2, 5) * default_increment(amount))
                    response = client.post(
                        f"/auctions/{auction_id}/bids",
                        data=form,
                        headers={"HX-Request": "true", "X-CSRFToken": token},
                    )
                    local["requests"] += 1
                    body = response.text
                    if response.status_code != 200:
                        local["errors"] += 1
                    elif 'id="bid-error"' in body:
                        local["refused"] += 1
                        if os.environ.get("BENCH_DEBUG"):
                            print(amount, re.search(r'id="bid-error"[^>]*>([^<]*)', body).group(1), flush=True)
                    else:
                        local["accepted"] += 1
                        local["by_auction"][auction_id] = local["by_auction"].get(auction_id, 0) + 1
                    leading = OWN_MAX.search(body)
                    own_max[auction_id] = stars_value(leading.group(1)) if leading else 0
                    found = MIN_NEXT.search(body)
                    if found:
                        known_min[auction_id] = max(known_min[auction_id], stars_value(found.group(1)))
            except httpx.HTTPError:
                local["errors"] += 1
            local["latencies"].append((time.perf_counter() - began) * 1000)
        with lock:
            for key in ("requests", "accepted", "refused", "errors"):
                results[key] += local[key]
            results["latencies"].extend(local["latencies"])
            for auction_id, count in local["by_auction"].items():
                results["accepted_by_auction"][auction_id] = results["accepted_by_auction"].get(auction_id, 0) + count

    threads = [
        threading.Thread(target=run, args=(client, token, random.Random(seed_value * 1000 + i), auction_ids[user_id % len(auction_ids)]))
        for i, ((client, token), user_id) in enumerate(zip(sessions, user_ids, strict=True))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for client, _ in sessions:
        client.close()
    return results


def run_phase(phase: str, base_url: str, user_ids: list[int], auction_ids: list[int], seconds: float, processes: int) -> dict:
    chunks = [user_ids[i::processes] for i in range(processes)]
    # Time for every process to start (spawned: it imports the app) and for every sign-in; on a
    # busy machine 3 s was too little and a short phase measured nothing.
    start_at = time.time() + 10 + len(user_ids) * (0.05 if phase != "baseline" else 0)
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(processes) as pool:
        parts = pool.map(worker, [(phase, base_url, chunk, auction_ids, start_at, seconds, n) for n, chunk in enumerate(chunks) if chunk])
    total = {"requests": 0, "accepted": 0, "refused": 0, "errors": 0, "latencies": [], "accepted_by_auction": {}}
    for part in parts:
        for key in ("requests", "accepted", "refused", "errors"):
            total[key] += part[key]
        total["latencies"].extend(part["latencies"])
        for auction_id, count in part["accepted_by_auction"].items():
            total["accepted_by_auction"][auction_id] = total["accepted_by_auction"].get(auction_id, 0) + count
    return total


# --- the books afterwards ------------------------------------------------------------------


def violations(database_url: str, auction_ids: list[int], accepted_by_auction: dict) -> list[str]:
    from sqlalchemy import func, select

    from auction import create_app
    from auction.extensions import db
    from auction.models import Auction, Bid, Hold
    from auction.services.auction_lock import leader_max
    from auction.services.ledger_check import check_invariants

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "x" * 40, "BOT_MODE": "off", "DEV_LOGIN": True})
    problems: list[str] = []
    with app.app_context():
        problems += check_invariants()
        for auction_id in auction_ids:
            auction = db.session.get(Auction, auction_id)
            holds = dict(db.session.execute(select(Hold.user_id, Hold.amount).where(Hold.auction_id == auction_id, Hold.status == "active")).all())
            expected = {auction.leading_bidder_id: leader_max(auction)} if auction.leading_bidder_id else {}
            if holds != expected:
                problems.append(f"auction {auction_id}: active holds {holds} != leader's maximum {expected}")
            recorded = db.session.scalar(select(func.count()).where(Bid.auction_id == auction_id, Bid.is_automatic.is_(False)))
            if recorded != accepted_by_auction.get(auction_id, 0):
                problems.append(f"auction {auction_id}: {recorded} bids recorded, {accepted_by_auction.get(auction_id, 0)} accepted")
        db.session.remove()
        db.engine.dispose()
    return problems


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(pct / 100 * (len(ordered) - 1))))]


def redact(url: str) -> str:
    parts = urlsplit(url)
    netloc = parts.hostname or ""
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def measure(options, web_threads: int | None = None) -> tuple[dict, dict, dict, dict, list[str]]:
    """One full run (fresh database, server, three phases, the books); returns the summary, the phases and the problems."""
    database_url, cleanup = fresh_database(options.database_url)
    kind = "postgresql" if database_url.startswith("postgresql") else "sqlite"
    server = None
    try:
        bidder_ids, auction_ids = seed(database_url, options.bidders, options.auctions)
        server, base_url = start_server(database_url, web_threads)
        processes = max(1, min(options.processes, options.bidders))
        baseline = run_phase("baseline", base_url, bidder_ids, auction_ids, options.seconds, processes)
        floor = run_phase("floor", base_url, bidder_ids, auction_ids, options.seconds, processes)
        bids = run_phase("bids", base_url, bidder_ids, auction_ids, options.seconds, processes)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
    problems = violations(database_url, auction_ids, bids["accepted_by_auction"])
    cleanup()

    baseline_rps = baseline["requests"] / options.seconds
    accepted_per_s = bids["accepted"] / options.seconds
    floor_rps = floor["requests"] / options.seconds
    accepted_share = bids["accepted"] / bids["requests"] if bids["requests"] else 0.0
    summary = {
        "bidders": options.bidders,
        "seconds": options.seconds,
        "auctions": options.auctions,
        "web_threads": web_threads,
        "accepted_bids_per_s": round(accepted_per_s, 1),
        "bid_requests_per_s": round(bids["requests"] / options.seconds, 1),
        "refused_bids": bids["refused"],
        "accepted_share": round(accepted_share, 3),
        "errors": bids["errors"] + baseline["errors"] + floor["errors"],
        "baseline_rps": round(baseline_rps, 1),
        "floor_rps": round(floor_rps, 1),
        "ratio": round(accepted_per_s / baseline_rps, 3) if baseline_rps else 0.0,
        "ceiling_ratio": round(floor_rps * accepted_share / baseline_rps, 3) if baseline_rps else 0.0,
        "p50_ms": round(percentile(bids["latencies"], 50), 1),
        "p99_ms": round(percentile(bids["latencies"], 99), 1),
        "baseline_p50_ms": round(percentile(baseline["latencies"], 50), 1),
        "baseline_p99_ms": round(percentile(baseline["latencies"], 99), 1),
        "floor_p50_ms": round(percentile(floor["latencies"], 50), 1),
        "floor_p99_ms": round(percentile(floor["latencies"], 99), 1),
        "invariant_violations": len(problems),
        "database": kind,
        "database_url": redact(options.database_url) if options.database_url else "fresh SQLite file",
    }
    return summary, baseline, floor, bids, problems


def print_run(summary: dict, baseline: dict, floor: dict, bids: dict, problems: list[str]) -> None:
    seconds = summary["seconds"]
    print(f"{'':24}{'baseline /healthz':>20}{'floor (no bid work)':>22}{'bids':>14}")
    print(f"{'requests/s':24}{summary['baseline_rps']:>20.1f}{summary['floor_rps']:>22.1f}{bids['requests'] / seconds:>14.1f}")
    print(f"{'accepted bids/s':24}{'':>20}{'':>22}{summary['accepted_bids_per_s']:>14.1f}")
    print(f"{'refused (too low)':24}{'':>20}{'':>22}{bids['refused']:>14}")
    print(f"{'errors':24}{baseline['errors']:>20}{floor['errors']:>22}{bids['errors']:>14}")
    print(f"{'p50 ms':24}{summary['baseline_p50_ms']:>20}{summary['floor_p50_ms']:>22}{summary['p50_ms']:>14}")
    print(f"{'p99 ms':24}{summary['baseline_p99_ms']:>20}{summary['floor_p99_ms']:>22}{summary['p99_ms']:>14}")
    print(
        f"ratio accepted/baseline: {summary['ratio']}   ceiling (free bid transaction, {summary['accepted_share']:.0%} accepted): "
        f"{summary['ceiling_ratio']}   invariant violations: {len(problems)}   database: {summary['database']}"
    )
    for problem in problems[:20]:
        print("  !", problem)


def print_sweep(runs: list[dict]) -> None:
    print(f"{'WEB_THREADS':>12}{'/healthz rps':>14}{'floor rps':>11}{'bid req/s':>11}{'accepted/s':>12}{'bids/floor':>12}{'p50 ms':>9}{'p99 ms':>9}{'violations':>12}")
    for run in runs:
        per_floor = run["bid_requests_per_s"] / run["floor_rps"] if run["floor_rps"] else 0.0
        print(
            f"{run['web_threads']:>12}{run['baseline_rps']:>14.1f}{run['floor_rps']:>11.1f}{run['bid_requests_per_s']:>11.1f}"
            f"{run['accepted_bids_per_s']:>12.1f}{per_floor:>12.2f}{run['p50_ms']:>9}{run['p99_ms']:>9}{run['invariant_violations']:>12}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bidders", type=int, default=32)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--auctions", type=int, default=4)
    parser.add_argument("--processes", type=int, default=4, help="client processes (threads share the bidders)")
    parser.add_argument("--threads-sweep", default="", help="comma-separated WEB_THREADS values, one full run each (e.g. 2,4,8)")
    options = parser.parse_args()

    if options.threads_sweep:
        values = [int(value) for value in options.threads_sweep.split(",") if value.strip()]
        runs = []
        for web_threads in values:
            print(f"--- WEB_THREADS={web_threads}", flush=True)
            summary, baseline, floor, bids, problems = measure(options, web_threads)
            print_run(summary, baseline, floor, bids, problems)
            runs.append(summary)
        print()
        print_sweep(runs)
        print(json.dumps({"bidders": options.bidders, "seconds": options.seconds, "sweep": runs}))
        return
    summary, baseline, floor, bids, problems = measure(options)
    print_run(summary, baseline, floor, bids, problems)
    print(json.dumps(summary))


if __name__ == "__main__":
    main()

#!/usr/bin/env python
"""SSE fan-out: N pages watch one auction while real bids arrive at a steady rate.

    .venv/bin/python bench/sse_fanout.py --watchers 2000 [--events 100] [--rate 2]
    .venv/bin/python bench/sse_fanout.py --watchers 10000 --events 10 --rate 2

It prepares a fresh database (default: a new SQLite file; --database-url for another),
starts the server exactly as `python wsgi.py` does in a subprocess, and opens the watchers
in a second process (asyncio, raw sockets; spread over 127.0.x.y source addresses so the
server's per-client limit stays at its production default). Events come from production
code only: two bidders outbid each other through POST /auctions/<id>/bids, and each bid
commits and publishes `bid_placed` to the auction's channel.

Latency is measured per event from the moment the bid request returned (the event was
committed and published before the response) to the moment the LAST watcher read it; the
"from request start" column bounds it from above.

In the same run (unless --no-baseline) the same watchers then read the same number of
events at the same rate, each of the same size as the server's, from a minimal asyncio
broadcaster that writes every event straight to each connection's transport; the figures
get its p50/p99 and CPU per delivery, and the ratios of the server's to it (targets at
2,000 watchers: p99 <= 1.5x, CPU per delivery <= 3x). Ends with one JSON line of the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import resource
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PER_SOURCE_ADDRESS = 40  # under the server's default LIVE_MAX_CONNECTIONS_PER_CLIENT (50)


def raise_open_files_limit() -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# ---------------------------------------------------------------------------------------------
# The watchers' process: `sse_fanout.py --watch PORT PATH N CHANNEL`
# ---------------------------------------------------------------------------------------------


class Watcher(asyncio.Protocol):
    """One page's EventSource, reduced to what the benchmark needs: which event arrived when."""

    def __init__(self, request: bytes, pattern: re.Pattern, arrivals: dict, ready: asyncio.Future) -> None:
        self.request = request
        self.pattern = pattern
        self.arrivals = arrivals
        self.ready = ready
        self.tail = b""
        self.last = 0
        self.transport = None
        self.bytes_after_ready = 0

    def connection_made(self, transport) -> None:
        self.transport = transport
        transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        now = time.monotonic()
        text = self.tail + data
        if self.ready.done():
            self.bytes_after_ready += len(data)
        else:
            if b": connected" in text:
                self.ready.set_result(True)
            elif text.startswith(b"HTTP/1.1 ") and not text.startswith(b"HTTP/1.1 200"):
                self.ready.set_exception(RuntimeError(text[:200].decode(errors="replace")))
                return
        for match in self.pattern.finditer(text):
            event_id = int(match.group(1))
            if event_id > self.last:
                self.last = event_id
                seen = self.arrivals.get(event_id)
                if seen is None:
                    self.arrivals[event_id] = [1, now]
                else:
                    seen[0] += 1
                    seen[1] = now
        cut = text.rfind(b"\n")
        self.tail = text[cut + 1 :] if cut >= 0 else text[-512:]

    def connection_lost(self, exc) -> None:
        if not self.ready.done():
            self.ready.set_exception(ConnectionError(f"closed before the stream started: {exc}"))


async def watch(port: int, path: str, count: int, channel: str) -> None:
    loop = asyncio.get_running_loop()
    request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAccept: text/event-stream\r\nAccept-Language: en\r\n\r\n".encode()
    pattern = re.compile(rb"\nid: [^\n]*" + re.escape(channel.encode()) + rb"=(\d+)")
    arrivals: dict[int, list] = {}
    opening = asyncio.Semaphore(256)
    transports = []
    watchers: list[Watcher] = []

    async def open_one(n: int) -> None:
        source = n // PER_SOURCE_ADDRESS
        address = f"127.0.{1 + source // 250}.{1 + source % 250}"
        ready = loop.create_future()
        async with opening:
            transport, watcher = await loop.create_connection(
                lambda: Watcher(request, pattern, arrivals, ready), "127.0.0.1", port, local_addr=(address, 0)
            )
            transports.append(transport)
            watchers.append(watcher)
            await asyncio.wait_for(ready, timeout=60)

    started = time.monotonic()
    await asyncio.gather(*(open_one(n) for n in range(count)))
    print(json.dumps({"ready": count, "seconds": round(time.monotonic() - started, 2)}), flush=True)
    await loop.run_in_executor(None, sys.stdin.readline)  # the publisher says when it is done
    received = sum(watcher.bytes_after_ready for watcher in watchers)
    print(json.dumps({"arrivals": {str(k): v for k, v in arrivals.items()}, "bytes": received}), flush=True)
    for transport in transports:
        transport.close()


# ---------------------------------------------------------------------------------------------
# The baseline: `sse_fanout.py --baseline-serve PORT BYTES`, a minimal asyncio broadcaster
# ---------------------------------------------------------------------------------------------

BASELINE_HEADERS = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-store\r\n\r\n: connected\n\n"


class Listener(asyncio.Protocol):
    """One watcher's connection to the baseline: answered once, then only written to."""

    def __init__(self, connections: set) -> None:
        self.connections = connections
        self.transport = None
        self.answered = False

    def connection_made(self, transport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        if not self.answered and b"\r\n\r\n" in data:
            self.answered = True
            self.transport.write(BASELINE_HEADERS)
            self.connections.add(self.transport)

    def connection_lost(self, exc) -> None:
        self.connections.discard(self.transport)


async def baseline_serve(port: int, size: int, channel: str) -> None:
    """What the product's fan-out is measured against: the same bytes per event written straight
    to each connection's transport, no broker, no rendering, no framework. A line on stdin
    publishes event N; the ack goes out on stdout before the writes, as a bid's response returns
    before its fan-out."""
    loop = asyncio.get_running_loop()
    connections: set = set()
    server = await loop.create_server(lambda: Listener(connections), "127.0.0.1", port, backlog=4096)
    print(json.dumps({"listening": port}), flush=True)
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while line := await reader.readline():
        event_id = int(line)
        head = f"event: bid_placed\nid: {channel}={event_id}\ndata: ".encode()
        message = head + b"x" * max(0, size - len(head) - 2) + b"\n\n"
        sys.stdout.write(f"{event_id}\n")
        sys.stdout.flush()
        for transport in list(connections):
            transport.write(message)
    server.close()


# ---------------------------------------------------------------------------------------------
# The driver: database, server, watchers, bids, figures
# ---------------------------------------------------------------------------------------------


def prepare(database_url: str, secret: str):
    """Migrate the database and create a seller, two funded bidders and one live auction; returns them and the app."""
    sys.path.insert(0, str(ROOT))
    from flask_migrate import upgrade

    from auction import create_app
    from auction.extensions import db
    from auction.services.demo import demo_photo
    from auction.services.ledger import credit_sandbox
    from auction.services.listings import ListingDraft, create_listing
    from auction.services.users import TelegramProfile, upsert_telegram_user

    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": secret, "TELEGRAM_BOT_TOKEN": "", "BOT_MODE": "off"}
    )
    with app.app_context():
        upgrade()
        base = 900_000_000 + secrets.randbelow(1_000_000) * 10
        seller = upsert_telegram_user(TelegramProfile(telegram_id=base, first_name="Bench seller")).id
        bidders = [upsert_telegram_user(TelegramProfile(telegram_id=base + n, first_name=f"Bidder {n}")).id for n in (1, 2)]
        for bidder in bidders:
            credit_sandbox(bidder, 50_000_000)
        draft = ListingDraft(
            title="Benchmark brass lamp",
            description="Watched by many pages at once.",
            start_price=10,
            duration=timedelta(days=2),
            photos=[demo_photo("Lamp", 7)],
        )
        auction_id = create_listing(seller, draft)
        db.session.remove()
    return auction_id, bidders, app


def signed_in_client(app, base_url: str, user_id: int):
    """An HTTP client holding the session cookie Flask issues to `user_id`, and its CSRF token."""
    import httpx
    from bs4 import BeautifulSoup

    from auction.extensions import db
    from auction.models import User

    test_client = app.test_client()
    with app.app_context():
        session_id = db.session.get(User, user_id).get_id()
    with test_client.session_transaction() as session:
        session["_user_id"] = session_id
        session["_fresh"] = True
    # The page hands htmx its CSRF token; the session cookie of that response carries the secret.
    body = BeautifulSoup(test_client.get("/").get_data(as_text=True), "html.parser").body
    token = json.loads(body["hx-headers"])["X-CSRFToken"]
    cookie = test_client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value
    client = httpx.Client(base_url=base_url, timeout=30, headers={"X-CSRFToken": token})
    client.cookies.set(app.config["SESSION_COOKIE_NAME"], cookie)
    return client


def start_server(port: int, database_url: str, secret: str, broker_url: str, namespace: str, log_path: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "PORT": str(port),
        "DATABASE_URL": database_url,
        "SECRET_KEY": secret,
        "DEV_LOGIN": "0",
        "TELEGRAM_BOT_TOKEN": "",
        "BOT_MODE": "off",
        "BROKER_URL": broker_url,
        "BROKER_NAMESPACE": namespace,
        "BASE_URL": f"http://127.0.0.1:{port}",
    }
    log = open(log_path, "w")  # noqa: SIM115  (kept open for the server's lifetime)
    return subprocess.Popen(
        [sys.executable, "wsgi.py"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, preexec_fn=raise_open_files_limit
    )


def wait_healthy(base_url: str, server: subprocess.Popen, log_path: Path) -> None:
    import httpx

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"the server exited:\n{log_path.read_text()}")
        try:
            if httpx.get(f"{base_url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    sys.exit("the server did not come up in 60 s")


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


def run(args) -> dict:
    raise_open_files_limit()
    workdir = Path(tempfile.mkdtemp(prefix="sse-fanout-"))
    database_url = args.database_url or f"sqlite:///{workdir / 'bench.db'}"
    secret = secrets.token_hex(32)
    auction_id, bidders, app = prepare(database_url, secret)
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    log_path = workdir / "server.log"
    namespace = f"bench-{secrets.token_hex(4)}"  # this run's own Redis keys, removed at the end
    server = start_server(port, database_url, secret, args.broker_url, namespace, log_path)
    watchers = None
    try:
        wait_healthy(base_url, server, log_path)
        channel = f"auction:{auction_id}"
        watchers, ready = open_watchers(port, f"/events?channels={channel}", args.watchers, channel, f"server log: {log_path}")
        time.sleep(1)
        rss_holding = rss_mb(server.pid)
        print(f"{args.watchers} watchers connected in {ready['seconds']} s; server RSS {rss_holding:.0f} MB", flush=True)

        from auction.services.rules import increment_for

        clients = [signed_in_client(app, base_url, bidder) for bidder in bidders]
        amounts = [10]

        def bid(n: int) -> None:
            response = clients[n % 2].post(f"/auctions/{auction_id}/bids", data={"amount": str(amounts[-1])})
            if response.status_code != 303:
                sys.exit(f"bid {n + 1} was refused ({response.status_code}): {response.text[:300]}")
            amounts.append(amounts[-1] + 2 * increment_for(amounts[-1]))

        cpu_before = cpu_seconds(server.pid)
        began = time.monotonic()
        sent = publish_at_rate(args.events, args.rate, bid)
        publish_seconds = time.monotonic() - began

        deadline = time.monotonic() + args.settle
        while time.monotonic() < deadline:
            time.sleep(0.2)
        rss_after = rss_mb(server.pid)
        server_cpu = cpu_seconds(server.pid) - cpu_before

        stopping = time.monotonic()
        server.send_signal(signal.SIGTERM)  # with every stream still open: shutdown must not hang
        server_exit = server.wait(timeout=30)
        shutdown_seconds = time.monotonic() - stopping
        arrivals, received = close_watchers(watchers)
    finally:
        for process in (watchers, server):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait()
        if args.broker_url:
            import redis

            client = redis.Redis.from_url(args.broker_url)
            keys = list(client.scan_iter(f"{namespace}:*"))
            if keys:
                client.delete(*keys)

    latencies, upper, delivered = fan_out_latencies(sent, arrivals)
    request_ms = [(returned - start) * 1000 for start, returned in sent]
    figures = {
        "watchers": args.watchers,
        "events": args.events,
        "rate_per_s": round(args.events / publish_seconds, 2) if publish_seconds else 0,
        "delivered_ratio": round(delivered / (args.watchers * args.events), 6) if args.events else 1.0,
        "p50_ms": round(statistics.median(latencies), 1) if latencies else None,
        "p99_ms": round(percentile(latencies, 0.99), 1) if latencies else None,
        "max_ms": round(max(latencies), 1) if latencies else None,
        "events_over_200ms": sum(1 for latency in latencies if latency > 200),
        "p99_from_request_start_ms": round(percentile(upper, 0.99), 1) if upper else None,
        "bid_request_p50_ms": round(statistics.median(request_ms), 1) if request_ms else None,
        "server_cpu_us_per_delivery": round(server_cpu * 1e6 / max(1, delivered), 1),
        "load_average_1m": os.getloadavg()[0],
        "server_rss_mb": round(max(rss_holding, rss_after), 1),
        "server_rss_holding_mb": round(rss_holding, 1),
        "connect_seconds": ready["seconds"],
        "shutdown_seconds": round(shutdown_seconds, 2),
        "server_exit_code": server_exit,
        "broker": "redis" if args.broker_url else "memory",
        "database": database_url.split(":", 1)[0],
        "bytes_per_event": round(received / max(1, delivered)),
    }
    if args.baseline:
        baseline = run_baseline(args, channel, figures["bytes_per_event"])
        figures["baseline"] = baseline
        figures["ratio_p99"] = round(figures["p99_ms"] / baseline["p99_ms"], 2) if figures["p99_ms"] and baseline["p99_ms"] else None
        figures["ratio_p50"] = round(figures["p50_ms"] / baseline["p50_ms"], 2) if figures["p50_ms"] and baseline["p50_ms"] else None
        figures["ratio_cpu_per_delivery"] = (
            round(figures["server_cpu_us_per_delivery"] / baseline["server_cpu_us_per_delivery"], 2)
            if baseline["server_cpu_us_per_delivery"] else None
        )
    return figures


def open_watchers(port: int, path: str, count: int, channel: str, where: str) -> tuple[subprocess.Popen, dict]:
    """The watchers' process, once every one of its `count` streams is open."""
    watchers = subprocess.Popen(
        [sys.executable, __file__, "--watch", str(port), path, str(count), channel],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        preexec_fn=raise_open_files_limit,
    )
    ready = json.loads(watchers.stdout.readline() or "{}")
    if ready.get("ready") != count:
        watchers.kill()
        sys.exit(f"the watchers did not all connect: {ready}; {where}")
    return watchers, ready


def close_watchers(watchers: subprocess.Popen) -> tuple[dict[int, list], int]:
    """Tell the watchers the run is over; returns when each event reached how many (and the last one), and the bytes read."""
    watchers.stdin.write("done\n")
    watchers.stdin.flush()
    report = json.loads(watchers.stdout.readline())
    watchers.wait(timeout=60)
    return {int(k): v for k, v in report["arrivals"].items()}, report["bytes"]


def publish_at_rate(events: int, rate: float, publish) -> list[tuple[float, float]]:
    """Call `publish(n)` for n in 0..events-1 at `rate` per second; returns (start, returned) per event, in id order."""
    sent = []
    began = time.monotonic()
    for n in range(events):
        time.sleep(max(0.0, began + n / rate - time.monotonic()))
        start = time.monotonic()
        publish(n)
        sent.append((start, time.monotonic()))
    return sent


def fan_out_latencies(sent: list[tuple[float, float]], arrivals: dict[int, list]) -> tuple[list[float], list[float], int]:
    """Per event (ids 1..N): publish -> last watcher and request start -> last watcher (ms), and deliveries in all."""
    latencies, upper, delivered = [], [], 0
    for event_id, (start, returned) in enumerate(sent, start=1):
        count, last_seen = arrivals.get(event_id, (0, None))
        delivered += count
        if last_seen is not None:
            latencies.append(max(0.0, last_seen - returned) * 1000)
            upper.append((last_seen - start) * 1000)
    return latencies, upper, delivered


def run_baseline(args, channel: str, size: int) -> dict:
    """The same watchers, events, rate and bytes per event through `baseline_serve`, measured the same way."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, __file__, "--baseline-serve", str(port), str(size), channel],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        preexec_fn=raise_open_files_limit,
    )
    watchers = None
    try:
        json.loads(server.stdout.readline())
        watchers, _ = open_watchers(port, f"/events?channels={channel}", args.watchers, channel, "baseline")
        time.sleep(1)
        rss_holding = rss_mb(server.pid)

        def publish(n: int) -> None:
            server.stdin.write(f"{n + 1}\n")
            server.stdin.flush()
            server.stdout.readline()  # the ack: published, the writes follow

        cpu_before = cpu_seconds(server.pid)
        sent = publish_at_rate(args.events, args.rate, publish)
        time.sleep(args.settle)
        server_cpu = cpu_seconds(server.pid) - cpu_before
        arrivals, _ = close_watchers(watchers)
    finally:
        for process in (watchers, server):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait()
    latencies, _, delivered = fan_out_latencies(sent, arrivals)
    return {
        "delivered_ratio": round(delivered / (args.watchers * args.events), 6) if args.events else 1.0,
        "p50_ms": round(statistics.median(latencies), 1) if latencies else None,
        "p99_ms": round(percentile(latencies, 0.99), 1) if latencies else None,
        "server_cpu_us_per_delivery": round(server_cpu * 1e6 / max(1, delivered), 1),
        "server_rss_holding_mb": round(rss_holding, 1),
    }


def print_table(figures: dict) -> None:
    rows = [
        ("watchers (open SSE connections)", figures["watchers"]),
        ("events (real bids over HTTP)", figures["events"]),
        ("publish rate, events/s", figures["rate_per_s"]),
        ("delivered ratio", figures["delivered_ratio"]),
        ("publish -> last watcher p50, ms", figures["p50_ms"]),
        ("publish -> last watcher p99, ms", figures["p99_ms"]),
        ("publish -> last watcher max, ms", figures["max_ms"]),
        ("events reaching the last watcher after 200 ms", figures["events_over_200ms"]),
        ("request start -> last watcher p99, ms", figures["p99_from_request_start_ms"]),
        ("bid request p50, ms", figures["bid_request_p50_ms"]),
        ("server CPU per delivered event, us", figures["server_cpu_us_per_delivery"]),
        ("machine load average (1 min)", figures["load_average_1m"]),
        ("server RSS while holding, MB", figures["server_rss_holding_mb"]),
        ("server RSS peak seen, MB", figures["server_rss_mb"]),
        ("watchers connected in, s", figures["connect_seconds"]),
        ("SIGTERM -> exit with streams open, s", figures["shutdown_seconds"]),
        ("server exit code", figures["server_exit_code"]),
        ("broker / database", f"{figures['broker']} / {figures['database']}"),
        ("bytes per event per watcher", figures["bytes_per_event"]),
    ]
    if "baseline" in figures:
        baseline = figures["baseline"]
        rows += [
            ("baseline (asyncio, straight to the transports) p50, ms", baseline["p50_ms"]),
            ("baseline p99, ms", baseline["p99_ms"]),
            ("baseline CPU per delivered event, us", baseline["server_cpu_us_per_delivery"]),
            ("baseline RSS while holding, MB", baseline["server_rss_holding_mb"]),
            ("baseline delivered ratio", baseline["delivered_ratio"]),
            ("ratio p50 (server / baseline)", figures["ratio_p50"]),
            ("ratio p99 (target <= 1.5)", figures["ratio_p99"]),
            ("ratio CPU per delivery (target <= 3)", figures["ratio_cpu_per_delivery"]),
        ]
    width = max(len(label) for label, _ in rows)
    print()
    for label, value in rows:
        print(f"  {label:<{width}}  {value}")
    print()


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--baseline-serve":
        port, size, channel = sys.argv[2:5]
        raise_open_files_limit()
        asyncio.run(baseline_serve(int(port), int(size), channel))
        return
    if len(sys.argv) > 1 and sys.argv[1] == "--watch":
        port, path, count, channel = sys.argv[2:6]
        raise_open_files_limit()
        asyncio.run(watch(int(port), path, int(count), channel))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--watchers", type=int, default=2000)
    parser.add_argument("--events", type=int, default=100)
    parser.add_argument("--rate", type=float, default=2.0, help="bids per second (a very busy auction)")
    parser.add_argument("--database-url", default="", help="default: a fresh SQLite file")
    parser.add_argument("--broker-url", default="", help="default: the in-process broker; redis://... for Redis")
    parser.add_argument("--settle", type=float, default=3.0, help="seconds to wait for the last deliveries")
    parser.add_argument(
        "--baseline", action=argparse.BooleanOptionalAction, default=True,
        help="also run the same load through a minimal asyncio broadcaster and report the ratios",
    )
    args = parser.parse_args()
    figures = run(args)
    print_table(figures)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()

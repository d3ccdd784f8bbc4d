"""The process: pages and the stream from one server, jobs catching up on start, a clean stop."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta

import httpx
from bs4 import BeautifulSoup
from sqlalchemy import update

from auction.extensions import db
from auction.models import Auction, utcnow
from auction.runtime import bind
from tests.live.test_live_stream import session_cookie, wait_for
from tests.support.bidding_helpers import new_auction
from tests.support.servers import SSEClient, run_server


def page(response: httpx.Response) -> BeautifulSoup:
    return BeautifulSoup(response.text, "html.parser")


ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_one_server_answers_pages_health_and_the_live_stream(app, make_user, live_server):
    assert httpx.get(f"{live_server}/healthz").json() == {"status": "ok"}
    assert page(httpx.get(f"{live_server}/login")).select_one("[sse-connect]") is None  # nothing live to follow

    seller = make_user("Sam")
    auction_id = new_auction(app, seller, listed=True)
    cookie = {"Cookie": f"session={session_cookie(app, seller)}"}
    auction_page = httpx.get(f"{live_server}/auctions/{auction_id}", headers=cookie)
    assert auction_page.status_code == 200
    connections = page(auction_page).select("[sse-connect]")
    assert len(connections) == 1  # one stream per page
    assert connections[0]["hx-ext"] == "sse"
    assert connections[0]["sse-connect"].startswith(f"/events?channels=auction:{auction_id},user:{seller}&since=")
    assert page(auction_page).select(f"#live [sse-swap='auction-{auction_id}-price']")
    with SSEClient(live_server + connections[0]["sse-connect"], headers=cookie) as stream:
        assert stream.response.status_code == 200


def test_auctions_that_ended_while_the_server_was_down_are_closed_at_start(make_app, make_user):
    app = make_app(SCHEDULER_ENABLED=True)
    auction_id = new_auction(app, make_user("Sam"), listed=True)
    with app.app_context():
        # The process was down when this auction's time ran out.
        past = utcnow() - timedelta(hours=3)
        db.session.execute(
            update(Auction).where(Auction.id == auction_id).values(starts_at=past, ends_at=past + timedelta(hours=1))
        )
        db.session.commit()

    def status() -> str:
        with app.app_context():
            db.session.expire_all()
            return db.session.get(Auction, auction_id).status

    assert status() == "live"
    with run_server(app):
        wait_for(lambda: status() == "ended", timeout=10)


def test_open_streams_do_not_hold_up_shutdown(app, make_user):
    started = None
    with run_server(app) as base_url:
        streams = [SSEClient(f"{base_url}/events?channels=listings") for _ in range(3)]
        for stream in streams:
            wait_for(lambda stream=stream: "connected" in stream.comments)
        started = time.monotonic()
    assert time.monotonic() - started < 5  # uvicorn would wait 10 s (its graceful timeout) for open streams
    for stream in streams:
        assert stream.next(timeout=1) is None  # the server ended the stream; the page will reconnect
        stream.close()


def test_sigterm_stops_python_wsgi_py_cleanly(app, database_url):
    sock = bind()
    port = sock.getsockname()[1]
    sock.close()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "PORT": str(port),
        "SECRET_KEY": "runtime-test-" + "k" * 40,
        "DEV_LOGIN": "0",
        "TELEGRAM_BOT_TOKEN": "",
        "BOT_MODE": "off",
        "BROKER_URL": "",
    }
    process = subprocess.Popen(
        [sys.executable, "wsgi.py"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        base_url = f"http://127.0.0.1:{port}"

        def healthy() -> bool:
            try:
                return httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200
            except httpx.HTTPError:
                assert process.poll() is None, process.stdout.read()
                return False

        wait_for(healthy, timeout=20)
        with SSEClient(f"{base_url}/events?channels=listings") as stream:
            wait_for(lambda: "connected" in stream.comments)
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=8) == 0  # under uvicorn's 10 s graceful timeout: streams closed at once
            assert stream.next(timeout=2) is None
        output = process.stdout.read()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert f"Bot-Auction is running at http://127.0.0.1:{port}" in output
    for component in ("web:", "live stream:", "bot: off", "scheduler:", "broker: memory"):
        assert component in output, f"no start-up line for {component!r}:\n{output}"
    assert "stopped: streams closed" in output

"""GET /events over real HTTP against the real server: delivery, resume, privacy, limits, rendering."""

from __future__ import annotations

import queue
import time

import httpx
import pytest

from auction.live import live_url, renderers_of
from auction.services.ledger import credit_sandbox
from auction.services.users import end_all_sessions
from auction.web import live_fragments
from tests.conftest import sign_in
from tests.support.bidding_helpers import new_auction
from tests.support.servers import SSEClient, run_server

REDIS_URL = "redis://127.0.0.1:6379/15"


@pytest.fixture(autouse=True)
def listings_go_out_as_json(monkeypatch):
    """These tests look at the transport with `auction_created`: sent as its JSON, as an event without a renderer.

    Lifted from the table create_app copies, so every app these tests build goes without it.
    """
    monkeypatch.delitem(live_fragments.RENDERERS, "auction_created", raising=False)


def wait_for(condition, timeout: float = 5) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def session_cookie(app, user_id: int) -> str:
    """The signed session cookie Flask gives this user after signing in."""
    client = app.test_client()
    sign_in(client, user_id)
    return client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value


def test_a_committed_listing_reaches_an_open_stream(app, make_user, live_server):
    seller = make_user("Sam")
    with SSEClient(f"{live_server}/events?channels=listings") as stream:
        assert stream.response.status_code == 200
        assert stream.response.headers["content-type"].startswith("text/event-stream")
        assert stream.response.headers["cache-control"] == "no-cache"
        assert stream.response.headers["x-accel-buffering"] == "no"
        assert "content-encoding" not in stream.response.headers
        wait_for(lambda: "connected" in stream.comments)
        assert stream.retry == 3000

        auction_id = new_auction(app, seller, listed=True)

        message = stream.next()
        assert message["event"] == "auction_created"
        assert message["data"] == f'{{"auction_id":{auction_id}}}'
        assert message["id"].endswith("~listings=1")


@pytest.mark.parametrize("backend", ["memory", "redis"])
def test_last_event_id_replays_what_the_page_missed(make_app, make_user, backend, redis_namespace):
    config = {"BROKER_URL": REDIS_URL, "BROKER_NAMESPACE": redis_namespace} if backend == "redis" else {}
    app = make_app(**config)
    seller = make_user("Sam")
    with run_server(app) as base_url:
        url = f"{base_url}/events?channels=listings,auction:999"
        with SSEClient(url) as stream:
            first = new_auction(app, seller, title="First", listed=True)
            seen = stream.next()
            assert seen["data"] == f'{{"auction_id":{first}}}'
        # The page is away (a train tunnel) while two more listings are published.
        missed = [new_auction(app, seller, title="Second", listed=True), new_auction(app, seller, title="Third", listed=True)]
        with SSEClient(url, headers={"Last-Event-ID": seen["id"]}) as stream:
            replayed = [stream.next(), stream.next()]
            assert [m["data"] for m in replayed] == [f'{{"auction_id":{n}}}' for n in missed]
            assert replayed[-1]["id"].endswith("listings=3,auction:999=0")
            later = new_auction(app, seller, title="Fourth", listed=True)
            assert stream.next()["data"] == f'{{"auction_id":{later}}}'


def test_a_page_that_missed_more_than_the_buffer_keeps_gets_a_reset(make_app, make_user):
    """Past LIVE_REPLAY_SIZE missed events (or a position from another server run) the page is told to
    fetch fresh state of that channel, and the stream goes on from now."""
    app = make_app(LIVE_REPLAY_SIZE=2)
    seller = make_user("Sam")
    with run_server(app) as base_url:
        url = f"{base_url}/events?channels=listings,auction:999"
        with SSEClient(url) as stream:
            new_auction(app, seller, title="First", listed=True)
            seen = stream.next()
        for title in ("Second", "Third", "Fourth"):
            new_auction(app, seller, title=title, listed=True)
        with SSEClient(url, headers={"Last-Event-ID": seen["id"]}) as stream:
            reset = stream.next()
            assert (reset["event"], reset["data"]) == ("reset", "listings")
            later = new_auction(app, seller, title="Fifth", listed=True)
            message = stream.next()
            assert message["data"] == f'{{"auction_id":{later}}}' and message["id"].endswith("listings=5,auction:999=0")
        # A position from another server run: the same.
        other_run = "0000aaaa~" + seen["id"].split("~", 1)[1]
        with SSEClient(f"{url}&since={other_run}") as stream:
            assert stream.next()["event"] == "reset"


def test_a_page_gets_what_was_published_between_rendering_and_connecting(app, make_user, live_server):
    seller = make_user("Sam")
    with app.test_request_context():
        url = live_url(["listings"])  # what base.html puts in sse-connect
    published = new_auction(app, seller, listed=True)
    with SSEClient(live_server + url) as stream:
        assert stream.next()["data"] == f'{{"auction_id":{published}}}'


def test_a_hidden_auction_is_followed_live_only_by_its_people(app, make_user, live_server):
    """As its page: an auction hidden by moderation streams to its seller and admins, not to others."""
    from auction.services import moderation

    seller, admin, stranger = make_user("Sam"), make_user("Ada", is_admin=True), make_user("Stranger")
    auction_id = new_auction(app, seller)
    url = f"{live_server}/events?channels=auction:{auction_id}"
    with SSEClient(url) as stream:
        assert stream.response.status_code == 200  # not hidden yet: anyone may watch
    with app.app_context():
        moderation.hide_auction(admin, auction_id, "Not a digital good")

    assert httpx.get(url).status_code == 404
    refused = httpx.get(url, headers={"Cookie": f"session={session_cookie(app, stranger)}"})
    assert refused.status_code == 404 and "not found" in refused.text
    for allowed in (seller, admin):
        with SSEClient(url, headers={"Cookie": f"session={session_cookie(app, allowed)}"}) as stream:
            assert stream.response.status_code == 200


def test_the_signed_in_users_own_channel_comes_along_and_nobody_elses(app, make_user, live_server):
    alice, bob = make_user("Alice"), make_user("Bob")
    cookie = {"Cookie": f"session={session_cookie(app, alice)}"}

    refused = httpx.get(f"{live_server}/events?channels=user:{bob}", headers=cookie)
    assert refused.status_code == 403
    assert "own channel" in refused.text
    assert httpx.get(f"{live_server}/events?channels=user:{alice}").status_code == 403  # not signed in

    with SSEClient(f"{live_server}/events?channels=listings", headers=cookie) as stream:
        assert stream.response.status_code == 200
        with app.app_context():
            credit_sandbox(alice, 25)
            credit_sandbox(bob, 40)
        # The wallet's balance box, then the header's balance: one event, so the position moves on its last fragment.
        messages = [stream.next()]
        while f"user:{alice}=1" not in messages[-1]["id"]:
            messages.append(stream.next())
        assert len(messages) <= 2
        assert all("25" in message["data"] and "40" not in message["data"] for message in messages)
        with pytest.raises(queue.Empty):
            stream.next(timeout=0.5)  # Bob's balance never shows up here

    with app.app_context():
        end_all_sessions(alice)  # "log out everywhere": the old cookie stops identifying her
    assert httpx.get(f"{live_server}/events?channels=user:{alice}", headers=cookie).status_code == 403


def test_limits_are_answered_with_clear_errors(make_app):
    app = make_app(LIVE_MAX_CONNECTIONS_PER_CLIENT=2, LIVE_MAX_CHANNELS=3)
    with run_server(app) as base_url:
        too_many = httpx.get(f"{base_url}/events?channels=auction:1,auction:2,auction:3,auction:4")
        assert too_many.status_code == 400
        assert "at most 3" in too_many.text
        unknown = httpx.get(f"{base_url}/events?channels=admin")
        assert unknown.status_code == 400 and "Unknown channel" in unknown.text
        # Refusals speak the browser's language, like every page.
        russian = httpx.get(f"{base_url}/events?channels=admin", headers={"Accept-Language": "ru-RU,ru;q=0.9"})
        assert russian.status_code == 400 and "Неизвестный канал: admin." in russian.text
        assert httpx.get(f"{base_url}/events").status_code == 400
        assert httpx.post(f"{base_url}/events?channels=listings").status_code == 405

        with SSEClient(f"{base_url}/events?channels=listings") as one, SSEClient(f"{base_url}/events?channels=listings") as two:
            assert one.response.status_code == two.response.status_code == 200
            third = httpx.get(f"{base_url}/events?channels=listings")
            assert third.status_code == 429
            assert "Too many live connections" in third.text

        def can_connect() -> bool:
            with SSEClient(f"{base_url}/events?channels=listings") as again:
                return again.response.status_code == 200

        wait_for(can_connect)  # closed streams free their places


def test_a_quiet_stream_sends_heartbeats(make_app):
    app = make_app(LIVE_HEARTBEAT_SECONDS=1)
    with run_server(app) as base_url, SSEClient(f"{base_url}/events?channels=listings") as stream:
        wait_for(lambda: "heartbeat" in stream.comments, timeout=5)


def test_fragments_are_rendered_once_per_event_and_language(app, make_user, live_server, monkeypatch):
    from flask import render_template_string

    calls = []

    def listing_card(app, data, locale):
        calls.append(locale)
        html = render_template_string('<p id="new">{{ _("Live auctions") }} #{{ n }}</p>', n=data["auction_id"])
        return [("new-listing", html), ("listing-count", "<b>+1</b>")]

    monkeypatch.setitem(renderers_of(app), "auction_created", listing_card)
    seller = make_user("Sam")
    url = f"{live_server}/events?channels=listings"
    english = [SSEClient(url, headers={"Accept-Language": "en"}) for _ in range(3)]
    russian = [SSEClient(url, headers={"Accept-Language": "ru"}) for _ in range(2)]
    try:
        for stream in english + russian:
            wait_for(lambda stream=stream: "connected" in stream.comments)
        auction_id = new_auction(app, seller, listed=True)
        for stream in english:
            received = [stream.next(), stream.next()]
            assert [(m["event"], m["data"]) for m in received] == [
                ("new-listing", f'<p id="new">Live auctions #{auction_id}</p>'),
                ("listing-count", "<b>+1</b>"),
            ]
            assert received[1]["id"].endswith("~listings=1")
        for stream in russian:
            assert stream.next()["data"] == f'<p id="new">Идущие аукционы #{auction_id}</p>'
        assert sorted(calls) == ["en", "ru"]
    finally:
        for stream in english + russian:
            stream.close()


def test_fragments_render_outside_the_transaction_that_published_them(app, make_user, live_server, monkeypatch):
    """The committing thread's transaction markers must not follow the event into the renderer.

    When they did, every render began with BEGIN IMMEDIATE and held SQLite's write lock, and
    bids queued behind the renders until they timed out.
    """
    from auction.database import write_intent
    from auction.services.transaction import _depth

    seen = []

    def listing_card(app, data, locale):
        seen.append((write_intent.get(), _depth.get()))
        return [("new-listing", f"<p>#{data['auction_id']}</p>")]

    monkeypatch.setitem(renderers_of(app), "auction_created", listing_card)
    with SSEClient(f"{live_server}/events?channels=listings") as stream:
        wait_for(lambda: "connected" in stream.comments)
        auction_id = new_auction(app, make_user("Sam"), listed=True)
        assert stream.next()["data"] == f"<p>#{auction_id}</p>"
    assert seen == [(False, 0)]


@pytest.mark.browser
def test_a_browser_page_catches_up_after_the_server_restarts(app, make_user, tmp_path):
    """Chromium keeps the page's one stream; a bid made while the server was down shows up after it returns."""
    from pathlib import Path

    from playwright.sync_api import expect, sync_playwright

    from auction.extensions import db
    from auction.models import Auction
    from auction.runtime import bind
    from auction.services.bidding import place_bid
    from tests.e2e.conftest import CHROMIUM, launch_chromium

    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed at /usr/bin/chromium")
    seller, alice, bob = make_user("Sam"), make_user("Alice"), make_user("Bob")
    with app.app_context():
        credit_sandbox(alice, 500)
        credit_sandbox(bob, 500)
    auction_id = new_auction(app, seller, listed=True)
    sock = bind()
    port = sock.getsockname()[1]
    sock.close()

    def price_now() -> str:
        with app.app_context():
            return str(db.session.get(Auction, auction_id).current_price)

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        page = browser.new_page()
        streams: list[str] = []
        page.on("request", lambda request: streams.append(request.url) if "/events?" in request.url else None)
        try:
            with run_server(app, port=port) as base_url:
                page.goto(f"{base_url}/auctions/{auction_id}")
                with app.app_context():
                    place_bid(auction_id, alice, 40)
                expect(page.locator(f"#auction-{auction_id}-price")).to_contain_text("Current price", timeout=5000)
                assert len(streams) == 1  # one stream for the whole page
            # The server is down; a bid placed now (by the bot, say) must still reach the page.
            with app.app_context():
                place_bid(auction_id, bob, 100)
            expected = price_now()
            assert expected not in page.locator(f"#auction-{auction_id}-price [data-price]").inner_text()
            with run_server(app, port=port):
                expect(page.locator(f"#auction-{auction_id}-price [data-price]")).to_contain_text(expected, timeout=15000)
        finally:
            browser.close()


def test_a_burst_of_pages_connecting_at_once_all_get_their_stream_on_redis(make_app, redis_namespace):
    """150 pages opening at the same moment (a link shared in a big chat) must not exhaust Redis connections."""
    import asyncio

    app = make_app(BROKER_URL=REDIS_URL, BROKER_NAMESPACE=redis_namespace, LIVE_MAX_CONNECTIONS_PER_CLIENT=0)

    async def open_page(port: int) -> bytes:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /events?channels=auction:1,listings HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        head = await asyncio.wait_for(reader.readuntil(b": connected"), timeout=20)
        writer.close()
        return head

    async def burst(port: int) -> list[bytes]:
        return await asyncio.gather(*(open_page(port) for _ in range(150)))

    with run_server(app) as base_url:
        heads = asyncio.run(burst(int(base_url.rsplit(":", 1)[1])))
    assert all(head.startswith(b"HTTP/1.1 200") for head in heads)

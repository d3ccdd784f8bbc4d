"""Through the real server: a bid posted over HTTP reaches another visitor's open page over SSE."""

from __future__ import annotations

import json

import httpx
from bs4 import BeautifulSoup

from tests.live.test_live_stream import SSEClient
from tests.support.bidding_helpers import give_stars, new_auction
from tests.support.servers import run_server


def signed_in(base_url: str, user_id: int) -> httpx.Client:
    """A browser session signed in through the dev login, as a person would."""
    client = httpx.Client(base_url=base_url, timeout=10)
    body = BeautifulSoup(client.get("/dev-login").text, "html.parser").body
    token = json.loads(body["hx-headers"])["X-CSRFToken"]
    response = client.post("/dev-login", data={"user_id": user_id, "csrf_token": token})
    assert response.status_code in (302, 303)
    return client


def test_a_bid_appears_on_another_open_page_within_a_second(app, make_user):
    seller = make_user("Sam")
    bidder = make_user("Alice", is_demo=True)
    give_stars(app, bidder, 500)
    auction_id = new_auction(app, seller, title="Pocket watch")

    with run_server(app) as base_url:
        visitor = httpx.Client(base_url=base_url, timeout=10)
        page = BeautifulSoup(visitor.get(f"/auctions/{auction_id}").text, "html.parser")
        stream_url = page.select_one("[sse-connect]")["sse-connect"]
        assert f"auction:{auction_id}" in stream_url
        assert page.select_one(f"[sse-swap=auction-{auction_id}-price]") is not None

        with SSEClient(base_url + stream_url) as stream:
            browser = signed_in(base_url, bidder)
            token = json.loads(BeautifulSoup(browser.get(f"/auctions/{auction_id}").text, "html.parser").body["hx-headers"])["X-CSRFToken"]
            response = browser.post(
                f"/auctions/{auction_id}/bids", data={"amount": "40"}, headers={"HX-Request": "true", "X-CSRFToken": token}
            )
            assert "highest bidder" in response.text

            seen: dict[str, str] = {}
            while f"auction-{auction_id}-bid" not in seen:
                message = stream.next(timeout=2)
                assert message is not None, "the stream ended"
                seen[message["event"]] = message["data"]
            price = BeautifulSoup(seen[f"auction-{auction_id}-price"], "html.parser")
            assert "10" in price.select_one("[data-price]").get_text() and "1 bid" in price.get_text()
            bids = BeautifulSoup(seen[f"auction-{auction_id}-bid"], "html.parser")
            assert bids.select_one(".bid-row .bidder").get_text(strip=True).startswith("A***e")
            browser.close()
        visitor.close()


def test_one_bids_frame_to_a_watcher_stays_under_2_kb_after_30_bids(app, make_user):
    """The frame holds the bid's own rows, the chart's new point and the public least offer, not the whole history."""
    from auction.services import bidding
    from tests.live.test_auction_live_gaps import in_app

    seller, alice, bob = make_user("Sam"), make_user("Alice Longname"), make_user("Bob Longname")
    give_stars(app, alice, 100_000)
    give_stars(app, bob, 100_000)
    auction_id = new_auction(app, seller, title="Pocket watch", buy_now_price=90_000, reserve_price=80_000)
    for step in range(15):  # each raise also writes the other's automatic proxy step: 30 rows
        in_app(app, bidding.place_bid, auction_id, alice, 100 + step * 20)
        in_app(app, bidding.place_bid, auction_id, bob, 110 + step * 20)

    with run_server(app) as base_url, httpx.Client(base_url=base_url, timeout=10) as visitor:
        url = BeautifulSoup(visitor.get(f"/auctions/{auction_id}").text, "html.parser").select_one("[sse-connect]")["sse-connect"]
        with visitor.stream("GET", base_url + url) as stream:
            raw = stream.iter_raw()
            hello = next(raw)
            assert hello.startswith(b": connected")
            in_app(app, bidding.place_bid, auction_id, alice, 5_000)
            frame = b""
            while f"event: auction-{auction_id}-bid\n".encode() not in frame or not frame.endswith(b"\n\n"):
                frame += next(raw)
    assert b"data-for-viewer" not in frame and frame.count(b"<li") == 1  # her own row only
    assert len(frame) <= 2048, f"{len(frame)} bytes"

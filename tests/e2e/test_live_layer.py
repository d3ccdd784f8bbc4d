# ruff: noqa: F811  (pytest fixtures imported from test_live_auction are requested by name)
"""Chromium on the real server: what a person sees of the live layer — times pushed live in their
own zone, a page that missed more than the server keeps, a device clock minutes off, a refused
CSRF token on a bid, the confirm step before buying now, and the loser's outcome."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from auction.extensions import db
from auction.models import Auction, utcnow
from auction.services import ledger, lifecycle, users
from tests.e2e.test_live_auction import (  # noqa: F401  (fixtures)
    WATCH_SCRIPT,
    Tab,
    bid,
    list_item,
    ms_left,
    people,
    place_bid_by_click,
    site,
    wait_until,
)
from tests.support.bidding_helpers import end_now
from tests.support.servers import run_server

pytestmark = pytest.mark.browser


def open_page(browser, base_url: str, name: str, user_id: int, auction_id: int, timezone_id: str = "UTC",
              init_script: str = "") -> Tab:
    """Sign in as `name` through /dev-login and land on the auction page, in a browser set to `timezone_id`."""
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-US", timezone_id=timezone_id)
    context.add_init_script(WATCH_SCRIPT + init_script)
    page = context.new_page()
    tab = Tab(name, context, page)
    page.on("pageerror", lambda error: tab.problems.append(f"page error: {error}"))
    page.on("console", lambda message: message.type == "error" and "status of 400" not in message.text
            and tab.problems.append(f"console: {message.text}"))
    page.goto(f"{base_url}/dev-login?next=/auctions/{auction_id}")
    page.get_by_test_id(f"demo-user-{user_id}").click()
    page.locator(f"#auction-{auction_id}").wait_for()
    wait_until(page, f"window.__streams.some(s => s.includes('auction%3A{auction_id}') || s.includes('auction:{auction_id}'))")
    page.evaluate("window.__sameDocument = true")
    return tab


def set_timezone(app, user_id: int, zone: str) -> None:
    # Through the service: a write transaction of its own (a plain read upgraded to a write fails
    # with "database is locked" on SQLite while the running server writes).
    with app.app_context():
        users.set_timezone(user_id, zone)
        db.session.remove()


def test_a_time_pushed_live_reads_in_the_viewers_zone(browser, app, site, people):
    set_timezone(app, people["boris"], "Europe/Moscow")
    auction_id = list_item(app, people["seller"], "Brass telescope")
    boris = open_page(browser, site, "Boris", people["boris"], auction_id, timezone_id="Europe/Moscow")
    bid(app, auction_id, people["anna"], 30)
    row_time = boris.page.locator(f"#auction-{auction_id}-history .bid-row time").first
    expect(row_time).to_be_visible(timeout=2000)
    at = datetime.fromisoformat(row_time.get_attribute("datetime").replace("Z", "+00:00")).astimezone(ZoneInfo("Europe/Moscow"))
    # Rendered once for every reader (in UTC), then written again by the page in its reader's zone.
    expect(row_time).to_contain_text(at.strftime("%-I:%M"))
    assert at.utcoffset() == timedelta(hours=3) and at.astimezone(UTC).strftime("%-I:%M") not in row_time.inner_text()
    # The chart's end moved with the bid and reads in the same zone.
    chart_end = boris.page.locator(f"#auction-{auction_id}-chart [data-chart-end] time")
    expect(boris.page.locator(".chart-panel")).to_be_visible()
    end = datetime.fromisoformat(chart_end.get_attribute("datetime").replace("Z", "+00:00")).astimezone(ZoneInfo("Europe/Moscow"))
    expect(chart_end).to_contain_text(end.strftime("%-I:%M"))
    boris.check_clean()
    boris.context.close()


def test_a_page_that_missed_more_than_the_server_keeps_fetches_fresh_state(browser, make_app, make_user):
    app = make_app(LIVE_REPLAY_SIZE=3)
    seller, anna, boris = make_user("Sam", is_demo=True), make_user("Anna", is_demo=True), make_user("Boris", is_demo=True)
    with app.app_context():
        for bidder in (anna, boris):
            ledger.credit_sandbox(bidder, 1_000)
        db.session.remove()
    auction_id = list_item(app, seller, "Oak chess set")
    with run_server(app) as base_url:
        held: list = []
        context = browser.new_context(locale="en-US")
        context.add_init_script(WATCH_SCRIPT)
        page = context.new_page()
        page.goto(f"{base_url}/dev-login?next=/auctions/{auction_id}")
        # The stream is held back (a train tunnel) while more bids than LIVE_REPLAY_SIZE come in.
        context.route(re.compile(r".*/events\?.*"), lambda route: held.append(route) if not held else route.continue_())
        page.get_by_test_id(f"demo-user-{anna}").click()
        page.locator(f"#auction-{auction_id}").wait_for()
        expect(page.locator(f"#auction-{auction_id}-price [data-price]")).to_have_text("20 ⭐")
        page.evaluate("window.__sameDocument = true")
        wait_until(page, "true")
        deadline = time.monotonic() + 5
        while not held:
            assert time.monotonic() < deadline, "the page never opened its stream"
            page.wait_for_timeout(20)
        for maximum in (30, 40, 50, 60, 70):
            bid(app, auction_id, boris if maximum % 20 else seller_free_bidder(app, make_user), maximum)
        with app.app_context():
            price = db.session.get(Auction, auction_id).current_price
            db.session.remove()
        held[0].continue_()
        # The server says "reset" for the auction's channel; the page fetches itself again.
        expect(page.locator(f"#auction-{auction_id}-price [data-price]")).to_have_text(f"{price} ⭐", timeout=5000)
        assert page.evaluate("window.__sameDocument === true") is not True
        context.close()


_spare: list[int] = []


def seller_free_bidder(app, make_user) -> int:
    """A second bidder with Stars, so the bids alternate and each one moves the price."""
    if not _spare:
        _spare.append(make_user("Cleo", is_demo=True))
        with app.app_context():
            ledger.credit_sandbox(_spare[0], 1_000)
            db.session.remove()
    return _spare[0]


def test_resuming_uses_the_last_event_seen_not_the_pages_first_position(browser, app, site, people):
    auction_id = list_item(app, people["seller"], "Copper kettle")
    anna = open_page(browser, site, "Anna", people["anna"], auction_id)
    first = anna.page.locator("#live").get_attribute("sse-connect")
    bid(app, auction_id, people["boris"], 30)
    expect(anna.page.locator(f"#auction-{auction_id}-price")).to_contain_text("1 bid", timeout=2000)
    now = anna.page.locator("#live").get_attribute("sse-connect")
    assert now != first and re.search(r"since=[^&]*auction(%3A|:)" + str(auction_id) + "(%3D|=)[1-9]", now)
    anna.check_clean()
    anna.context.close()


def test_the_countdown_follows_the_servers_clock_when_the_device_is_3_minutes_slow(browser, app, site, people):
    auction_id = list_item(app, people["seller"], "Silver pocket watch", duration=timedelta(minutes=10))
    slow = "(function(){ var real = Date.now; Date.now = function(){ return real() - 180000; }; })();"
    anna = open_page(browser, site, "Anna", people["anna"], auction_id, init_script=slow)
    assert anna.page.evaluate("Date.now() < new Date().getTime() - 170000")  # the device is 3 minutes slow
    countdown = anna.page.locator(f"#auction-{auction_id}-ends time[data-countdown]")
    expect(countdown).to_have_text(re.compile(r"\d\d:\d\d:\d\d"))
    h, m, s = map(int, re.search(r"(\d\d):(\d\d):(\d\d)", countdown.inner_text()).groups())
    with app.app_context():
        left = (db.session.get(Auction, auction_id).ends_at - utcnow()).total_seconds()
        db.session.remove()
    assert abs(h * 3600 + m * 60 + s - left) <= 2, f"the page shows {h:02d}:{m:02d}:{s:02d}, the server {left:.0f} s"
    anna.check_clean()
    anna.context.close()


def test_a_refused_csrf_token_on_a_bid_says_so_and_the_next_press_bids_once(browser, app, site, people):
    auction_id = list_item(app, people["seller"], "Enamel brooch")
    anna = open_page(browser, site, "Anna", people["anna"], auction_id)
    # What the page holds after the session changed in another tab: a token of another session.
    anna.page.evaluate("""document.body.setAttribute("hx-headers", JSON.stringify({"X-CSRFToken": "from-an-old-session"}));
        document.querySelectorAll("input[name=csrf_token]").forEach(function (f) { f.value = "from-an-old-session"; });""")
    anna.page.locator("#bid-amount").fill("30")
    anna.page.get_by_role("button", name="Place bid").click()
    expect(anna.page.locator("#bid-form .request-error")).to_have_text(
        "Your session changed in another tab, so nothing was done. Press again to do it now.")
    with app.app_context():
        assert db.session.get(Auction, auction_id).bid_count == 0
        db.session.remove()
    anna.page.get_by_role("button", name="Place bid").click()
    expect(anna.page.locator("#bid-form-box .form-message")).to_contain_text("you are the highest bidder")
    with app.app_context():
        assert db.session.get(Auction, auction_id).bid_count == 1
        db.session.remove()
    anna.check_clean()
    anna.context.close()


def test_buy_it_now_asks_first(browser, app, site, people):
    auction_id = list_item(app, people["seller"], "Linen tablecloth", buy_now_price=200)
    anna = open_page(browser, site, "Anna", people["anna"], auction_id)
    anna.page.get_by_role("link", name="Buy it now for 200 ⭐").click()
    confirm = anna.page.locator("#confirm-box .confirm-step")
    expect(confirm).to_contain_text("Buy «Linen tablecloth» now for 200 ⭐?")
    with app.app_context():
        assert db.session.get(Auction, auction_id).status == "live"  # nothing bought by asking
        db.session.remove()
    confirm.get_by_role("button", name="Confirm and pay").click()
    expect(anna.page.locator(f"#auction-{auction_id}-controls .auction-outcome")).to_have_text("You won this auction for 200 ⭐")
    anna.check_clean()
    anna.context.close()


def test_the_loser_is_told_they_did_not_win_and_their_hold_is_released(browser, app, site, people):
    auction_id = list_item(app, people["seller"], "Oak chess set")
    bid(app, auction_id, people["anna"], 40)
    bid(app, auction_id, people["boris"], 60)
    anna = open_page(browser, site, "Anna", people["anna"], auction_id)
    end_now(app, auction_id)
    with app.app_context():
        lifecycle.close_auction(auction_id)
        db.session.remove()
    outcome = anna.page.locator(f"#auction-{auction_id}-controls .auction-outcome")
    expect(outcome).to_have_text("You did not win «Oak chess set». Your hold of 40 ⭐ is released.", timeout=3000)
    expect(anna.page.locator(f"#auction-{auction_id}-controls")).to_contain_text("Sold for 41 ⭐ to B***v")
    assert anna.page.evaluate("window.__sameDocument === true")
    anna.check_clean()
    anna.context.close()

"""Chromium on the real server: the home page grid follows bids and the close without reloading,
offers newly listed auctions in a notice that reloads the grid, and filters by category pills."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from auction.extensions import db
from auction.models import Category
from auction.services import bidding, ledger, lifecycle
from auction.services.demo import demo_photo
from auction.services.listings import ListingDraft, create_listing
from tests.conftest import in_app
from tests.support.bidding_helpers import end_now
from tests.support.servers import run_server

pytestmark = pytest.mark.browser

WATCH_SCRIPT = """
window.__csp = [];
window.__streams = [];
document.addEventListener("securitypolicyviolation", function (e) { window.__csp.push(e.violatedDirective); });
document.addEventListener("htmx:sseOpen", function (e) { window.__streams.push(e.target.getAttribute("sse-connect") || ""); });
"""




def list_item(app, seller_id: int, title: str, category_id: int) -> int:
    draft = ListingDraft(
        title=title, description="Listed for the browser test.", start_price=20, duration=timedelta(minutes=10),
        category_id=category_id, photos=[demo_photo(title, 3)],
    )
    return in_app(app, create_listing, seller_id, draft)


def wait_until(page, condition: str, timeout: float = 5) -> None:
    """Poll a JS condition with evaluate (wait_for_function needs eval, which the CSP forbids)."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(condition):
        assert time.monotonic() < deadline, f"not true after {timeout} s: {condition}"
        page.wait_for_timeout(20)


@pytest.fixture
def shop(app, make_user) -> dict:
    seller = make_user("Sam")
    anna = make_user("Anna")
    in_app(app, ledger.credit_sandbox, anna, 1_000)
    with app.app_context():
        watches = Category(slug="watches", name_en="Watches", name_ru="Часы", position=1)
        lamps = Category(slug="lamps", name_en="Lamps", name_ru="Лампы", position=2)
        db.session.add_all([watches, lamps])
        db.session.commit()
        ids = {"watches": watches.id, "lamps": lamps.id}
        db.session.remove()
    return {"seller": seller, "anna": anna, **ids}


@pytest.fixture
def site(app, shop) -> Iterator[str]:
    with run_server(app) as base_url:
        yield base_url


def test_the_home_page_follows_bids_new_listings_the_close_and_categories(browser, app, site, shop):
    watch = list_item(app, shop["seller"], "Pocket watch", shop["watches"])
    lamp = list_item(app, shop["seller"], "Desk lamp", shop["lamps"])

    context = browser.new_context(viewport={"width": 375, "height": 800}, locale="en-US", is_mobile=True, has_touch=True)
    context.add_init_script(WATCH_SCRIPT)
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("console", lambda message: message.type == "error" and problems.append(f"console: {message.text}"))
    page.goto(site + "/")
    wait_until(page, "window.__streams.some(s => s.includes('listings'))")
    page.evaluate("window.__sameDocument = true")
    watch_card = page.locator(f"#auction-card-{watch}")
    expect(watch_card.locator(".card-price")).to_contain_text("20 ⭐ · 0 bids")

    # A bid elsewhere moves the card's price and count within a second.
    in_app(app, bidding.place_bid, watch, shop["anna"], 40)
    expect(watch_card.locator(".card-price")).to_contain_text("20 ⭐ · 1 bid", timeout=1000)

    # A new listing in the grid's category: a notice, and pressing it brings the card in.
    notice = page.locator(".new-listings")
    expect(notice).to_be_hidden()
    clock = list_item(app, shop["seller"], "Wall clock", shop["watches"])
    expect(notice).to_be_visible()
    expect(notice).to_contain_text("New auctions: 1")
    notice.get_by_role("link").click()
    expect(page.locator(f"#auction-card-{clock}")).to_be_visible()
    expect(notice).to_be_hidden()

    # The close: the card stays where it is and shows the outcome.
    end_now(app, watch)
    in_app(app, lifecycle.close_auction, watch)
    expect(watch_card.locator(".card-price")).to_contain_text("Sold for 20 ⭐")
    expect(watch_card.locator(".card-time")).to_have_text("Auction ended")

    # A pill swaps the grid (and the address) without a reload; the new cards follow the stream too.
    page.locator(".category-pills").get_by_role("link", name="Lamps").click()
    expect(page.locator(".auction-card")).to_have_count(1)
    assert page.url.endswith("/?category=lamps")
    in_app(app, bidding.place_bid, lamp, shop["anna"], 30)
    expect(page.locator(f"#auction-card-{lamp} .card-price")).to_contain_text("1 bid")
    list_item(app, shop["seller"], "Wrist watch", shop["watches"])  # another category: no notice here
    page.wait_for_timeout(500)
    expect(notice).to_be_hidden()

    assert page.evaluate("window.__sameDocument === true"), "the page reloaded"
    assert page.evaluate("window.__csp") == []
    assert problems == []
    context.close()

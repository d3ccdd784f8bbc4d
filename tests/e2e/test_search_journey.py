"""Chromium on the real server: search from the header, filter as you type, follow a bid live, open a result."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from auction.extensions import db
from auction.models import Category
from auction.services import bidding, ledger
from tests.e2e.test_home_page_live import WATCH_SCRIPT, in_app, wait_until
from tests.support.bidding_helpers import new_auction
from tests.support.servers import run_server

pytestmark = pytest.mark.browser


@pytest.fixture
def shop(app, make_user) -> dict:
    seller = make_user("Sam")
    anna = make_user("Anna")
    in_app(app, ledger.credit_sandbox, anna, 1_000)
    with app.app_context():
        art = Category(slug="art", name_en="Digital art", name_ru="Цифровое искусство", position=1)
        db.session.add(art)
        db.session.commit()
        art_id = art.id
        db.session.remove()
    ids = {
        "cheap": new_auction(app, seller, title="Dragon sticker pack", description="Animated.", category_id=art_id, start_price=20),
        "dear": new_auction(app, seller, title="Dragon wallpaper", description="4K art.", category_id=art_id, start_price=400),
        "other": new_auction(app, seller, title="Logo template", description="Vector.", start_price=30),
    }
    return {"seller": seller, "anna": anna, **ids}


@pytest.fixture
def site(app, shop) -> Iterator[str]:
    with run_server(app) as base_url:
        yield base_url


def test_search_filter_and_open_a_result(browser, app, site, shop):
    context = browser.new_context(viewport={"width": 375, "height": 800}, locale="en-US", is_mobile=True, has_touch=True)
    context.add_init_script(WATCH_SCRIPT)
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("console", lambda message: message.type == "error" and problems.append(f"console: {message.text}"))

    # On a phone the header's menu leads to the search page (the header's box is for wider screens);
    # the search itself is a shareable address.
    page.goto(site + "/")
    page.locator(".nav-menu summary").click()
    expect(page.locator(".nav-menu-links").get_by_role("link", name="Search")).to_have_attribute("href", "/search")
    page.goto(site + "/search?q=dragon")
    expect(page.locator("#search-results .auction-card")).to_have_count(2)
    # The page's own stylesheet came with the boosted swap: the filters sit in a bordered box.
    assert page.locator(".search-filters").evaluate("e => getComputedStyle(e).borderTopStyle") == "solid"
    wait_until(page, "window.__streams.some(s => s.includes('listings'))")
    page.evaluate("window.__sameDocument = true")

    # Typing filters as you type (debounced), and the address follows.
    box = page.locator("#search-q")
    box.fill("dragon stick")
    expect(page.locator("#search-results .auction-card")).to_have_count(1)
    wait_until(page, "location.search === '?q=dragon+stick'")
    box.fill("dragon")
    expect(page.locator("#search-results .auction-card")).to_have_count(2)

    # A filter: the highest price; a bad value is named, the rest still applies.
    page.locator(".search-filters summary").click()
    page.locator("input[name=max_price]").fill("100")
    page.locator("input[name=max_price]").press("Enter")
    expect(page.locator("#search-results .auction-card")).to_have_count(1)
    wait_until(page, "location.search === '?q=dragon&max_price=100'")

    # The result is live: a bid elsewhere moves its price. Enter sends the form twice (change,
    # submit): wait until both answers are in, or the later one, drawn before the bid, lands after it.
    wait_until(page, "document.querySelectorAll('.htmx-request').length === 0")
    page.wait_for_timeout(300)
    card = page.locator(f"#auction-card-{shop['cheap']}")
    in_app(app, bidding.place_bid, shop["cheap"], shop["anna"], 25)
    expect(card.locator(".card-price")).to_contain_text("1 bid")

    assert page.evaluate("window.__sameDocument === true"), "the page reloaded"
    assert page.evaluate("window.__csp") == []

    # Opening the result.
    card.locator(".card-title a").click()
    expect(page).to_have_url(f"{site}/auctions/{shop['cheap']}")
    expect(page.locator("h1")).to_contain_text("Dragon sticker pack")
    # Back to the very same search.
    page.go_back()
    expect(page.locator("#search-results .auction-card")).to_have_count(1)
    assert page.evaluate("window.__csp") == []
    assert problems == []
    context.close()


"""In Chromium: the bid form a page keeps across live pushes (its own least offer, the outbid line, the countdown)."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.e2e.test_live_auction import bid, list_item, open_auction, people, site  # noqa: F401  (fixtures)


def test_the_leader_keeps_their_own_least_offer_and_is_told_when_outbid(browser, app, site, people):  # noqa: F811
    auction_id = list_item(app, people["seller"], "Brass lamp", start_price=200)
    bid(app, auction_id, people["anna"], 300)
    anna = open_auction(browser, site, "Anna", people["anna"], auction_id)
    page = anna.page
    expect(page.locator("#bid-help")).to_have_text("At least 301 ⭐.")
    expect(page.locator(f"#auction-{auction_id}-ends time")).to_have_text(re.compile(r"^Ends in 00:(09|10):\d\d$"))

    bid(app, auction_id, people["boris"], 205)  # Anna's maximum answers: she still leads, at 210
    expect(page.locator("[data-price]")).to_have_text("210 ⭐", timeout=2000)
    expect(page.locator("#bid-help")).to_have_text("At least 301 ⭐.")
    expect(page.locator("#bid-amount")).to_have_attribute("placeholder", "301")
    expect(page.get_by_text("You have been outbid.")).to_have_count(0)

    bid(app, auction_id, people["boris"], 400)
    expect(page.get_by_text("You have been outbid.")).to_be_visible(timeout=2000)
    expect(page.locator("#bid-help")).to_have_text("At least 310 ⭐.")
    expect(page.locator("#bid-amount")).to_have_attribute("placeholder", "310")
    assert page.evaluate("window.__sameDocument === true")
    anna.check_clean()
    anna.context.close()

"""Chromium on the real server: Boris is outbid by Anna's click; his bell count and a toast
appear on his open page without a reload."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.test_live_auction import (  # noqa: F401
    assert_same_document,
    bid,
    list_item,
    open_auction,
    people,
    place_bid_by_click,
    site,
)

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("width", [1280, 375])
def test_an_outbid_rings_the_bell_and_shows_a_toast_without_reload(browser, app, site, people, width):  # noqa: F811
    auction_id = list_item(app, people["seller"], "Brass telescope")
    bid(app, auction_id, people["boris"], 30)
    boris = open_auction(browser, site, "Boris", people["boris"], auction_id, width=width)
    anna = open_auction(browser, site, "Anna", people["anna"], auction_id, width=width)
    bell = boris.page.get_by_test_id("bell-count")
    # His first bid earned a badge, which the centre records like every notification.
    unread = int(bell.text_content()) if bell.is_visible() else 0

    place_bid_by_click(anna, auction_id, 40)
    expect(bell).to_have_text(str(unread + 1), timeout=3000)
    expect(bell).to_be_visible()
    toast = boris.page.get_by_test_id("toast")
    expect(toast).to_contain_text("You have been outbid on “Brass telescope”: the price is now 31 ⭐.")
    expect(toast.locator("a")).to_have_attribute("href", f"/auctions/{auction_id}")
    boris.page.screenshot(path=f"/tmp/notify-bell-{width}.png")
    assert_same_document(boris)

    # The centre lists it; marking it read there brings the bell back to nothing.
    boris.page.get_by_role("link", name="Notifications").click()
    item = boris.page.get_by_test_id("notification").filter(has_text="You have been outbid")
    expect(item).to_have_count(1)
    item.get_by_role("button", name="Mark as read").click()
    expect(item.get_by_role("button", name="Mark as read")).to_have_count(0)
    boris.page.get_by_role("button", name="Mark all as read").click()  # the ten-minute auction's reminder too
    expect(boris.page.get_by_test_id("bell-count")).to_be_hidden()
    boris.page.screenshot(path=f"/tmp/notify-centre-{width}.png", full_page=True)
    for tab in (boris, anna):
        tab.check_clean()
        tab.context.close()

"""Chromium on the real server: Watch in one browser changes the count on another open page;
the gallery's thumbnails and previous/next buttons reach every photo, on a phone and a desktop."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e import test_live_auction
from tests.e2e.test_live_auction import assert_same_document, open_auction, wait_until
from tests.web.test_watching import auction_with_photos

pytestmark = pytest.mark.browser
# The same demo people and real server as the live-auction browser tests.
people = test_live_auction.people
site = test_live_auction.site


def photo_in_view(number: int) -> str:
    """A JS condition: the strip rests on photo `number`, and its thumbnail is the one marked."""
    return f"""(() => {{ const strip = document.querySelector('[data-gallery]');
        const slide = document.getElementById('photo-{number}');
        const thumb = document.querySelector('.gallery-thumbs a[href="#photo-{number}"]');
        return Math.abs(slide.offsetLeft - strip.scrollLeft) < 2 && thumb.getAttribute('aria-current') === 'true'; }})()"""


def test_watch_counts_on_another_page_and_every_photo_is_reachable(browser, app, site, people):
    auction_id = auction_with_photos(app, people["seller"], 3)
    boris = open_auction(browser, site, "Boris", people["boris"], auction_id, width=375)
    anna = open_auction(browser, site, "Anna", people["anna"], auction_id)
    watchers = boris.page.locator(f"#auction-{auction_id}-watchers")
    expect(watchers).to_have_text("Nobody is watching yet")

    anna.page.get_by_role("button", name="Watch").click()
    expect(anna.page.locator(".watch-button")).to_have_text("Watching ✓ (stop)")
    expect(watchers).to_have_text("1 person is watching", timeout=2000)
    expect(anna.page.locator(f"#auction-{auction_id}-watchers")).to_have_text("1 person is watching", timeout=2000)
    anna.page.get_by_role("button", name="Watching (stop)").click()  # the tick is not read out
    expect(watchers).to_have_text("Nobody is watching yet", timeout=2000)

    for tab in (anna, boris):
        page = tab.page
        wait_until(page, photo_in_view(1))
        expect(page.locator(".gallery-prev")).to_be_disabled()
        page.locator(".gallery-thumbs a[href='#photo-2']").click()
        wait_until(page, photo_in_view(2))
        page.locator(".gallery-next").click()
        wait_until(page, photo_in_view(3))
        expect(page.locator(".gallery-next")).to_be_disabled()
        expect(page.locator("#photo-3 .gallery-count")).to_have_text("3 / 3")
        # Nothing on the page is wider than the screen.
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        page.screenshot(path=f"/tmp/watch_gallery_{tab.name}.png")
        assert_same_document(tab)
        tab.check_clean()
        tab.context.close()

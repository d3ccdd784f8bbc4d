"""Chromium on the real server: a photo opens the zoom view, → moves to the next photo, Esc closes
it and the focus is back on the page's photo, on a phone and a desktop."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e import test_live_auction
from tests.e2e.test_live_auction import assert_same_document, open_auction, wait_until
from tests.web.test_watching import auction_with_photos

pytestmark = pytest.mark.browser
people = test_live_auction.people
site = test_live_auction.site


def zoom_on(number: int) -> str:
    """A JS condition: the zoom view is open and rests on photo `number` (1-based)."""
    return f"""(() => {{ const dialog = document.querySelector('dialog.photo-zoom');
        const strip = dialog.querySelector('[data-zoom-strip]');
        return dialog.open && strip.clientWidth > 0 && Math.abs(strip.scrollLeft - {number - 1} * strip.clientWidth) < 2; }})()"""


@pytest.mark.parametrize("width", [375, 1280])
def test_a_photo_opens_large_and_the_keyboard_moves_and_closes(browser, app, site, people, width):
    auction_id = auction_with_photos(app, people["seller"], 3)
    tab = open_auction(browser, site, "Anna", people["anna"], auction_id, width=width)
    page = tab.page
    dialog = page.locator("dialog.photo-zoom")
    expect(dialog).to_be_hidden()

    page.locator("#photo-1 a[data-zoom]").click()
    expect(dialog).to_be_visible()
    wait_until(page, zoom_on(1))
    expect(page.locator(".zoom-prev")).to_be_disabled()
    # The large rendition fills the screen's width or height, whole.
    box = dialog.locator(".zoom-slide").first.locator("img").bounding_box()
    assert box["width"] > width * 0.9 or box["height"] > 700

    page.keyboard.press("ArrowRight")
    wait_until(page, zoom_on(2))
    page.screenshot(path=f"/tmp/photo_zoom_open_{width}.png")
    page.keyboard.press("ArrowRight")
    wait_until(page, zoom_on(3))
    expect(page.locator(".zoom-next")).to_be_disabled()
    page.keyboard.press("ArrowLeft")
    wait_until(page, zoom_on(2))

    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    # Back on the page at the photo last seen, with the focus on it.
    wait_until(page, "document.activeElement === document.querySelector('#photo-2 a[data-zoom]')")
    wait_until(page, """(() => { const strip = document.querySelector('[data-gallery]');
        return Math.abs(document.getElementById('photo-2').offsetLeft - strip.scrollLeft) < 2; })()""")

    # The close button works as well, and nothing is wider than the screen.
    page.locator("#photo-2 a[data-zoom]").click()
    wait_until(page, zoom_on(2))
    page.get_by_role("button", name="Close").click()
    expect(dialog).to_be_hidden()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=f"/tmp/photo_zoom_{width}.png")
    assert_same_document(tab)
    tab.check_clean()
    tab.context.close()

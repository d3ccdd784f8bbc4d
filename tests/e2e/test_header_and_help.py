"""Chromium at 375 px and 1280 px: a one-row header, the language switch in it, help and a policy page."""

from __future__ import annotations

import itertools

import pytest

from tests.e2e.test_browser_smoke import demo_site, open_page  # noqa: F401  (the demo site fixture)

pytestmark = pytest.mark.browser


def header_height(page) -> float:
    return page.evaluate("document.querySelector('.site-header').getBoundingClientRect().height")


def test_phone_journey_switch_language_in_the_header_open_help_and_terms(browser, demo_site):  # noqa: F811
    context, page, problems = open_page(browser, demo_site, 375)
    page.goto(demo_site + "/")
    assert header_height(page) <= 64  # one row, not three
    page.locator(".nav-menu summary").click()
    page.locator(".nav-menu-panel").get_by_role("button", name="RU Русский").click()
    page.get_by_role("heading", name="Идущие аукционы").wait_for()
    page.locator(".nav-menu summary").click()
    page.locator(".nav-menu-panel").get_by_role("link", name="Справка").click()
    page.get_by_role("heading", name="Как это работает", level=1).wait_for()
    assert "Анна" in page.locator("#proxy").inner_text()
    page.screenshot(path="/tmp/admin-help-375-ru.png", full_page=True)
    page.locator("footer").get_by_role("link", name="Условия").click()
    page.get_by_role("heading", name="Условия использования").wait_for()
    assert "цифровые товары" in page.locator("main").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.screenshot(path="/tmp/admin-terms-375-ru.png", full_page=True)
    assert problems == []
    context.close()


@pytest.mark.parametrize("width", [375, 1280])
def test_signed_in_header_is_one_row_with_the_balance(browser, demo_site, width):  # noqa: F811
    context, page, problems = open_page(browser, demo_site, width)
    page.goto(demo_site + "/dev-login")
    page.get_by_role("button", name="Дарья Кузнецова").click()
    page.locator(".nav-user .user-name").wait_for()
    assert header_height(page) <= 64
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    balance = page.locator("#nav-balance")
    assert balance.is_visible() and "⭐" in balance.inner_text()
    # The ⭐ comes from the site's own font, not an emoji font the device may lack.
    page.evaluate("document.fonts.ready")
    assert page.evaluate("document.fonts.check('16px \"Star Sign\"', '⭐')")
    page.screenshot(path=f"/tmp/admin-header-{width}.png")
    if width == 1280:
        page.locator(".nav-links").get_by_role("link", name="Наблюдение").wait_for()
        # Nothing in the row overlaps (the Russian links once squeezed the search box under the name),
        # and search stays one press away: the box, or its icon when the row is full.
        boxes = page.evaluate(
            "[...document.querySelectorAll('.nav > *, .nav-links > li, .nav-tools > *, .nav-user > *')]"
            ".filter(e => e.offsetParent !== null && !e.matches('.nav-links, .nav-user, .nav-tools'))"
            ".map(e => { const r = e.getBoundingClientRect(); return [e.className, r.left, r.right]; })"
        )
        boxes.sort(key=lambda box: box[1])
        for (name, _left, right), (next_name, next_left, _right) in itertools.pairwise(boxes):
            assert right <= next_left + 0.5, f"{name} overlaps {next_name}"
        search_box = page.locator(".nav-search input")
        if search_box.is_visible():
            assert search_box.bounding_box()["width"] >= 140, "the search box is squeezed"
        else:
            assert page.locator(".nav-search-icon").is_visible()
        page.locator(".account-menu summary").click()
        page.locator(".account-menu").get_by_role("button", name="Выйти").wait_for()
    assert problems == []
    context.close()

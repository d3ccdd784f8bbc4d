"""Chromium smoke test: the real server, the home page with demo auctions, dev login.

Uses Debian's /usr/bin/chromium through Playwright (no downloaded browsers).
"""

from __future__ import annotations

import time

import pytest

from tests.support.servers import run_server

pytestmark = pytest.mark.browser


@pytest.fixture
def demo_site(app):
    """The real server with the demo data `make run` seeds."""
    from auction.services.demo import seed_demo

    with app.app_context():
        seed_demo()
    with run_server(app) as base_url:
        yield base_url


def open_page(browser, base_url: str, width: int):
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="en-US")
    page = context.new_page()
    problems: list[str] = []
    # Hermetic: nothing leaves the machine (the login widget would load from telegram.org).
    page.route("**/*", lambda route: route.continue_() if route.request.url.startswith(base_url) else route.abort())
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on(
        "console",
        lambda message: (
            problems.append(f"console: {message.text}")
            if message.type == "error" and "telegram.org" not in message.text and "ERR_FAILED" not in message.text
            else None
        ),
    )
    return context, page, problems


def load_card_photos(page) -> bool:
    """Scroll every (lazy) card photo into view; True when all of them decoded."""
    images = page.locator(".auction-card img")
    for index in range(images.count()):
        images.nth(index).scroll_into_view_if_needed()
    check = "[...document.querySelectorAll('.auction-card img')].every(i => i.complete && i.naturalWidth > 0)"
    deadline = time.monotonic() + 10
    while not page.evaluate(check):  # evaluate, not wait_for_function: the CSP forbids eval
        if time.monotonic() > deadline:
            return False
        page.wait_for_timeout(50)
    page.evaluate("window.scrollTo(0, 0)")
    return True


def test_home_page_shows_demo_auctions_and_dev_login_signs_in(browser, demo_site):
    context, page, problems = open_page(browser, demo_site, 1280)
    page.goto(demo_site + "/")
    titles = page.locator(".auction-card .card-title").all_inner_texts()
    assert "Telegram gift: Plush Pepe" in titles and len(titles) == 8
    images = page.locator(".auction-card img")
    assert images.count() == 8
    assert load_card_photos(page), "a card photo did not load"

    # htmx is loaded under the Content-Security-Policy and boosts navigation (no full reload).
    assert page.evaluate("typeof htmx") == "object"
    page.evaluate("window.__sameDocument = true")

    page.get_by_role("link", name="Sign in").click()
    page.get_by_role("link", name="Try it with a demo user").click()
    page.get_by_role("heading", name="Demo sign-in").wait_for()
    assert "/dev-login" in page.url
    page.get_by_role("button", name="Борис Иванов").click()
    page.locator(".nav-user .user-name").wait_for()
    assert page.locator(".nav-user .user-name").inner_text() == "Борис Иванов"
    assert "Борис Иванов" in page.locator(".flashes").inner_text()
    assert page.evaluate("window.__sameDocument === true"), "navigation was not boosted by htmx"

    # A full reload keeps the session; Boris's Telegram language is Russian.
    page.reload()
    assert page.locator(".nav-user .user-name").inner_text() == "Борис Иванов"
    assert page.locator("h1").first.inner_text() == "Идущие аукционы"
    assert problems == []
    context.close()


def test_home_page_screenshots(browser, demo_site):
    for width in (375, 1280):
        context, page, problems = open_page(browser, demo_site, width)
        page.goto(demo_site + "/")
        assert load_card_photos(page)
        # Nothing sticks out sideways, on a phone or a desktop.
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        page.screenshot(path=f"/tmp/home-{width}.png", full_page=True)

        # Signed in, the navigation holds an avatar, a long name and a button: still no overflow.
        page.goto(demo_site + "/dev-login")
        page.get_by_role("button", name="Дарья Кузнецова").click()
        page.locator(".nav-user .user-name").wait_for()
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        page.screenshot(path=f"/tmp/home-{width}-signed-in.png")
        assert problems == []
        context.close()


def test_error_pages_show_up_after_a_boosted_click(browser, demo_site):
    """htmx ignores 4xx/5xx responses by default; a boosted click must still show the error page."""
    context, page, problems = open_page(browser, demo_site, 1280)
    page.goto(demo_site + "/dev-login")
    page.get_by_role("button", name="Alice Smirnova").click()
    page.locator(".nav-user .user-name").wait_for()

    # The session expires in another tab: the CSRF token on this page is no longer valid.
    context.clear_cookies()
    page.locator(".account-menu summary").click()
    page.locator(".account-menu").get_by_role("button", name="Sign out").click()
    page.get_by_role("heading", name="Bad request").wait_for()
    assert "Your form expired or came from another site" in page.locator(".error-page").inner_text()
    # The browser logs the refused request, and the page's live stream may be refused too
    # once the session is gone; what must not happen is a script error or a CSP violation.
    assert [p for p in problems if p.startswith("page error") or "Content Security Policy" in p] == []
    context.close()

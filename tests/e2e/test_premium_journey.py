"""Chromium journey (issue 13, Premium): pay one period from the balance through the confirm step,
see it on /premium, in the header and on the profile, in English and Russian, at 375 px and 1280 px.

Screenshots of /premium, the dashboard and the profile go to /tmp/premium-shots/ for a person to look at.
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from auction.extensions import db
from auction.models import User
from auction.services import ledger
from tests.e2e.test_browser_smoke import demo_site, open_page  # noqa: F401  (the demo site fixture)
from tests.e2e.test_header_and_help import header_height
from tests.support.bidding_helpers import give_stars

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/premium-shots")
NAME = "Дарья Кузнецова"


def stars_in(text: str) -> int:
    """The number in a balance like "1 234 ⭐" (any grouping space)."""
    return int(re.sub(r"\D", "", text))


def check_layout(page, width: int) -> None:
    """One header row holding the mark, nothing in it overlapping, and no sideways scrolling."""
    assert header_height(page) <= 64, "the header wrapped"
    assert page.evaluate("document.documentElement.scrollWidth") <= width, "the page scrolls sideways"
    assert page.locator("#nav-premium").is_visible()
    boxes = page.evaluate(
        "[...document.querySelectorAll('.nav > *, .nav-links > li, .nav-tools > *, .nav-user > *')]"
        ".filter(e => e.offsetParent !== null && !e.matches('.nav-links, .nav-user, .nav-tools'))"
        ".map(e => { const r = e.getBoundingClientRect(); return [e.className, r.left, r.right]; })"
    )
    boxes.sort(key=lambda box: box[1])
    for (name, _left, right), (next_name, next_left, _right) in itertools.pairwise(boxes):
        assert right <= next_left + 0.5, f"{name} overlaps {next_name} at {width} px"


def switch_language(page, button: str) -> None:
    """The header's own switch: in the account menu on a wide screen."""
    page.locator(".account-menu summary").click()
    page.locator(".account-menu").get_by_role("button", name=button).click()


def test_pay_premium_from_the_balance_and_see_it_everywhere(browser, demo_site, app):  # noqa: F811
    with app.app_context():
        daria = db.session.scalar(select(User.id).where(User.first_name == "Дарья"))
        db.session.remove()
    give_stars(app, daria, 300)
    with app.app_context():
        before = ledger.balances(daria).available
        db.session.remove()
    SHOTS.mkdir(exist_ok=True)

    context, page, problems = open_page(browser, demo_site, 1280)
    page.goto(demo_site + "/dev-login")
    page.get_by_role("button", name=NAME).click()
    page.locator(".nav-user .user-name").wait_for()
    assert page.locator("#nav-premium").count() == 0  # no mark before paying
    switch_language(page, "EN English")  # Дарья reads Russian; the journey starts in English
    page.get_by_role("heading", name="Live auctions").wait_for()

    page.goto(demo_site + "/premium")
    assert "You do not have Premium." in page.locator("#premium-state").inner_text()
    page.locator("#premium-pay").get_by_role("link", name=re.compile(r"^Pay 250 .* from your Stars$")).click()
    page.wait_for_url(demo_site + "/premium/pay")
    confirm = page.locator("#premium-confirm")
    assert "Amount: 250 ⭐ for 30 days." in confirm.inner_text()
    confirm.get_by_role("button", name=re.compile(r"^Pay 250")).click()
    page.wait_for_url(demo_site + "/premium")
    assert "Premium paid: 250 Stars from your wallet." in page.locator(".flash-success").inner_text()
    assert "You have Premium until" in page.locator("#premium-state").inner_text()
    assert stars_in(page.locator("#nav-balance").inner_text()) == before - 250

    mark = page.locator("#nav-premium")
    assert mark.is_visible() and mark.get_attribute("href") == "/premium"
    page.locator("a.user-chip").click()
    page.wait_for_url(f"{demo_site}/users/{daria}")
    assert page.locator("#profile-premium").inner_text() == "Premium"

    page.goto(demo_site + "/wallet")
    line = page.locator("#wallet-history li").first.inner_text()
    assert "Premium, 30 days" in line and "paid from your wallet" in line and "−250" in line

    for width in (375, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        for path, name in (("/premium", "premium"), ("/dashboard", "dashboard"), (f"/users/{daria}", "profile")):
            page.goto(demo_site + path)
            check_layout(page, width)
            page.screenshot(path=str(SHOTS / f"{name}-en-{width}.png"), full_page=True)
            if name == "dashboard":
                assert "renewal off" in page.locator("#dashboard-premium").inner_text()

    # Russian, through the header's own switch (in the account menu on a wide screen).
    page.goto(demo_site + "/premium")
    switch_language(page, "RU Русский")
    page.get_by_role("heading", name="Ваш Premium").wait_for()
    assert "У вас Premium до" in page.locator("#premium-state").inner_text()
    page.goto(demo_site + "/dashboard")
    assert "продление выключено" in page.locator("#dashboard-premium").inner_text()
    assert page.locator("#nav-premium").get_attribute("title") == "У вас Premium"
    page.goto(f"{demo_site}/users/{daria}")
    assert page.locator("#profile-premium").is_visible()
    page.goto(demo_site + "/wallet")
    assert "Premium, 30 дней" in page.locator("#wallet-history li").first.inner_text()

    for width in (375, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        for path, name in (("/premium", "premium"), ("/dashboard", "dashboard"), (f"/users/{daria}", "profile")):
            page.goto(demo_site + path)
            check_layout(page, width)
            page.screenshot(path=str(SHOTS / f"{name}-ru-{width}.png"), full_page=True)
    assert problems == []
    context.close()

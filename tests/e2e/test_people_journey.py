"""Chromium journey (issue 13): sign in, bid and win, rate the seller, see the rating on the
seller's profile and the "first win" badge on your own."""

from __future__ import annotations

import pytest

from auction.extensions import db
from auction.services import lifecycle
from tests.support.bidding_helpers import end_now, give_stars, new_auction
from tests.support.servers import run_server

pytestmark = pytest.mark.browser


def test_bid_win_rate_and_see_rating_and_badge(app, make_user, browser):
    seller = make_user("Sam", last_name="Seller", is_demo=True)
    buyer = make_user("Bea", last_name="Buyer", is_demo=True)
    give_stars(app, buyer, 500)
    auction_id = new_auction(app, seller, title="Leica M3", start_price=100)
    with run_server(app) as base_url:
        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
        page = context.new_page()
        problems: list[str] = []
        page.on("pageerror", lambda error: problems.append(str(error)))
        page.goto(f"{base_url}/dev-login")
        page.click(f"[data-testid=demo-user-{buyer}]")
        page.wait_for_url(f"{base_url}/")

        page.goto(f"{base_url}/auctions/{auction_id}")
        page.fill("#bid-amount", "100")
        page.click("#bid-form button[type=submit]")
        page.wait_for_selector("#bid-form-box .form-message")
        end_now(app, auction_id)
        with app.app_context():
            lifecycle.close_auction(auction_id)
            db.session.remove()

        page.goto(f"{base_url}/dashboard")
        won = page.locator("#dash-won")
        assert "Leica M3" in won.inner_text() and "Sam S." in won.inner_text()
        won.get_by_role("link", name="Rate the seller").click()
        page.wait_for_url(f"{base_url}/auctions/{auction_id}/rate")
        page.check("input[name=score][value='5']")
        page.fill("#rate-comment", "Exactly as described.")
        page.get_by_role("button", name="Save my rating").click()
        page.wait_for_selector(".flash-success")
        assert "your rating is saved" in page.locator(".flash-success").inner_text()

        page.goto(f"{base_url}/users/{seller}")
        assert "5.0" in page.locator("#rating-as-seller").inner_text()
        assert "Exactly as described." in page.locator("#reviews").inner_text()

        page.locator("a.user-chip").click()
        page.wait_for_url(f"{base_url}/users/{buyer}")
        page.wait_for_selector("#badge-first_win")
        badge = page.locator("#badge-first_win")
        assert "badge-awarded" in badge.get_attribute("class")
        assert "First win" in badge.inner_text()
        assert problems == []
        context.close()

"""Inline validation of the listing form: leaving a field shows (or clears) its error, nothing is saved."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from auction.extensions import db
from auction.models import Auction
from tests.conftest import csrf_token, page
from tests.support.bidding_helpers import give_stars, new_auction
from tests.web.test_listing_form import listing_fields, png_bytes, post_listing


def leave_field(client, field: str, url: str = "/auctions/new/validate", token: str | None = None, **overrides):
    """What htmx sends when the user leaves `field`: the whole form (but photos), the field's name, the CSRF header."""
    token = token or csrf_token(client, "/auctions/new")
    return client.post(
        url,
        data=listing_fields(**overrides),
        headers={"HX-Request": "true", "HX-Trigger-Name": field, "HX-Trigger": f"f-{field}", "X-CSRFToken": token},
    )


def auction_count(app) -> int:
    with app.app_context():
        count = db.session.scalar(select(func.count(Auction.id)))
        db.session.remove()
        return count


def test_every_field_asks_the_server_as_it_is_left(user_client):
    form = page(user_client.get("/auctions/new")).select_one("#listing-form")
    start = form.select_one("input[name=start_price]")
    assert start["hx-post"] == "/auctions/new/validate" and start["hx-trigger"] == "change"
    assert start["hx-target"] == "#err-start_price" and form.select_one("#err-start_price") is not None
    assert form.select_one("select[name=duration_unit]")["hx-target"] == "#err-duration_value"
    assert form.select_one("input[name=photos]").get("hx-post") is None  # checked on submit only
    # The form itself still posts to the create view: without JavaScript it is a plain form.
    assert form["action"] == "/auctions/new" and form["method"] == "post"


def test_a_bad_start_price_shows_its_error_and_a_good_one_clears_it(app, user_client):
    token = csrf_token(user_client, "/auctions/new")
    response = leave_field(user_client, "start_price", token=token, start_price="0", buy_now_price="")
    assert response.status_code == 200
    doc = page(response)
    slot = doc.select_one("#err-start_price")
    assert slot is not None and not slot.has_attr("hx-swap-oob")  # the swap target itself
    assert slot.select_one(".field-error").get_text(strip=True) == "The start price must be at least 1 Star."

    doc = page(leave_field(user_client, "start_price", token=token, start_price="12 5x"))
    assert doc.select_one("#err-start_price .field-error").get_text(strip=True) == "Enter a whole number."

    doc = page(leave_field(user_client, "start_price", token=token, start_price="50"))
    assert doc.select_one("#err-start_price") is not None and doc.select_one("#err-start_price").get_text(strip=True) == ""
    assert not doc.select(".field-error")
    assert auction_count(app) == 0  # validating never saves


def test_related_fields_are_rechecked_out_of_band(user_client):
    token = csrf_token(user_client, "/auctions/new")
    doc = page(leave_field(user_client, "reserve_price", token=token, start_price="50", reserve_price="30"))
    assert "cannot be below the start price" in doc.select_one("#err-reserve_price").get_text()

    # Lowering the start price below the reserve clears the reserve's error from the same response.
    doc = page(leave_field(user_client, "start_price", token=token, start_price="20", reserve_price="30", buy_now_price="400"))
    assert doc.select_one("#err-start_price").get_text(strip=True) == ""
    reserve = doc.select_one("#err-reserve_price")
    assert reserve["hx-swap-oob"] == "true" and reserve.get_text(strip=True) == ""

    # An empty field the user has not reached yet stays quiet (the title here).
    doc = page(leave_field(user_client, "buy_now_price", token=token, title="", buy_now_price="10"))
    assert "above the start price" in doc.select_one("#err-buy_now_price").get_text()
    assert doc.select_one("#err-title") is None


def test_grouped_rules_report_under_their_group(user_client):
    token = csrf_token(user_client, "/auctions/new")
    doc = page(leave_field(user_client, "duration_value", token=token, duration_value="45"))
    assert doc.select_one("#err-duration_value").get_text(strip=True) == ""
    assert "between 1 minute and 30 days" in doc.select_one("#err-duration[hx-swap-oob]").get_text()

    doc = page(leave_field(user_client, "dutch_floor", token=token, kind="dutch", start_price="100", dutch_floor="150",
                           dutch_step="5", dutch_interval_minutes="10", buy_now_price=""))
    assert "floor price must be below the start price" in doc.select_one("#err-dutch").get_text()

    doc = page(leave_field(user_client, "title", token=token, title=" "))
    assert doc.select_one("#err-title .field-error").get_text(strip=True) == "Give the item a title."


def test_errors_in_russian(app, make_user, client):
    from tests.conftest import sign_in

    user = make_user("Ivan", language_code="ru")
    sign_in(client, user)
    client.get("/locale?lang=ru")  # harmless if the language already follows the profile
    token = csrf_token(client, "/auctions/new")
    doc = page(leave_field(client, "start_price", token=token, start_price="0"))
    assert doc.select_one("#err-start_price .field-error").get_text(strip=True) == "Стартовая цена должна быть не меньше 1 звезды."


def test_without_javascript_the_submit_shows_every_error(app, user_client):
    response = post_listing(user_client, [], title="", start_price="0", reserve_price="x", duration_value="")
    assert response.status_code == 422
    doc = page(response)
    assert "Give the item a title." in doc.select_one("#err-title").get_text()
    assert doc.select_one("#err-start_price .field-error").get_text(strip=True) == "The start price must be at least 1 Star."
    assert doc.select_one("#err-reserve_price .field-error").get_text(strip=True) == "Enter a whole number."
    assert doc.select_one("#err-duration_value .field-error").get_text(strip=True) == "This field is required."
    assert doc.select_one("#err-photos").get_text(strip=True) == "Add at least one photo."
    assert auction_count(app) == 0
    # A good submit still lists the item.
    assert post_listing(user_client, [("a.png", png_bytes())]).status_code == 303


def test_the_validate_endpoint_without_htmx_shows_the_whole_form(app, user_client):
    token = csrf_token(user_client, "/auctions/new")
    response = user_client.post("/auctions/new/validate", data={**listing_fields(start_price="0"), "csrf_token": token})
    assert response.status_code == 422
    doc = page(response)
    assert doc.select_one("#listing-form") is not None and "at least 1 Star" in doc.select_one("#err-start_price").get_text()
    assert auction_count(app) == 0


def test_edit_form_validates_inline_for_its_seller_only(app, user_client, make_user, client):
    auction_id = new_auction(app, user_client.user_id, title="Old lamp", reserve_price=None)
    form = page(user_client.get(f"/auctions/{auction_id}/edit")).select_one("#listing-form")
    url = f"/auctions/{auction_id}/edit/validate"
    assert form.select_one("input[name=start_price]")["hx-post"] == url
    token = csrf_token(user_client, f"/auctions/{auction_id}")
    doc = page(leave_field(user_client, "start_price", url=url, token=token, start_price="0"))
    assert "at least 1 Star" in doc.select_one("#err-start_price").get_text()
    doc = page(leave_field(user_client, "start_price", url=url, token=token, start_price="25"))
    assert doc.select_one("#err-start_price").get_text(strip=True) == ""
    with app.app_context():
        assert db.session.get(Auction, auction_id).start_price == 10  # nothing saved
        db.session.remove()

    other = make_user("Mallory")
    give_stars(app, other, 1)
    from tests.conftest import sign_in

    sign_in(client, other)
    response = leave_field(client, "start_price", url=url, token=csrf_token(client, f"/auctions/{auction_id}"), start_price="5")
    assert response.status_code == 403


def test_an_unknown_field_is_refused(user_client):
    assert leave_field(user_client, "is_admin").status_code == 400


@pytest.mark.browser
def test_in_chromium_an_error_appears_as_the_field_is_left(app, make_user):
    from playwright.sync_api import expect, sync_playwright

    from tests.e2e.conftest import CHROMIUM, launch_chromium
    from tests.support.servers import run_server

    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed at /usr/bin/chromium")
    seller = make_user("Sam", is_demo=True)
    with run_server(app) as base_url, sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        context = chromium.new_context(locale="en-US")
        page = context.new_page()
        problems: list[str] = []
        page.on("pageerror", lambda error: problems.append(str(error)))
        page.goto(f"{base_url}/dev-login?next=/auctions/new")
        page.get_by_test_id(f"demo-user-{seller}").click()
        page.locator("#listing-form").wait_for()

        posts: list[str] = []
        page.on("request", lambda r: r.method == "POST" and posts.append(r.headers.get("content-type", "")))
        page.locator("#f-start").fill("0")
        page.locator("#f-reserve").focus()  # leaving the field fires its change
        expect(page.locator("#err-start_price")).to_have_text("The start price must be at least 1 Star.")
        page.locator("#f-start").fill("50")
        page.locator("#f-title").focus()
        expect(page.locator("#err-start_price")).to_have_text("")
        assert posts and all(kind.startswith("application/x-www-form-urlencoded") for kind in posts)  # no photo uploads
        assert auction_count(app) == 0 and problems == []
        context.close()
        chromium.close()

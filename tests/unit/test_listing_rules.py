"""The listing's rules and the form around them: the reader's time zone, prices that bypass the
reserve, starts in the past, terms an auction type ignores, negative numbers, lost photos, layout."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from auction.extensions import db
from auction.models import Auction, User
from tests.conftest import csrf_token, page
from tests.support.bidding_helpers import new_auction
from tests.support.premium_helpers import make_premium
from tests.web.test_listing_form import png_bytes, post_listing
from tests.web.test_listing_validation import auction_count, leave_field


def report_zone(client, name: str, token: str | None = None):
    """What app.js sends once it finds the browser's zone differs from the page's."""
    token = token or csrf_token(client)
    return client.post("/timezone", data={"timezone": name}, headers={"X-CSRFToken": token})


def newest_auction(app) -> Auction:
    with app.app_context():
        auction = db.session.scalars(select(Auction).order_by(Auction.id.desc())).first()
        db.session.expunge(auction)
        db.session.remove()
        return auction


def field_error(response, slot: str) -> str:
    found = page(response).select_one(f"#err-{slot}")
    return found.get_text().strip() if found else ""


# --- 1. time zones -------------------------------------------------------------------------


def test_pages_say_utc_until_the_browser_reports_a_zone(user_client):
    doc = page(user_client.get("/auctions/new"))
    assert doc.body["data-timezone"] == "UTC"
    assert doc.select_one(".start-fieldset .timezone-note").get_text().strip() == "Times are in UTC."
    assert "Times are in UTC." in doc.select_one("footer").get_text()


def test_a_signed_in_users_zone_is_stored_and_used_for_the_start_time(app, user_client):
    assert report_zone(user_client, "Europe/Moscow").status_code == 204
    with app.app_context():
        assert db.session.get(User, user_client.user_id).timezone == "Europe/Moscow"
    doc = page(user_client.get("/auctions/new"))
    assert doc.body["data-timezone"] == "Europe/Moscow"
    assert doc.select_one(".start-fieldset .timezone-note").get_text().strip() == "Times are in Europe/Moscow."

    opens = (datetime.now(ZoneInfo("Europe/Moscow")) + timedelta(days=1)).replace(hour=20, minute=9, second=0, microsecond=0)
    response = post_listing(user_client, [("a.png", png_bytes())], start_mode="later", starts_at=opens.strftime("%Y-%m-%dT%H:%M"))
    assert response.status_code == 303
    auction = newest_auction(app)
    assert auction.status == "scheduled"
    assert auction.starts_at == opens.astimezone(UTC)  # 20:09 in Moscow is 17:09 UTC
    shown = page(user_client.get(response.headers["Location"])).get_text()
    assert "8:09" in shown and "5:09" not in shown  # the page shows it back in Moscow time


def test_a_visitors_zone_lives_in_the_session(app, client):
    assert report_zone(client, "Asia/Tokyo").status_code == 204
    doc = page(client.get("/"))
    assert doc.body["data-timezone"] == "Asia/Tokyo" and "Times are in Asia/Tokyo." in doc.select_one("footer").get_text()


@pytest.mark.parametrize("name", ["Mars/Olympus", "../../etc/passwd", "", "utc/../UTC", "x" * 300])
def test_unknown_zones_are_refused(app, user_client, name):
    assert report_zone(user_client, name).status_code == 400
    with app.app_context():
        assert db.session.get(User, user_client.user_id).timezone == "UTC"
    assert page(user_client.get("/")).body["data-timezone"] == "UTC"


def test_reporting_a_zone_needs_the_csrf_token(client):
    assert client.post("/timezone", data={"timezone": "Europe/Moscow"}).status_code == 400


# --- 2-5. the listing's rules ---------------------------------------------------------------


def test_buy_it_now_below_the_reserve_is_refused(app, user_client):
    response = post_listing(user_client, [("a.png", png_bytes())], start_price="10", reserve_price="1000", buy_now_price="50")
    assert response.status_code == 422
    assert field_error(response, "buy_now_price") == "The buy-it-now price must be at least the reserve price."
    assert page(response).select_one("input[name=buy_now_price]")["aria-invalid"] == "true"
    assert auction_count(app) == 0
    assert post_listing(user_client, [("a.png", png_bytes())], start_price="10", reserve_price="1000", buy_now_price="1000").status_code == 303


def test_a_start_time_in_the_past_is_refused(app, user_client):
    past = (datetime.now(UTC) - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    response = post_listing(user_client, [("a.png", png_bytes())], start_mode="later", starts_at=past)
    assert response.status_code == 422
    assert field_error(response, "starts_at").startswith("The start time has passed.")
    assert auction_count(app) == 0
    # Inline too, as the field is left.
    assert "The start time has passed." in field_error(leave_field(user_client, "starts_at", start_mode="later", starts_at=past), "starts_at")
    # A time typed a moment ago (the minute the form was filled in) still opens at once.
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M")
    assert post_listing(user_client, [("a.png", png_bytes())], start_mode="later", starts_at=now).status_code == 303
    assert newest_auction(app).status == "live"


DUTCH = {"kind": "dutch", "start_price": "100", "buy_now_price": "", "dutch_floor": "20", "dutch_step": "10",
         "dutch_interval_minutes": "5", "snipe_window_minutes": "", "snipe_extension_minutes": ""}


@pytest.mark.parametrize(
    ("fields", "slot", "message"),
    [
        ({**DUTCH, "reserve_price": "50"}, "reserve_price", "A Dutch auction has no reserve"),
        ({**DUTCH, "increment": "5"}, "increment", "A bid increment is only for English auctions."),
        ({**DUTCH, "snipe_window_minutes": "2"}, "snipe", "has no anti-sniping"),
        ({"kind": "sealed_first", "buy_now_price": "", "increment": "5"}, "increment", "A bid increment is only for English auctions."),
        ({"dutch_floor": "5"}, "dutch", "only for Dutch auctions"),
    ],
)
def test_terms_the_type_ignores_are_refused(app, user_client, fields, slot, message):
    response = post_listing(user_client, [("a.png", png_bytes())], **fields)
    assert response.status_code == 422
    assert message in field_error(response, slot)
    assert auction_count(app) == 0


def test_each_type_lists_with_the_terms_it_uses(app, user_client):
    make_premium(app, user_client.user_id)  # Dutch and sealed-bid auctions need Premium
    # A Dutch auction straight from the form without JavaScript: the anti-sniping fields start empty.
    doc = page(user_client.get("/auctions/new"))
    assert doc.select_one("input[name=snipe_window_minutes]").get("value", "") == ""
    assert post_listing(user_client, [("a.png", png_bytes())], **DUTCH).status_code == 303
    dutch = newest_auction(app)
    assert (dutch.kind, dutch.dutch_floor, dutch.snipe_window_seconds, dutch.reserve_price) == ("dutch", 20, 0, None)

    response = post_listing(user_client, [("a.png", png_bytes())], kind="sealed_second", buy_now_price="", reserve_price="80",
                            snipe_window_minutes="5", snipe_extension_minutes="")
    assert response.status_code == 303
    sealed = newest_auction(app)
    assert (sealed.reserve_price, sealed.snipe_window_seconds, sealed.snipe_extension_seconds) == (80, 300, 120)


def test_the_service_refuses_them_for_every_caller(app, make_user):
    from auction.services.listings import InvalidListing, ListingDraft, create_listing

    seller = make_user("Bot seller")
    draft = ListingDraft(title="Clock", description="", start_price=100, duration=timedelta(hours=1), kind="dutch",
                         reserve_price=50, dutch_floor=20, dutch_step=5, dutch_interval_seconds=60, photos=[png_bytes()])
    with app.app_context():
        with pytest.raises(InvalidListing) as refused:
            create_listing(seller, draft)
        assert set(refused.value.errors) == {"reserve_price"}
        draft = ListingDraft(title="Clock", description="", start_price=10, duration=timedelta(hours=1),
                             reserve_price=1000, buy_now_price=50, photos=[png_bytes()])
        with pytest.raises(InvalidListing) as refused:
            create_listing(seller, draft)
        assert set(refused.value.errors) == {"buy_now_price"}
        db.session.remove()


def test_the_form_marks_which_types_use_each_term(user_client):
    form = page(user_client.get("/auctions/new")).select_one("#listing-form")
    kinds = {el.select_one("input")["name"]: el["data-kinds"].split() for el in form.select("[data-kinds]")}
    assert kinds["reserve_price"] == ["english", "sealed_first", "sealed_second"]
    assert kinds["buy_now_price"] == ["english"] and kinds["increment"] == ["english"]
    assert kinds["snipe_window_minutes"] == ["english", "sealed_first", "sealed_second"]
    assert kinds["dutch_floor"] == ["dutch"]
    assert not form.select("[data-kinds][hidden]")  # without JavaScript everything shows


def test_editing_shows_only_the_terms_of_the_listings_type(app, user_client):
    dutch_id = new_auction(app, user_client.user_id, kind="dutch", start_price=100, dutch_floor=20, dutch_step=10,
                           dutch_interval_seconds=300)
    form = page(user_client.get(f"/auctions/{dutch_id}/edit")).select_one("#listing-form")
    names = {el["name"] for el in form.select("input[name]")}
    assert {"dutch_floor", "start_price"} <= names
    assert not names & {"reserve_price", "buy_now_price", "increment", "snipe_window_minutes"}
    data = {"title": "Dutch clock", "start_price": "90", "duration_value": "1", "duration_unit": "hours", "dutch_floor": "20",
            "dutch_step": "10", "dutch_interval_minutes": "5", "csrf_token": csrf_token(user_client, f"/auctions/{dutch_id}")}
    assert user_client.post(f"/auctions/{dutch_id}/edit", data=data).status_code == 303

    sealed_id = new_auction(app, user_client.user_id, kind="sealed_first")
    form = page(user_client.get(f"/auctions/{sealed_id}/edit")).select_one("#listing-form")
    names = {el["name"] for el in form.select("input[name]")}
    assert {"reserve_price", "snipe_window_minutes"} <= names and not names & {"increment", "buy_now_price", "dutch_floor"}


@pytest.mark.parametrize(("field", "message"), [("snipe_window_minutes", "The anti-sniping window cannot be negative."),
                                                ("snipe_extension_minutes", "The extension cannot be negative.")])
def test_a_negative_anti_sniping_number_says_so_on_its_input(app, user_client, field, message):
    response = post_listing(user_client, [], **{field: "-1"})
    assert field_error(response, field) == message
    doc = page(response)
    assert doc.select_one(f"input[name={field}]")["aria-invalid"] == "true"
    assert doc.select_one(f"input[name={field}]")["aria-describedby"] == f"{field}-error"
    assert field_error(leave_field(user_client, field, **{field: "-1"}), field) == message
    other = ({"snipe_window_minutes", "snipe_extension_minutes"} - {field}).pop()
    assert not doc.select_one(f"input[name={other}]").has_attr("aria-invalid")


def test_a_negative_price_is_below_the_minimum_not_unreadable(user_client):
    assert field_error(post_listing(user_client, [], start_price="-5"), "start_price") == "The start price must be at least 1 Star."
    assert field_error(post_listing(user_client, [], start_price="-"), "start_price") == "Enter a whole number."


# --- 6. photos after an error ---------------------------------------------------------------


def test_photos_are_kept_after_an_error(app, user_client):
    response = post_listing(user_client, [("a.png", png_bytes()), ("b.png", png_bytes())], title="")
    assert response.status_code == 422
    doc = page(response)
    assert len(doc.select(".photo-picker-item img")) == 2  # shown, not asked for again
    assert field_error(response, "photos") == ""
    # Without photos the usual rule speaks; a bad photo keeps its own message.
    assert field_error(post_listing(user_client, [], title=""), "photos") == "Add at least one photo."
    assert "Photo 1" in field_error(post_listing(user_client, [("x.png", b"not an image")]), "photos")


def test_photo_message_in_russian(app, make_user, client):
    from tests.conftest import sign_in

    sign_in(client, make_user("Ivan", language_code="ru"))
    response = post_listing(client, [("a.png", png_bytes())] * 11, title="")
    assert field_error(response, "photos") == "В объявлении может быть не больше 10 фото; вы выбрали 11. Выберите меньше."


# --- in a browser: the zone reported, the terms switched, the radios' layout --------------------


@pytest.mark.browser
@pytest.mark.parametrize("width", [375, 1280])
def test_in_chromium_the_form_follows_the_browser(app, make_user, width):
    from playwright.sync_api import expect, sync_playwright

    from tests.e2e.conftest import CHROMIUM, launch_chromium
    from tests.support.servers import run_server

    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed at /usr/bin/chromium")
    seller = make_user("Sam", is_demo=True)
    with run_server(app) as base_url, sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        context = chromium.new_context(locale="en-US", timezone_id="Europe/Moscow", viewport={"width": width, "height": 900})
        tab = context.new_page()
        problems: list[str] = []
        tab.on("pageerror", lambda error: problems.append(str(error)))
        tab.goto(f"{base_url}/dev-login?next=/auctions/new")
        tab.get_by_test_id(f"demo-user-{seller}").click()
        tab.locator("#listing-form").wait_for()

        expect(tab.locator(".start-fieldset .timezone-note")).to_have_text("Times are in Europe/Moscow.")
        with app.app_context():
            assert db.session.get(User, seller).timezone == "Europe/Moscow"
            db.session.remove()

        # Radios sit beside their labels, at their own size.
        for value in ("now", "later"):
            radio = tab.locator(f"input[name=start_mode][value={value}]").bounding_box()
            label = tab.locator(f"label.choice:has(input[value={value}])").bounding_box()
            assert radio["width"] < 30 and radio["height"] < 30
            assert label["height"] < 50 and label["width"] < width / 2

        # The terms of the chosen type only.
        tab.locator("#f-kind").select_option("dutch")
        expect(tab.locator("#f-reserve")).to_be_hidden()
        expect(tab.locator("#f-window")).to_be_hidden()
        expect(tab.locator("#f-floor")).to_be_visible()
        tab.locator("#f-kind").select_option("sealed_first")
        expect(tab.locator("#f-reserve")).to_be_visible()
        expect(tab.locator("#f-increment")).to_be_hidden()
        expect(tab.locator("#f-floor")).to_be_hidden()
        assert tab.evaluate("document.documentElement.scrollWidth") <= width
        assert problems == []
        context.close()
        chromium.close()

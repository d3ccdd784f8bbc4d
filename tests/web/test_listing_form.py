"""Listing an item through the web form: photos, errors next to fields, editing before the first bid."""

from __future__ import annotations

import io

from PIL import Image

from auction.extensions import db
from auction.services import bidding
from tests.conftest import csrf_token, page
from tests.support.bidding_helpers import give_stars, new_auction


def png_bytes(size=(64, 48)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 80, 40)).save(buffer, "PNG")
    return buffer.getvalue()


def listing_fields(**overrides) -> dict:
    fields = {
        "title": "Brass telescope",
        "description": "A fine old telescope.",
        "kind": "english",
        "start_price": "50",
        "reserve_price": "",
        "buy_now_price": "400",
        "increment": "",
        "start_mode": "now",
        "duration_value": "3",
        "duration_unit": "days",
        "snipe_window_minutes": "2",
        "snipe_extension_minutes": "2",
    }
    fields.update(overrides)
    return fields


def post_listing(client, photos, htmx=False, **overrides):
    data = listing_fields(**overrides)
    data["csrf_token"] = csrf_token(client, "/auctions/new")
    data["photos"] = [(io.BytesIO(content), name) for name, content in photos]
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post("/auctions/new", data=data, content_type="multipart/form-data", headers=headers)


def test_sign_in_needed_for_the_form(client):
    response = client.get("/auctions/new")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_create_listing_shows_the_auction_page(user_client):
    form = page(user_client.get("/auctions/new"))
    assert form.select_one("#listing-form input[name=title]") is not None
    response = post_listing(user_client, [("a.png", png_bytes()), ("b.png", png_bytes((80, 80)))])
    assert response.status_code == 303
    doc = page(user_client.get(response.headers["Location"]))
    assert doc.h1.get_text(strip=True) == "Brass telescope"
    assert len(doc.select(".gallery-strip img")) == 2
    assert "50" in doc.select_one("[data-price]").get_text()
    assert "Your auction is listed" in doc.get_text()
    assert "This is your auction" in doc.get_text()


def test_htmx_create_redirects_with_a_header(user_client):
    response = post_listing(user_client, [("a.png", png_bytes())], htmx=True)
    assert response.status_code == 204 and response.headers["HX-Redirect"].startswith("/auctions/")


def test_bad_photo_and_bad_fields_show_errors_next_to_them(user_client):
    response = post_listing(user_client, [("notes.png", b"this is not an image")], start_price="abc")
    assert response.status_code == 422
    doc = page(response)
    assert doc.select_one("#start_price-error").get_text(strip=True) == "Enter a whole number."
    assert doc.select_one("input[name=title]")["value"] == "Brass telescope"  # what was typed stays

    response = post_listing(user_client, [("notes.png", b"this is not an image")], htmx=True)
    doc = page(response)
    assert doc.select_one("#listing-form") and "Photo 1" in doc.select_one("#photos-error").get_text()

    response = post_listing(user_client, [], buy_now_price="20", duration_value="40")
    doc = page(response)
    assert "above the start price" in doc.select_one("#buy_now_price-error").get_text()
    assert "between 1 minute and 30 days" in doc.select_one("#duration-error").get_text()
    assert doc.select_one("#photos-error").get_text(strip=True) == "Add at least one photo."
    assert "/auctions/" not in response.headers.get("Location", "")


def test_seller_edits_until_the_first_bid(app, user_client, make_user):
    auction_id = new_auction(app, user_client.user_id, title="Old lamp")
    doc = page(user_client.get(f"/auctions/{auction_id}/edit"))
    assert doc.select_one("input[name=title]")["value"] == "Old lamp"
    data = {**listing_fields(title="Old brass lamp", start_price="30", duration_value="2", duration_unit="hours"),
            "csrf_token": csrf_token(user_client, f"/auctions/{auction_id}")}
    response = user_client.post(f"/auctions/{auction_id}/edit", data=data, follow_redirects=True)
    doc = page(response)
    assert doc.h1.get_text(strip=True) == "Old brass lamp" and "30" in doc.select_one("[data-price]").get_text()

    bidder = make_user("Bob")
    give_stars(app, bidder, 100)
    with app.app_context():
        bidding.place_bid(auction_id, bidder, 40)
        db.session.remove()
    response = user_client.get(f"/auctions/{auction_id}/edit", follow_redirects=True)
    assert "only be changed before the first bid" in page(response).get_text()

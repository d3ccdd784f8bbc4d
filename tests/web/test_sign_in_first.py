"""Flask-Login's unauthorized handler: signed-out actions go to sign in, htmx ones by HX-Redirect."""

from __future__ import annotations

from tests.conftest import csrf_token
from tests.support.bidding_helpers import new_auction

HX = {"HX-Request": "true"}


def token(client, auction_id):
    return {"X-CSRFToken": csrf_token(client, f"/auctions/{auction_id}")}


def test_a_signed_out_htmx_bid_is_sent_to_sign_in_and_back_to_the_page(app, client, make_user):
    auction_id = new_auction(app, make_user("Sam"))
    response = client.post(f"/auctions/{auction_id}/bids", data={"amount": "50"}, headers={**HX, **token(client, auction_id)})
    assert response.status_code == 204
    assert response.headers["HX-Redirect"] == f"/login?next=/auctions/{auction_id}"


def test_htmx_comes_back_to_the_page_it_was_sent_from(app, client, make_user):
    auction_id = new_auction(app, make_user("Sam"))
    headers = {**HX, **token(client, auction_id), "HX-Current-URL": f"http://localhost/auctions/{auction_id}?photo=2"}
    response = client.post(f"/auctions/{auction_id}/buy-now", headers=headers)
    assert response.headers["HX-Redirect"] == f"/login?next=/auctions/{auction_id}?photo%3D2"
    elsewhere = {**HX, **token(client, auction_id), "HX-Current-URL": "https://evil.example/phish"}
    response = client.post(f"/auctions/{auction_id}/buy-now", headers=elsewhere)
    assert response.headers["HX-Redirect"] == f"/login?next=/auctions/{auction_id}"


def test_a_plain_signed_out_action_and_page_redirect(app, client, make_user):
    auction_id = new_auction(app, make_user("Sam"))
    response = client.post(f"/auctions/{auction_id}/cancel", headers=token(client, auction_id))
    assert response.status_code == 302 and response.headers["Location"] == f"/login?next=/auctions/{auction_id}"
    response = client.get("/auctions/new")
    assert response.status_code == 302 and response.headers["Location"] == "/login?next=/auctions/new"

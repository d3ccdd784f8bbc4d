"""One action, one effect (issue 10 item 5): a creating form's one-time key makes a double click
or a retried request create one thing, and the second answer leads to the first result."""

from __future__ import annotations

import io
import re
import threading

import httpx
from bs4 import BeautifulSoup
from sqlalchemy import func, select

from auction.extensions import db
from auction.models import Auction, AuctionImage, StarPurchase
from tests.conftest import csrf_token, page, sign_in
from tests.support.fake_telegram import bot_config, run_bot
from tests.support.servers import run_server
from tests.web.test_listing_form import listing_fields, png_bytes


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def test_two_identical_concurrent_listings_create_one_auction(app, make_user):
    flask_client = app.test_client()
    sign_in(flask_client, make_user("Seller"))
    with run_server(app) as base_url:
        form_page = httpx.get(f"{base_url}/auctions/new", cookies={"session": flask_client.get_cookie("session").value})
        cookie = form_page.cookies.get("session") or flask_client.get_cookie("session").value
        html = BeautifulSoup(form_page.text, "html.parser")
        form = {
            **listing_fields(),
            "csrf_token": html.select_one("input[name=csrf_token]")["value"],
            "submission_key": html.select_one("input[name=submission_key]")["value"],
        }
        files = [("photos", ("a.png", png_bytes((1200, 900)), "image/png"))]
        barrier = threading.Barrier(2)
        answers = []

        def send():
            with httpx.Client(base_url=base_url, cookies={"session": cookie}, timeout=60) as client:
                barrier.wait()
                answers.append(client.post("/auctions/new", data=form, files=files))

        threads = [threading.Thread(target=send) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert [answer.status_code for answer in answers] == [303, 303]
    assert answers[0].headers["Location"] == answers[1].headers["Location"]
    assert re.fullmatch(r"/auctions/\d+", answers[0].headers["Location"])
    assert count(app, Auction) == 1
    assert count(app, AuctionImage) == 1


def test_a_form_error_lets_the_key_go_so_the_corrected_form_goes_through(user_client):
    token = csrf_token(user_client, "/auctions/new")
    key = "k" * 32
    data = {**listing_fields(title=""), "csrf_token": token, "submission_key": key}
    refused = user_client.post("/auctions/new", data={**data, "photos": [(io.BytesIO(png_bytes()), "a.png")]},
                               content_type="multipart/form-data")
    assert refused.status_code == 422
    assert page(refused).select_one("input[name=submission_key]")["value"] == key  # the same form, the same key
    listed = user_client.post("/auctions/new", data={**data, "title": "Brass telescope", "photos": [(io.BytesIO(png_bytes()), "a.png")]},
                              content_type="multipart/form-data")
    assert listed.status_code == 303
    again = user_client.post("/auctions/new", data={**data, "title": "Brass telescope", "photos": [(io.BytesIO(png_bytes()), "a.png")]},
                             content_type="multipart/form-data")
    assert again.status_code == 303 and again.headers["Location"] == listed.headers["Location"]
    assert count(user_client.application, Auction) == 1


def test_a_repeated_purchase_makes_one_invoice(make_app, make_user, fake_telegram):
    app = make_app(**bot_config(fake_telegram))
    alice = fake_telegram.user("Alice", language_code="en")
    client = app.test_client()
    sign_in(client, make_user("Alice", telegram_id=alice["id"]))
    with run_bot(app):
        html = page(client.get("/wallet"))
        form = {
            "amount": "100",
            "csrf_token": html.select_one("form.wallet-packages input[name=csrf_token]")["value"],
            "submission_key": html.select_one("form.wallet-packages input[name=submission_key]")["value"],
        }
        first = client.post("/wallet/buy", data=form)
        second = client.post("/wallet/buy", data=form)
    assert first.status_code in (302, 303) and second.status_code in (302, 303)
    assert first.headers["Location"] == second.headers["Location"]
    assert count(app, StarPurchase) == 1
    assert len(fake_telegram.calls("createInvoiceLink")) == 1

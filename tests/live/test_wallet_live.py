"""Buying Stars on the wallet page: the invoice link comes from the running bot, the balance updates live."""

from __future__ import annotations

import queue
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import select

from auction.extensions import db
from auction.models import StarPurchase
from tests.conftest import csrf_token, page, sign_in
from tests.live.test_live_stream import SSEClient, session_cookie
from tests.support.fake_telegram import bot_config, run_bot
from tests.support.servers import run_server


def wait_for_event(stream: SSEClient, name: str, timeout: float = 10) -> dict:
    while True:
        try:
            message = stream.next(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no {name} event within {timeout} s") from None
        assert message is not None, "the stream ended"
        if message["event"] == name:
            return message


def test_pay_from_the_wallet_page_and_watch_the_balance_change(make_app, make_user, fake_telegram):
    app = make_app(**bot_config(fake_telegram))
    alice = fake_telegram.user("Alice", language_code="en")
    user_id = make_user("Alice", telegram_id=alice["id"])
    client = app.test_client()
    sign_in(client, user_id)
    with run_server(app) as base_url:
        fake_telegram.wait_for_call("getUpdates")  # the bot is polling
        html = page(client.get("/wallet"))
        assert [b.get_text(strip=True) for b in html.select("form.wallet-packages button")] == [
            "50 ⭐", "100 ⭐", "250 ⭐", "500 ⭐", "1,000 ⭐",
        ]
        response = client.post("/wallet/buy", data={"amount": "100", "csrf_token": csrf_token(client, "/wallet")})
        assert response.status_code == 302
        invoice = fake_telegram.wait_for_call("createInvoiceLink")
        assert invoice["currency"] == "XTR" and [int(p["amount"]) for p in invoice["prices"]] == [100]
        assert invoice.get("provider_token", "") == ""

        html = page(client.get(response.headers["Location"]))
        pay_button = html.find("a", string="Pay in Telegram")
        assert pay_button["href"].startswith("https://t.me/$")
        with app.app_context():
            stored = db.session.scalar(select(StarPurchase))
            assert (stored.source, stored.status, stored.invoice_link) == ("web", "pending", pay_button["href"])
        stream_url = html.find(attrs={"sse-connect": True})["sse-connect"]
        assert parse_qs(urlsplit(stream_url).query)["channels"] == [f"user:{user_id}"]

        cookie = {"Cookie": f"session={session_cookie(app, user_id)}"}
        with SSEClient(base_url + stream_url, headers=cookie) as stream:
            fake_telegram.inject_pre_checkout_query(alice, invoice["payload"], 100)
            assert fake_telegram.wait_for_call("answerPreCheckoutQuery")["ok"] in (True, "true", "True")
            fake_telegram.inject_successful_payment(alice, invoice["payload"], 100, "web-charge-1")
            event = wait_for_event(stream, "wallet-balance")
        fragment = page_of(event["data"])
        assert fragment.find(attrs={"data-testid": "available"}).get_text(strip=True) == "100 ⭐"
        reply = fake_telegram.wait_for_call("sendMessage", lambda p: str(p["chat_id"]) == str(alice["id"]))
        assert reply["text"].startswith("Payment received: +100 ⭐. Available now: 100 ⭐.")
        # The paid invoice is no longer offered.
        assert not page(client.get(response.headers["Location"])).find("a", string="Pay in Telegram")


def page_of(html: str):
    from bs4 import BeautifulSoup

    return BeautifulSoup(html, "html.parser")


def test_telegram_refusing_the_invoice_link_is_explained(make_app, make_user, fake_telegram):
    app = make_app(**bot_config(fake_telegram))
    client = app.test_client()
    sign_in(client, make_user("Alice"))
    with run_bot(app):
        fake_telegram.fail_next("createInvoiceLink", 400)
        client.post("/wallet/buy", data={"amount": "50", "csrf_token": csrf_token(client, "/wallet")})
        html = page(client.get("/wallet"))
    assert "Telegram did not create the invoice" in html.find(class_="flash-error").get_text()
    assert not html.find("a", string="Pay in Telegram")


def test_other_amount_is_checked(make_app, make_user, fake_telegram):
    app = make_app(**bot_config(fake_telegram))
    client = app.test_client()
    sign_in(client, make_user("Alice"))
    with run_bot(app):
        for bad in ("0", "-3", "ten", "10001"):
            client.post("/wallet/buy", data={"other_amount": bad, "csrf_token": csrf_token(client, "/wallet")})
            html = page(client.get("/wallet"))
            assert html.find(class_="flash-error").get_text(strip=True) == "Enter a whole number of Stars between 1 and 10,000."
        client.post("/wallet/buy", data={"other_amount": "321", "csrf_token": csrf_token(client, "/wallet")})
        assert [int(p["amount"]) for p in fake_telegram.wait_for_call("createInvoiceLink")["prices"]] == [321]
    assert fake_telegram.calls("sendInvoice") == []

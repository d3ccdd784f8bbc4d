"""The wallet page: balances, reservations, history, buying and the sandbox top-up."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from auction.extensions import db
from auction.models import Auction, LedgerTransfer, StarPurchase, User
from auction.services import ledger
from tests.conftest import csrf_token, page, sign_in
from tests.support.bidding_helpers import new_auction


def test_wallet_needs_sign_in(client):
    response = client.get("/wallet")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_nav_links_to_the_wallet_for_signed_in_users(client, user_client):
    html = page(user_client.get("/"))
    assert html.find("a", string="Wallet")["href"] == "/wallet"


def test_wallet_shows_balances_holds_and_history(app, user_client, make_user):
    seller = make_user("Seller")
    auction_id = new_auction(app, seller, title="Brass telescope", listed=True)
    with app.app_context():
        ledger.credit_sandbox(user_client.user_id, 300)
        ledger.set_hold(user_client.user_id, auction_id, 120)
    html = page(user_client.get("/wallet"))
    assert html.find("h1").get_text(strip=True) == "Wallet"
    balance = html.find(id="wallet-balance")
    assert balance.find(attrs={"data-testid": "available"}).get_text(strip=True) == "180 ⭐"
    assert balance.find(attrs={"data-testid": "held"}).get_text(strip=True) == "120 ⭐"
    hold = balance.find("ul", class_="wallet-holds").find("li")
    assert hold.find("a").get_text(strip=True) == "Brass telescope"
    assert hold.find("a")["href"] == f"/auctions/{auction_id}"
    rows = html.find(id="wallet-history").find_all("li")
    assert [r.find(class_="wallet-what").get_text(strip=True) for r in rows] == [
        "Held for your bid on “Brass telescope”",
        "Demo Stars (sandbox)",
    ]
    assert rows[0].find(class_="wallet-amounts").get_text(" ", strip=True) == "held 120 ⭐"
    assert rows[1].find(class_="wallet-amounts").get_text(" ", strip=True) == "+300 ⭐"


def test_history_dates_are_in_the_users_time_zone(app, client, make_user):
    user_id = make_user("Kenji", timezone="Asia/Tokyo")
    sign_in(client, user_id)
    with app.app_context():
        ledger.credit_sandbox(user_id, 10)
        created = db.session.scalar(select(LedgerTransfer.created_at))
    shown = page(client.get("/wallet")).find(id="wallet-history").find("time")
    assert datetime.fromisoformat(shown["datetime"]) == created
    local = created.astimezone(ZoneInfo("Asia/Tokyo"))
    assert local.strftime("%-I:%M:%S") in shown.get_text()
    assert local.hour != created.hour


def test_history_is_paginated(app, user_client):
    with app.app_context():
        for amount in range(1, 26):
            ledger.credit_sandbox(user_client.user_id, amount)
    first = page(user_client.get("/wallet"))
    assert len(first.find(id="wallet-history").find_all("li")) == 20
    assert first.find("a", rel="next")["href"] == "/wallet?page=2"
    second = page(user_client.get("/wallet?page=2"))
    amounts = [li.find(class_="wallet-amounts").get_text(strip=True) for li in second.find(id="wallet-history").find_all("li")]
    assert amounts == ["+5 ⭐", "+4 ⭐", "+3 ⭐", "+2 ⭐", "+1 ⭐"]
    assert second.find("a", rel="prev") and not second.find("a", rel="next")


def test_wallet_in_russian(app, client, make_user):
    user_id = make_user("Борис", language_code="ru")
    sign_in(client, user_id)
    with app.app_context():
        ledger.credit_sandbox(user_id, 10)
    html = page(client.get("/wallet"))
    assert html.find("h1").get_text(strip=True) == "Кошелёк"
    assert html.find(class_="wallet-what").get_text(strip=True) == "Демо-звёзды (песочница)"


def test_without_the_bot_the_page_says_buying_is_unavailable_without_set_up_text(app, user_client, caplog):
    html = page(user_client.get("/wallet"))
    notice = html.find(id="payments-need-bot").get_text()
    assert "Buying Stars is not available at the moment" in notice
    assert "TELEGRAM_BOT_TOKEN" not in html.get_text()  # server set-up belongs in the README and the log
    assert not html.find("form", class_="wallet-packages")
    response = user_client.post("/wallet/buy", data={"amount": "100", "csrf_token": csrf_token(user_client, "/wallet")})
    assert response.status_code == 302
    html = page(user_client.get("/wallet"))
    assert "not available at the moment" in html.find(class_="flash-error").get_text()
    assert "TELEGRAM_BOT_TOKEN" in caplog.text
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(StarPurchase)) == 0


def test_sandbox_top_up_with_dev_login(app, user_client):
    form = page(user_client.get("/wallet")).find("form", class_="wallet-sandbox")
    assert form["action"] == "/wallet/sandbox"
    response = user_client.post("/wallet/sandbox", data={"csrf_token": csrf_token(user_client, "/wallet")}, follow_redirects=True)
    html = page(response)
    assert "500 demo Stars were added" in html.find(class_="flash-success").get_text()
    assert html.find(attrs={"data-testid": "available"}).get_text(strip=True) == "500 ⭐"
    assert html.find(class_="wallet-what").get_text(strip=True) == "Demo Stars (sandbox)"


def test_sandbox_needs_csrf(app, user_client):
    assert user_client.post("/wallet/sandbox").status_code == 400
    with app.app_context():
        assert ledger.balances(user_client.user_id).available == 0


def test_sandbox_does_not_exist_without_dev_login(make_app, make_user):
    app = make_app(DEV_LOGIN=False)
    client = app.test_client()
    user_id = make_user("Prod")
    sign_in(client, user_id)
    html = page(client.get("/wallet"))
    assert html.find("h1").get_text(strip=True) == "Wallet"
    assert not html.find("form", class_="wallet-sandbox")
    assert "sandbox" not in html.get_text().lower()
    token = csrf_token(client, "/wallet")
    assert client.post("/wallet/sandbox", data={"csrf_token": token}).status_code == 404
    assert "/wallet/sandbox" not in {rule.rule for rule in app.url_map.iter_rules()}
    with app.app_context():
        assert ledger.balances(user_id).available == 0
        assert db.session.get(User, user_id) is not None


def test_balance_fragment_rendered_for_the_live_stream(app, make_user):
    from auction.live.renderers import render_event

    user_id = make_user("Live")
    with app.app_context():
        ledger.credit_sandbox(user_id, 1042)
    fragments = dict(render_event(app, "balance_changed", {"user_id": user_id, "available": 1042, "held": 0}, "ru"))
    assert "1\xa0042 ⭐" in fragments["wallet-balance"] and "Доступно" in fragments["wallet-balance"]
    assert fragments["nav-balance"] == "1\xa0042 ⭐"  # the header's balance, on every page


def test_history_explains_a_refund_that_telegram_turned_down(app, client, make_user):
    from auction.services import payments

    alice = make_user("Alice", telegram_id=555_000_077)
    admin = make_user("Admin", is_admin=True)
    with app.app_context():
        purchase = payments.start_purchase(alice, 40, "bot")
        paid = payments.complete_payment(555_000_077, purchase.payload, 40, "XTR", "tg-turned-down", "")

        def telegram_refuses(tg, charge):
            raise payments.RefundDeclined("Bad Request: CHARGE_NOT_FOUND")

        with pytest.raises(payments.RefundRefused):
            payments.refund_payment(admin, paid.payment_id, telegram_refuses)
    sign_in(client, alice)
    text = page(client.get("/wallet")).get_text(" ", strip=True)
    assert "Refund turned down by Telegram; Stars returned" in text
    assert "refund_canceled" not in text


def test_history_reads_like_a_bank_statement_for_buyer_and_seller(app, client, make_user):
    """Issue 11 item 12: the buyer's win is one line at the price; the seller sees the fee and what they receive."""
    from auction.services import bidding, lifecycle
    from tests.support.bidding_helpers import end_now, new_auction

    seller, buyer, other = make_user("Sam"), make_user("Bea"), make_user("Olga")
    with app.app_context():
        ledger.credit_sandbox(buyer, 1_000)
        ledger.credit_sandbox(other, 1_000)
    auction_id = new_auction(app, seller, title="Leica M3", start_price=300)
    with app.app_context():
        bidding.place_bid(auction_id, other, 300)
        bidding.place_bid(auction_id, buyer, 500)
    end_now(app, auction_id)
    with app.app_context():
        lifecycle.close_auction(auction_id)
        price = db.session.get(Auction, auction_id).final_price
    assert price == 305  # one increment over Olga's 300
    sign_in(client, buyer)
    rows = page(client.get("/wallet")).find(id="wallet-history").find_all("li")
    lines = [(r.find(class_="wallet-what").get_text(strip=True), r.find(class_="wallet-amounts").get_text(" ", strip=True)) for r in rows]
    assert lines[:3] == [("Released: “Leica M3”", "released 195 ⭐"), ("Won “Leica M3”", "−305 ⭐"), ("Held for your bid on “Leica M3”", "held 500 ⭐")]
    assert "fee" not in page(client.get("/wallet")).find(id="wallet-history").get_text().lower()
    sign_in(client, seller)
    sold = page(client.get("/wallet")).find(id="wallet-history").find("li")
    assert sold.find(class_="wallet-what").get_text(strip=True) == "Sold “Leica M3”"
    assert sold.find(class_="wallet-amounts").get_text(strip=True) == "+305 ⭐"
    assert sold.find(class_="wallet-detail").get_text(" ", strip=True) == "platform fee −15 ⭐ · you receive 290 ⭐"

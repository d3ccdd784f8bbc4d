"""Premium on the web: /premium's state and buttons, subscribing in Telegram, renewal off/on, paying from the wallet."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from auction.extensions import db
from auction.models import Subscription, User
from auction.services import analytics, ledger, premium, subscriptions
from tests.conftest import csrf_token, page, sign_in
from tests.support.fake_telegram import bot_config, run_bot

SITE = "https://auction.example"


def fund(app, user_id: int, amount: int) -> None:
    with app.app_context():
        ledger.credit_sandbox(user_id, amount)


def available(app, user_id: int) -> int:
    with app.app_context():
        return ledger.balances(user_id).available


def pay_form(client, **changes) -> dict:
    """The hidden fields of the confirm step's form (CSRF token, submission key, price), with `changes`."""
    form = page(client.get("/premium/pay")).select_one("#premium-confirm form")
    return {**{field["name"]: field.get("value", "") for field in form.select("input[type=hidden]")}, **changes}


def renewal_form(client, renew: str, **extra) -> dict:
    return {"csrf_token": page(client.get("/premium")).select_one("input[name=csrf_token]")["value"], "renew": renew, **extra}


def flashes(response) -> str:
    return page(response).get_text(" ", strip=True)


def test_signed_out_page_offers_sign_in(client):
    html = page(client.get("/premium"))
    assert "Sign in to get Premium" in html.get_text()
    assert html.select_one("#premium-state") is None


def test_pay_from_balance_with_confirm_step(app, user_client):
    fund(app, user_client.user_id, 300)
    before = datetime.now(UTC)
    confirm = page(user_client.get("/premium/pay"))
    text = confirm.select_one("#premium-confirm").get_text(" ", strip=True)
    assert "Amount: 250 ⭐ for 30 days." in text and "Available in your wallet: 300 ⭐." in text
    end = datetime.fromisoformat(confirm.select_one("#premium-confirm time")["datetime"].replace("Z", "+00:00"))
    assert timedelta(days=30) - timedelta(minutes=1) < end - before < timedelta(days=30, minutes=1)

    form = confirm.select_one("#premium-confirm form")
    data = {field["name"]: field.get("value", "") for field in form.select("input[type=hidden]")}
    response = user_client.post("/premium/pay", data=data, follow_redirects=True)
    assert "Premium paid: 250 Stars from your wallet." in flashes(response)
    state = page(response).select_one("#premium-state").get_text(" ", strip=True)
    assert "You have Premium until" in state and "Renewal is off" in state
    assert available(app, user_client.user_id) == 50
    line = page(user_client.get("/wallet")).select_one("#wallet-history li").get_text(" ", strip=True)
    assert line.startswith("Premium, 30 days") and "paid from your wallet" in line and line.endswith("−250 ⭐")

    # The same form sent twice (a double click) pays once.
    user_client.post("/premium/pay", data=data, follow_redirects=True)
    assert available(app, user_client.user_id) == 50


def test_second_period_starts_where_the_first_ends(app, user_client):
    fund(app, user_client.user_id, 500)
    for _ in range(2):
        user_client.post("/premium/pay", data=pay_form(user_client))
    with app.app_context():
        end = premium.premium_until(user_client.user_id)
    assert timedelta(days=59, hours=23) < end - datetime.now(UTC) <= timedelta(days=60)
    assert available(app, user_client.user_id) == 0


def test_not_enough_stars_says_so_and_links_to_buying(app, user_client):
    fund(app, user_client.user_id, 100)
    confirm = page(user_client.get("/premium/pay"))
    assert "You need 150 ⭐ more." in confirm.select_one("#premium-short").get_text(" ", strip=True)
    assert confirm.select_one("#premium-short a")["href"].startswith("/wallet")
    response = user_client.post("/premium/pay", data=pay_form(user_client), follow_redirects=True)
    assert "Not enough Stars: you need 150 more (available: 100)." in flashes(response)
    assert available(app, user_client.user_id) == 100
    with app.app_context():
        assert not premium.is_premium(user_client.user_id)


def test_a_changed_or_missing_price_charges_nothing(app, user_client):
    fund(app, user_client.user_id, 500)
    response = user_client.post("/premium/pay", data=pay_form(user_client, price="100"), follow_redirects=True)
    assert "The price of Premium has changed to 250 Stars." in flashes(response)
    response = user_client.post("/premium/pay", data=pay_form(user_client, price="ten"), follow_redirects=True)
    assert "Confirm the price of Premium to pay for it." in flashes(response)
    assert available(app, user_client.user_id) == 500


def test_wallet_renewal_toggle_and_dashboard_box(app, user_client):
    fund(app, user_client.user_id, 300)
    user_client.post("/premium/pay", data=pay_form(user_client, renew="on"))
    box = page(user_client.get("/dashboard")).select_one("#dashboard-premium").get_text(" ", strip=True)
    assert "Premium" in box and "renews" in box
    response = user_client.post("/premium/renewal", data=renewal_form(user_client, "off", next="dashboard"), follow_redirects=True)
    assert "Renewal is off." in flashes(response)
    assert "renewal off" in page(response).select_one("#dashboard-premium").get_text(" ", strip=True)
    response = user_client.post("/premium/renewal", data=renewal_form(user_client, "on"), follow_redirects=True)
    assert "Renewal is on: 250 ⭐ are paid from your wallet" in page(response).select_one("#premium-renewal").get_text(" ", strip=True)


def test_renewal_without_premium_is_a_clear_error(user_client):
    token = csrf_token(user_client, "/premium")
    response = user_client.post("/premium/renewal", data={"renew": "off", "csrf_token": token}, follow_redirects=True)
    assert response.status_code == 200
    assert "You have no Premium period running." in flashes(response)


def test_post_without_csrf_token_is_refused(app, user_client):
    fund(app, user_client.user_id, 300)
    assert user_client.post("/premium/pay", data={"price": "250"}).status_code == 400
    assert available(app, user_client.user_id) == 300


# --- with the bot (the fake Bot API over real HTTP) -----------------------------------------


@pytest.fixture
def bot_app(make_app, fake_telegram):
    return make_app(**bot_config(fake_telegram, BASE_URL=SITE))


def telegram_period(app, user_id: int, charge_id: str) -> None:
    """Alice's first subscription payment, as the bot receives it."""
    with app.app_context():
        telegram_id = db.session.get(User, user_id).telegram_id
        subscriptions.complete_telegram_payment(
            telegram_id, subscriptions.invoice_payload(user_id), 250, "XTR", charge_id,
            subscription_expiration_date=datetime.fromtimestamp(time.time() + 30 * 86_400, UTC),
            is_recurring=True, is_first_recurring=True,
        )


def test_subscribe_in_telegram_shows_the_link(bot_app, fake_telegram, make_user):
    client = bot_app.test_client()
    alice = make_user("Alice")
    sign_in(client, alice)
    with run_bot(bot_app):
        html = page(client.get("/premium"))
        assert html.select_one("form[action='/premium/subscribe'] button").get_text(strip=True) == "Subscribe in Telegram"
        html = page(client.post("/premium/subscribe", data={"csrf_token": csrf_token(client, "/premium")}))
    link = html.select_one("#premium-invoice a")
    assert link.get_text(strip=True) == "Open in Telegram" and link["href"].startswith("https://t.me/")
    call = fake_telegram.calls("createInvoiceLink")[-1]
    assert str(call["subscription_period"]) == "2592000" and call["payload"] == f"subscription:premium:{alice}"


def test_bot_off_says_so(bot_app, make_user):
    client = bot_app.test_client()
    alice = make_user("Alice")
    sign_in(client, alice)
    html = page(client.get("/premium"))
    assert "Subscribing in Telegram is not available at the moment" in html.select_one("#subscribe-needs-bot").get_text()
    response = client.post("/premium/subscribe", data={"csrf_token": csrf_token(client, "/premium")}, follow_redirects=True)
    assert "the bot is not running" in flashes(response)
    telegram_period(bot_app, alice, "bot-off-charge")
    response = client.post("/premium/renewal", data=renewal_form(client, "off"), follow_redirects=True)
    assert "The bot cannot reach Telegram right now, so nothing was changed." in flashes(response)
    with bot_app.app_context():
        assert db.session.scalar(select(Subscription.status)) == "active"


def test_cancel_and_reenable_a_telegram_subscription_on_the_web(bot_app, fake_telegram, make_user):
    client = bot_app.test_client()
    alice = make_user("Alice")
    sign_in(client, alice)
    with run_bot(bot_app):
        mark = fake_telegram.mark()
        fake_telegram.inject_successful_payment(
            _telegram_id(bot_app, alice), subscriptions.invoice_payload(alice), 250, "web-charge",
            is_recurring=True, is_first_recurring=True, subscription_expiration_date=int(time.time()) + 30 * 86_400,
        )
        fake_telegram.wait_for_call("sendMessage", lambda p: "Welcome to Premium" in p["text"], since=mark)
        html = page(client.get("/premium"))
        assert "Renewal is on: Telegram charges 250 ⭐" in html.select_one("#premium-renewal").get_text(" ", strip=True)
        html = page(client.post("/premium/renewal", data=renewal_form(client, "off"), follow_redirects=True))
        assert "Renewal is off: Premium ends on that date" in html.select_one("#premium-renewal").get_text(" ", strip=True)
        html = page(client.post("/premium/renewal", data=renewal_form(client, "on"), follow_redirects=True))
        assert "Renewal is on: Telegram charges" in html.select_one("#premium-renewal").get_text(" ", strip=True)
    # While Telegram renews it, the wallet cannot pay the same time again.
    fund(bot_app, alice, 250)
    response = client.post("/premium/pay", data=pay_form(client), follow_redirects=True)
    assert "Telegram renews your Premium subscription." in flashes(response)
    assert available(bot_app, alice) == 250
    edits = fake_telegram.calls("editUserStarSubscription")
    assert [(e["telegram_payment_charge_id"], str(e["is_canceled"]).lower()) for e in edits] == [
        ("web-charge", "true"), ("web-charge", "false")
    ]


def _telegram_id(app, user_id: int) -> int:
    with app.app_context():
        return db.session.get(User, user_id).telegram_id


def test_no_telegram_subscription_while_premium_runs(bot_app, fake_telegram, make_user):
    client = bot_app.test_client()
    alice = make_user("Alice")
    sign_in(client, alice)
    fund(bot_app, alice, 250)
    with bot_app.app_context():
        subscriptions.pay_from_balance(alice, 250)
    with run_bot(bot_app):
        html = page(client.get("/premium"))
        assert html.select_one("form[action='/premium/subscribe']") is None
        response = client.post("/premium/subscribe", data={"csrf_token": csrf_token(client, "/premium")}, follow_redirects=True)
    assert "You already have Premium." in flashes(response)
    assert fake_telegram.calls("createInvoiceLink") == []


def test_admin_refunds_a_premium_charge_from_the_payments_list(bot_app, fake_telegram, make_user):
    alice = make_user("Alice")
    admin = make_user("Ada", is_admin=True)
    telegram_period(bot_app, alice, "premium-charge-1")
    client = bot_app.test_client()
    sign_in(client, admin)
    with run_bot(bot_app):
        row = page(client.get("/admin/payments?q=premium-charge-1")).select_one("tr[id^=payment-]")
        assert "250 ⭐" in row.get_text() and row.select_one(".payment-kind").get_text(strip=True) == "Premium"
        confirm = page(client.get(row.select_one("a.btn")["href"])).select_one("#refund-confirm")
        assert "this ends the Premium period the charge paid for" in confirm.get_text(" ", strip=True)
        response = client.post(confirm.select_one("form")["action"], data={"csrf_token": csrf_token(client, "/admin/payments")},
                               follow_redirects=True)
        assert "refunded" in page(response).select_one(".flash-success").get_text()
    assert fake_telegram.calls("refundStarPayment")[-1]["telegram_payment_charge_id"] == "premium-charge-1"
    with bot_app.app_context():
        assert not premium.is_premium(alice)
        assert db.session.scalar(select(Subscription.status)) == "expired"
        today = datetime.now(UTC).date()
        assert analytics.report(today - timedelta(days=1), today).other_revenue == 0  # the refund took it back

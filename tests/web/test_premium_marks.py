"""Premium where people look: the mark in the header and on the profile, the wallet statement's
Premium lines, the admin's labelled payments, and one Premium state in /status, /profile and the dashboard."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from auction.extensions import db
from auction.models import Payment
from auction.services import ledger, subscriptions, users
from tests.bot.test_bot_payments import said, user_id_of
from tests.conftest import page, sign_in
from tests.support.fake_telegram import bot_config, run_bot
from tests.web.test_premium_web import telegram_period


def pay_from_balance(app, user_id: int, renew: bool = False) -> None:
    with app.app_context():
        ledger.credit_sandbox(user_id, 300)
        subscriptions.pay_from_balance(user_id, 250, renew=renew)


def charge_of(app, charge_id: str) -> int:
    with app.app_context():
        return db.session.scalar(select(Payment.id).where(Payment.telegram_payment_charge_id == charge_id))


def test_profile_and_header_show_the_mark_only_while_premium(app, make_user):
    alice, bob = make_user("Alice"), make_user("Bob")
    client = app.test_client()
    sign_in(client, bob)
    html = page(client.get(f"/users/{alice}"))
    assert html.select_one("#profile-premium") is None and html.select_one("#nav-premium") is None

    pay_from_balance(app, alice)
    # Someone else sees Alice's badge, linking to what Premium is; Bob's own header has no mark.
    html = page(client.get(f"/users/{alice}"))
    assert html.select_one("#profile-premium").get_text(strip=True) == "Premium"
    assert html.select_one("#profile-premium")["href"] == "/premium"
    assert html.select_one("#nav-premium") is None
    assert page(client.get(f"/users/{bob}")).select_one("#profile-premium") is None

    sign_in(client, alice)
    mark = page(client.get("/")).select_one("#nav-premium")
    assert mark["href"] == "/premium" and mark.get_text(strip=True).endswith("You have Premium")


def test_the_mark_goes_when_the_period_is_refunded(app, make_user):
    alice = make_user("Alice")
    telegram_period(app, alice, "mark-charge-1")
    client = app.test_client()
    assert page(client.get(f"/users/{alice}")).select_one("#profile-premium") is not None
    with app.app_context():
        subscriptions.record_refund(charge_of(app, "mark-charge-1"), tell=False)
    assert page(client.get(f"/users/{alice}")).select_one("#profile-premium") is None


def statement_lines(client) -> list[str]:
    return [li.get_text(" ", strip=True) for li in page(client.get("/wallet")).select("#wallet-history li")]


def test_statement_reads_a_telegram_premium_charge_and_its_refund(app, make_user):
    alice = make_user("Alice")
    client = app.test_client()
    sign_in(client, alice)
    telegram_period(app, alice, "statement-charge-1")
    [line] = statement_lines(client)
    assert line.startswith("Premium, 30 days") and "paid in Telegram; your wallet's balance did not change" in line
    assert line.endswith("−250 ⭐")
    assert page(client.get("/wallet")).select_one("#nav-balance").get_text(strip=True) == "0 ⭐"

    with app.app_context():
        subscriptions.record_refund(charge_of(app, "statement-charge-1"), tell=False)
    refund, charge = statement_lines(client)
    assert refund.startswith("Premium payment refunded") and "the period it paid for ended" in refund and refund.endswith("+250 ⭐")
    assert charge.startswith("Premium, 30 days")


def test_statement_in_russian(app, make_user):
    boris = make_user("Борис", language_code="ru")
    client = app.test_client()
    sign_in(client, boris)
    pay_from_balance(app, boris)
    premium_line, _demo_stars = statement_lines(client)
    assert premium_line.startswith("Premium, 30 дней") and "оплачено из кошелька" in premium_line and premium_line.endswith("−250 ⭐")


def test_admin_payments_are_labelled_and_filtered(app, make_user):
    from auction.services import payments

    alice = make_user("Alice", telegram_id=777_001)
    admin = make_user("Ada", is_admin=True)
    telegram_period(app, alice, "label-premium-1")
    with app.app_context():
        purchase = payments.start_purchase(alice, 80, "bot")
        payments.complete_payment(777_001, purchase.payload, 80, "XTR", "label-stars-1", "")
    premium_id, stars_id = charge_of(app, "label-premium-1"), charge_of(app, "label-stars-1")
    client = app.test_client()
    sign_in(client, admin)

    def kinds(url: str) -> dict[int, str]:
        rows = page(client.get(url)).select("tr[id^=payment-]")
        return {int(row["id"].removeprefix("payment-")): row.select_one(".payment-kind").get_text(strip=True) for row in rows}

    assert kinds("/admin/payments") == {premium_id: "Premium", stars_id: "Stars purchase"}
    assert kinds("/admin/payments?kind=premium") == {premium_id: "Premium"}
    assert kinds("/admin/payments?kind=purchase") == {stars_id: "Stars purchase"}
    assert kinds("/admin/payments?kind=premium&q=label-stars-1") == {}
    assert kinds("/admin/payments?kind=nonsense") == {premium_id: "Premium", stars_id: "Stars purchase"}
    filters = page(client.get("/admin/payments?kind=premium")).select(".pill-row a")
    assert [a.get_text(strip=True) for a in filters if a.get("aria-current")] == ["Premium"]

    confirm = page(client.get(f"/admin/payments/{premium_id}/refund")).select_one("#refund-confirm").get_text(" ", strip=True)
    assert "this ends the Premium period the charge paid for" in confirm
    confirm = page(client.get(f"/admin/payments/{stars_id}/refund")).select_one("#refund-confirm").get_text(" ", strip=True)
    assert "Premium" not in confirm and "leave their wallet" in confirm
    assert client.get("/admin/payments/999999/refund").status_code == 404


@pytest.mark.parametrize(("renew", "words"), [(True, "renews from your Stars"), (False, "renewal off")])
def test_dashboard_says_how_premium_goes_on(app, make_user, renew, words):
    alice = make_user("Alice")
    pay_from_balance(app, alice, renew=renew)
    client = app.test_client()
    sign_in(client, alice)
    state = page(client.get("/dashboard")).select_one("#dashboard-premium-state").get_text(" ", strip=True)
    assert state.startswith("until ") and state.endswith(words)


def test_dashboard_names_a_telegram_subscription(app, make_user):
    alice = make_user("Alice")
    telegram_period(app, alice, "dash-charge-1")
    client = app.test_client()
    sign_in(client, alice)
    assert page(client.get("/dashboard")).select_one("#dashboard-premium-state").get_text(" ", strip=True).endswith("renews in Telegram")


def test_bot_status_and_profile_show_premium_as_the_dashboard(make_app, fake_telegram):
    app = make_app(**bot_config(fake_telegram, BASE_URL="https://auction.example"))
    alice = fake_telegram.user("Alice", language_code="en")
    with run_bot(app):
        mark = fake_telegram.mark()
        fake_telegram.inject_message(alice, "/profile")
        profile = said(fake_telegram, alice, since=mark, contains="Alice")["text"]
        assert "Premium" not in profile
        alice_id = user_id_of(app, alice["id"])
        with app.app_context():
            users.set_timezone(alice_id, "Asia/Tokyo")
        pay_from_balance(app, alice_id, renew=True)

        mark = fake_telegram.mark()
        fake_telegram.inject_message(alice, "/status")
        status = said(fake_telegram, alice, since=mark, contains="Premium:")["text"]
        with app.app_context():
            until = subscriptions.state(alice_id).until
        tokyo = until.astimezone(ZoneInfo("Asia/Tokyo"))
        assert f"Premium: until {tokyo.day} {tokyo:%B %Y, %H:%M} · renews from your Stars" in status

        mark = fake_telegram.mark()
        fake_telegram.inject_message(alice, "/profile")
        assert said(fake_telegram, alice, since=mark, contains="Alice")["text"].splitlines()[0] == "Alice ✦ Premium"

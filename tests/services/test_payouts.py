"""Payouts: a seller asks, the Stars wait in "payouts pending", an admin marks them paid or rejects them."""

from __future__ import annotations

import flask_migrate
import pytest
from sqlalchemy import select

from auction.extensions import db
from auction.models import AdminAction, LedgerAccount, OutboxMessage, PayoutRequest
from auction.services import ledger, payouts
from auction.services.errors import NotFound
from tests.conftest import csrf_token, page, sign_in
from tests.support.bidding_helpers import balances, give_stars
from tests.support.invariants import assert_ledger_clean, ledger_violations


@pytest.fixture
def seller(app, make_user):
    user_id = make_user("Sam", username="sam")
    give_stars(app, user_id, 1_000)
    return user_id


@pytest.fixture
def admin(make_user):
    return make_user("Ada", is_admin=True)


def pending_account(app) -> int:
    with app.app_context():
        return db.session.scalar(select(LedgerAccount.balance).where(LedgerAccount.kind == "payouts_pending")) or 0


def test_request_moves_the_stars_to_payouts_pending(app, seller):
    with app.app_context():
        payout_id = payouts.request_payout(seller, 300, "PayPal sam@example.com", minimum=100)
    assert balances(app, seller) == (700, 0)
    assert pending_account(app) == 300
    assert_ledger_clean(app)
    with app.app_context():
        assert db.session.get(PayoutRequest, payout_id).status == "pending"


@pytest.mark.parametrize(
    ("amount", "details", "error"),
    [(99, "IBAN", payouts.PayoutTooSmall), (1_001, "IBAN", ledger.InsufficientFunds), (200, "  ", payouts.PayoutDetailsMissing),
     (200, "x" * 501, payouts.PayoutDetailsMissing)],
)
def test_refused_requests_move_nothing(app, seller, amount, details, error):
    with app.app_context(), pytest.raises(error):
        payouts.request_payout(seller, amount, details, minimum=100)
    assert balances(app, seller) == (1_000, 0)
    assert pending_account(app) == 0


def test_approve_marks_paid_tells_the_seller_and_logs_it(app, seller, admin, make_user):
    seller_tg = make_user("Tg seller", telegram_id=777_000_123)
    give_stars(app, seller_tg, 500)
    with app.app_context():
        payout_id = payouts.request_payout(seller_tg, 400, "Card ending 1234", minimum=100)
        payouts.approve_payout(admin, payout_id, "WIRE-42")
        row = db.session.get(PayoutRequest, payout_id)
        assert (row.status, row.reference, row.decided_by_id) == ("paid", "WIRE-42", admin)
        message = db.session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "payout_paid"))
        assert "400" in message.payload["text"] and "WIRE-42" in message.payload["text"]
        entry = db.session.scalar(select(AdminAction))
        assert (entry.admin_id, entry.action, entry.target_id) == (admin, "payout_paid", payout_id)
        assert entry.before["status"] == "pending" and entry.after["status"] == "paid"
        with pytest.raises(payouts.PayoutAlreadyDecided):
            payouts.reject_payout(admin, payout_id, "too late")
    assert balances(app, seller_tg) == (100, 0)
    assert pending_account(app) == 0
    assert_ledger_clean(app)


def test_reject_returns_the_stars(app, seller, admin):
    with app.app_context():
        payout_id = payouts.request_payout(seller, 250, "IBAN DE00", minimum=100)
        payouts.reject_payout(admin, payout_id, "The IBAN is incomplete")
        assert db.session.get(PayoutRequest, payout_id).reason == "The IBAN is incomplete"
    assert balances(app, seller) == (1_000, 0)
    assert pending_account(app) == 0
    assert_ledger_clean(app)


def test_only_admins_decide(app, seller, make_user):
    other = make_user("Mallory")
    with app.app_context():
        payout_id = payouts.request_payout(seller, 150, "IBAN", minimum=100)
        with pytest.raises(NotFound):
            payouts.approve_payout(other, payout_id, "ref")
        with pytest.raises(NotFound):
            payouts.approve_payout(seller, payout_id, "ref")
        assert payouts.payouts_of(seller)[0].status == "pending"
    # The admin named in ADMIN_TELEGRAM_IDS may decide without the flag.
    listed = make_user("Listed", telegram_id=123_456_789)
    with app.app_context():
        payouts.approve_payout(listed, payout_id, "ref-1", admin_ids={123_456_789})


def test_the_invariant_catches_a_pending_account_out_of_step(app, seller):
    with app.app_context():
        payout_id = payouts.request_payout(seller, 300, "IBAN", minimum=100)
        db.session.get(PayoutRequest, payout_id).status = "rejected"  # behind the ledger's back
        db.session.commit()
    assert any(problem.startswith("6.") for problem in ledger_violations(app))
    with app.app_context():
        db.session.get(PayoutRequest, payout_id).status = "pending"
        db.session.commit()


def test_wallet_and_admin_pages_end_to_end(app, client, seller, admin):
    sign_in(client, seller)
    html = page(client.get("/wallet"))
    form = html.select_one("form.payout-form")
    assert "at least 100 ⭐" in form.get_text(" ", strip=True)
    token = csrf_token(client, "/wallet")
    response = client.post(form["action"], data={"csrf_token": token, "amount": "1,5x", "details": "IBAN"}, follow_redirects=True)
    assert "Enter a whole number of Stars." in page(response).select_one(".flash-error").get_text()
    response = client.post(form["action"], data={"csrf_token": token, "amount": "50", "details": "IBAN"}, follow_redirects=True)
    assert "at least 100" in page(response).select_one(".flash-error").get_text()
    response = client.post(form["action"], data={"csrf_token": token, "amount": "1 200", "details": "IBAN"}, follow_redirects=True)
    assert "You need" in page(response).select_one(".flash-error").get_text() or "Stars" in page(response).select_one(".flash-error").get_text()
    response = client.post(form["action"], data={"csrf_token": token, "amount": "600", "details": "IBAN DE89 3704"}, follow_redirects=True)
    html = page(response)
    assert "600 ⭐" in html.select_one(".flash-success").get_text()
    assert "Waiting for an administrator" in html.select_one(".payout-list").get_text()
    assert "Payout requested" in html.select_one("#wallet-history").get_text()
    assert balances(app, seller) == (400, 0)

    admin_client = app.test_client()
    sign_in(admin_client, admin)
    listing = page(admin_client.get("/admin/payouts"))
    item = listing.select_one(".admin-item")
    assert "600 ⭐" in item.get_text() and "IBAN DE89 3704" in item.get_text()
    reject = item.select("form")[1]
    token = csrf_token(admin_client, "/admin/payouts")
    response = admin_client.post(reject["action"], data={"csrf_token": token, "reason": ""}, follow_redirects=True)
    assert "reference or the reason" in page(response).select_one(".flash-error").get_text()
    response = admin_client.post(reject["action"], data={"csrf_token": token, "reason": "Wrong IBAN"}, follow_redirects=True)
    assert response.status_code == 200
    assert "rejected" in page(response).select_one(".flash-success").get_text()
    assert balances(app, seller) == (1_000, 0)

    html = page(client.get("/wallet"))
    assert "Rejected; Stars returned" in html.select_one(".payout-list").get_text()
    assert "Wrong IBAN" in html.select_one(".payout-list").get_text()
    audit = page(admin_client.get("/admin/audit")).select_one(".admin-table").get_text()
    assert "payout_rejected" in audit and "Ada" in audit
    assert "every invariant holds" in page(admin_client.get("/admin/ledger")).select_one("#ledger-result").get_text()


def test_payouts_work_on_a_migrated_database(make_app):
    from auction.services.users import TelegramProfile, upsert_telegram_user

    app = make_app(create_schema=False)
    with app.app_context():
        flask_migrate.upgrade()
        user_id = upsert_telegram_user(TelegramProfile(telegram_id=5, first_name="Migrated")).id
        ledger.credit_sandbox(user_id, 200)
        payouts.request_payout(user_id, 150, "IBAN", minimum=100)
        payout_id = payouts.payouts_of(user_id)[0].id
        admin_id = upsert_telegram_user(TelegramProfile(telegram_id=6, first_name="Admin")).id
        payouts.approve_payout(admin_id, payout_id, "ref", admin_ids={6})
    assert pending_account(app) == 0
    assert_ledger_clean(app)

"""Moderation and payments in the admin panel: suspend/restore, cancel, categories, refunds through the fake Bot API."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from auction.extensions import db
from auction.models import AdminAction, Category, OutboxMessage, Payment
from auction.services import bidding, moderation, payments
from auction.services.errors import BidderSuspended, NotFound
from tests.conftest import csrf_token, page, sign_in
from tests.support.bidding_helpers import auction_row, balances, give_stars, new_auction
from tests.support.fake_telegram import bot_config
from tests.support.servers import run_server


@pytest.fixture
def admin(make_user):
    return make_user("Ada", is_admin=True)


def admin_client(app, admin_id):
    client = app.test_client()
    sign_in(client, admin_id)
    return client


def test_suspending_a_seller_cancels_their_auctions_and_ends_their_sessions(app, make_user, admin):
    seller = make_user("Sam", telegram_id=700_900_001)
    bidder = make_user("Bea", telegram_id=700_900_002)
    give_stars(app, bidder, 500)
    give_stars(app, seller, 500)
    auction_id = new_auction(app, seller)
    other = new_auction(app, bidder, title="Someone else's")
    with app.app_context():
        bidding.place_bid(auction_id, bidder, 120, source="web")
    assert balances(app, bidder) == (380, 120)

    seller_client = app.test_client()
    sign_in(seller_client, seller)
    assert page(seller_client.get("/")).select_one(".nav-user .user-name")

    client = admin_client(app, admin)
    token = csrf_token(client, "/admin/people")
    html = page(client.get("/admin/people?q=sam"))
    form = html.select_one(f"#person-{seller} form")
    response = client.post(form["action"], data={"csrf_token": token, "reason": ""}, follow_redirects=True)
    assert "Write the reason" in page(response).select_one(".flash-error").get_text()
    response = client.post(form["action"], data={"csrf_token": token, "reason": "Selling physical goods", "q_q": "sam"})
    assert response.status_code == 303 and response.headers["Location"].endswith("/admin/people?q=sam")

    assert balances(app, bidder) == (500, 0)  # the hold came back
    assert auction_row(app, auction_id).status == "canceled"
    with app.app_context():
        kinds = {(m.user_id, m.kind) for m in db.session.scalars(select(OutboxMessage))}
        assert (bidder, "auction_canceled") in kinds and (seller, "account_suspended") in kinds
        entry = db.session.scalar(select(AdminAction).where(AdminAction.action == "suspend"))
        assert entry.after["canceled_auctions"] == [auction_id] and entry.before["is_suspended"] is False
        with pytest.raises(BidderSuspended):
            bidding.place_bid(other, seller, 50, source="web")
    # Signed out everywhere, and no way back in.
    assert page(seller_client.get("/")).select_one(".nav-user .user-name") is None
    dev = app.test_client()
    response = dev.post("/dev-login", data={"csrf_token": csrf_token(dev, "/dev-login"), "user_id": seller}, follow_redirects=True)
    assert page(response).select_one(".nav-user .user-name") is None

    # Restored: the account works again; the cancelled auction stays cancelled.
    html = page(client.get("/admin/people?q=sam"))
    assert "Suspended" in html.select_one(f"#person-{seller}").get_text()
    client.post(html.select_one(f"#person-{seller} form")["action"], data={"csrf_token": token})
    with app.app_context():
        bidding.place_bid(other, seller, 50, source="web")


def test_admins_cannot_be_suspended_and_normal_people_cannot_moderate(app, make_user, admin):
    other_admin = make_user("Otto", is_admin=True)
    person = make_user("Pat")
    with app.app_context():
        with pytest.raises(moderation.CannotSuspendAdmin):
            moderation.suspend_person(admin, other_admin, "no")
        with pytest.raises(NotFound):
            moderation.suspend_person(person, other_admin, "no")


def test_cancel_an_auction_from_the_panel(app, make_user, admin):
    seller = make_user("Sam")
    bidder = make_user("Bea")
    give_stars(app, bidder, 300)
    auction_id = new_auction(app, seller, title="Fake gift")
    with app.app_context():
        bidding.place_bid(auction_id, bidder, 100, source="web")
    client = admin_client(app, admin)
    html = page(client.get("/admin/auctions?q=fake"))
    form = html.select_one(f"#auction-{auction_id} form")
    response = client.post(form["action"], data={"csrf_token": csrf_token(client, "/admin/auctions"), "reason": "Not digital"},
                           follow_redirects=True)
    assert "cancelled" in page(response).select_one(".flash-success").get_text()
    assert balances(app, bidder) == (300, 0)
    again = client.post(form["action"], data={"csrf_token": csrf_token(client, "/admin/auctions"), "reason": "twice"},
                        follow_redirects=True)
    assert page(again).select_one(".flash-error")  # already over: refused, nothing changes


def test_categories_are_created_and_edited_with_clear_errors(app, admin):
    client = admin_client(app, admin)
    token = csrf_token(client, "/admin/categories")
    data = {"csrf_token": token, "slug": "game-items", "name_en": "Game items", "name_ru": "Игровые предметы", "position": "3"}
    client.post("/admin/categories", data=data)
    response = client.post("/admin/categories", data=data, follow_redirects=True)
    assert "already has this slug" in page(response).select_one(".flash-error").get_text()
    response = client.post("/admin/categories", data={**data, "slug": "Bad Slug!"}, follow_redirects=True)
    assert "lowercase letters" in page(response).select_one(".flash-error").get_text()
    with app.app_context():
        category_id = db.session.scalar(select(Category.id).where(Category.slug == "game-items"))
    client.post(f"/admin/categories/{category_id}", data={**data, "name_en": "Game skins", "position": "x"})
    with app.app_context():
        category = db.session.get(Category, category_id)
        assert (category.name_en, category.position) == ("Game skins", 0)
        actions = [a.action for a in db.session.scalars(select(AdminAction))]
    assert actions == ["save_category", "save_category"]
    assert client.post("/admin/categories/999", data=data).status_code == 303  # flashed "not found", no 500


def test_refund_from_the_panel_through_the_fake_bot_api(make_app, make_user, fake_telegram):
    app = make_app(**bot_config(fake_telegram))
    alice = fake_telegram.user("Alice")
    user_id = make_user("Alice", telegram_id=alice["id"])
    admin = make_user("Ada", is_admin=True)
    with app.app_context():
        purchase = payments.start_purchase(user_id, 80, "bot")
        payments.complete_payment(alice["id"], purchase.payload, 80, "XTR", "charge-admin-1", "")
        payment_id = db.session.scalar(select(Payment.id))
    client = admin_client(app, admin)
    assert "bot is not running" in page(client.post(f"/admin/payments/{payment_id}/refund",
                                                    data={"csrf_token": csrf_token(client, "/admin/payments")},
                                                    follow_redirects=True)).select_one(".flash-error").get_text()
    with run_server(app):
        fake_telegram.wait_for_call("getUpdates")
        html = page(client.get("/admin/payments?q=charge-admin-1"))
        row = html.select_one(f"#payment-{payment_id}")
        assert "80 ⭐" in row.get_text()
        assert "Stars purchase" in row.select_one(".payment-kind").get_text()
        confirm = page(client.get(row.select_one("a.btn")["href"]))
        assert "leave their wallet" in confirm.select_one("#refund-confirm").get_text()
        response = client.post(confirm.select_one("#refund-confirm form")["action"],
                               data={"csrf_token": csrf_token(client, "/admin/payments")}, follow_redirects=True)
        assert "refunded" in page(response).select_one(".flash-success").get_text()
        call = fake_telegram.wait_for_call("refundStarPayment")
        assert call["telegram_payment_charge_id"] == "charge-admin-1"
    assert balances(app, user_id) == (0, 0)
    with app.app_context():
        assert db.session.get(Payment, payment_id).status == "refunded"
        assert db.session.scalar(select(AdminAction.action)) == "refund"

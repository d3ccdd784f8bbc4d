"""The admin panel's Reported reviews tab: the queue, keeping or removing a review, the nav badge, the audit log."""

from __future__ import annotations

from sqlalchemy import select

from auction.extensions import db
from auction.models import AdminAction
from auction.services import ratings
from tests.conftest import csrf_token, page, sign_in
from tests.web.test_people import _sold


def _reported(app, client, seller, buyer, reporter, comment, reason, price=60):
    auction_id = _sold(app, seller, buyer, price, title=f"Lot {comment[:8]}")
    with app.app_context():
        rating_id = ratings.rate(auction_id, buyer, 1, comment)
        ratings.report_review(rating_id, reporter, reason)
    return auction_id, rating_id


def test_admin_keeps_one_review_and_removes_another(app, people, make_user):
    seller, alice, bob = people
    kept_auction, kept = _reported(app, None, seller, alice, bob, "Slow delivery", "unfair")
    removed_auction, removed = _reported(app, None, seller, bob, alice, "Insulting words here", "insults", price=70)
    admin = make_user("Ada", is_admin=True)
    client = app.test_client()
    sign_in(client, admin)

    html = page(client.get("/admin/reviews"))
    tab = html.select_one('.admin-tabs a[aria-current="page"]')
    assert tab.get_text(" ", strip=True) == "Reviews 2"
    item = html.select_one(f"#report-{1}")
    text = item.get_text(" ", strip=True)
    assert "Slow delivery" in text and "unfair" in text and "Bob" in text and "Alice" in text and "Sam" in text
    links = {a["href"] for a in item.select("a")}
    assert {f"/users/{alice}", f"/users/{seller}", f"/users/{bob}", f"/auctions/{kept_auction}"} <= links

    token = csrf_token(client, "/admin/reviews")
    keep = html.select_one("#report-1 form[action$='/keep']")["action"]
    response = client.post(keep, data={"csrf_token": token}, follow_redirects=True)
    assert "The review stays" in page(response).select_one(".flash-success").get_text()
    remove = html.select_one("#report-2 form[action$='/remove']")["action"]
    response = client.post(remove, data={"csrf_token": token}, follow_redirects=True)
    after = page(response)
    assert "removed from the profile" in after.select_one(".flash-success").get_text()
    assert "No reported reviews wait" in after.get_text()
    assert after.select_one('.admin-tabs a[aria-current="page"]').get_text(strip=True) == "Reviews"  # no badge left

    # Deciding again is refused with a message, not a 500.
    response = client.post(keep, data={"csrf_token": token}, follow_redirects=True)
    assert response.status_code == 200 and page(response).select_one(".flash-error")

    profile = page(app.test_client().get(f"/users/{seller}")).get_text()
    assert "Slow delivery" in profile and "Insulting words here" not in profile
    with app.app_context():
        assert ratings.summary(seller).count == 1  # the removed review left the average too
        entries = {e.action: e for e in db.session.scalars(select(AdminAction))}
        assert entries["keep_review"].target_id == kept and entries["keep_review"].after["hidden"] is False
        assert entries["remove_review"].target_id == removed
        assert entries["remove_review"].before["hidden"] is False and entries["remove_review"].after["hidden"] is True


def test_reviews_tab_needs_csrf_and_an_admin(app, people, make_user):
    seller, alice, bob = people
    _reported(app, None, seller, alice, bob, "Fine", "spam")
    client = app.test_client()
    sign_in(client, bob)
    assert client.get("/admin/reviews").status_code == 404
    assert client.post("/admin/reviews/reports/1/remove", data={"csrf_token": csrf_token(client, "/")}).status_code == 404
    admin = make_user("Ada", is_admin=True)
    sign_in(client, admin)
    assert client.post("/admin/reviews/reports/1/remove").status_code == 400
    with app.app_context():
        assert len(ratings.reported_reviews()) == 1

"""Guard rails read from the URL map, so every new route joins them (issue 10 item 9).

1. Every state-changing route refuses a request without a CSRF token and with a wrong one.
2. Every route with an object id in its path is classified below; an owner's route refuses a
   guest and another person (403/404, or the sign-in page for a guest), and serves the owner.
A route missing from the tables fails the test until someone decides which it is.
"""

from __future__ import annotations

import re

import pytest

from tests.conftest import sign_in
from tests.support.bidding_helpers import give_stars, new_auction

STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}
# Routes that take state changes without a CSRF token, and what authenticates them instead.
CSRF_EXEMPT = {
    "telegram.webhook": "Telegram's secret header (X-Telegram-Bot-Api-Secret-Token)",
    # A mail client posts RFC 8058's one-click unsubscribe without any page: the signed token is the proof.
    "notifications.unsubscribe": "the signed, per-person and per-kind token in the link",
}

# Every route with an id in its path: who may use it on someone else's object.
OWNER_ONLY = {  # only the auction's seller
    ("GET", "auctions.edit"),
    ("POST", "auctions.edit"),
    ("POST", "auctions.validate_edit"),
    ("POST", "auctions.cancel"),
}
ANYONE = {  # public pages: the auction itself, its bids' address
    ("GET", "auctions.show"),
    ("GET", "auctions.bids_address"),
}
ANY_SIGNED_IN = {  # acting on someone else's auction is the point (bidding, watching)
    ("POST", "auctions.place_bid"),
    ("GET", "auctions.confirm"),
    ("POST", "auctions.buy_now"),
    ("POST", "auctions.accept"),
    ("POST", "watching.watch"),
    ("POST", "watching.unwatch"),
}
# Routes whose id is not an auction's (or whose party check is the service's): a guest is refused
# here; who else may use them is proved where named.
OTHER_OBJECTS = {
    ("GET", "people.rate"): "tests/web/test_people.py (only the two sides of a settled sale)",
    ("POST", "people.rate"): "tests/web/test_people.py (only the two sides of a settled sale)",
    ("POST", "people.relist"): "tests/web/test_people.py (only the seller of an unsold auction)",
    ("POST", "people.report"): "tests/web/test_people.py",
    ("POST", "search.delete"): "tests/web/test_search_pages.py (only the owner's saved search)",
    ("POST", "notifications.mark_read"): "tests/services/test_notifications.py (only the person's own)",
    ("GET", "support.show"): "tests/services/test_support.py (only the person's own ticket)",
    ("POST", "support.write"): "tests/services/test_support.py",
    ("POST", "support.close"): "tests/services/test_support.py",
    **{(method, endpoint): "tests/web/test_admin_access.py (404 for everyone but admins)" for method, endpoint in (
        ("POST", "admin.suspend"), ("POST", "admin.restore"), ("POST", "admin.cancel_auction"),
        ("POST", "admin.category_update"), ("POST", "admin.payout_approve"), ("POST", "admin.payout_reject"),
        ("POST", "admin.payment_refund"), ("GET", "admin.payment_refund_confirm"), ("GET", "admin.ticket"),
        ("POST", "admin.ticket_answer"),
        ("POST", "admin.ticket_close"), ("POST", "admin.hide_auction"), ("POST", "admin.unhide_auction"),
        ("POST", "admin.payment_reconcile"), ("POST", "admin.review_keep"), ("POST", "admin.review_remove"),
    )},
}
PUBLIC_OTHER_OBJECTS = {("GET", "people.profile")}  # a public profile: anyone may read it


def snapshot(app, auction_id: int) -> tuple:
    from auction.extensions import db
    from auction.models import Auction

    with app.app_context():
        auction = db.session.get(Auction, auction_id)
        row = (auction.status, auction.title, auction.start_price, auction.ends_at)
        db.session.remove()
        return row


def routes(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield method, rule


def path_of(rule, object_id: int) -> str:
    return re.sub(r"<(?:\w+:)?\w+>", str(object_id), rule.rule)


@pytest.fixture
def guarded_app(make_app):
    return make_app(WTF_CSRF_ENABLED=True)


def test_every_state_changing_route_refuses_a_missing_or_wrong_csrf_token(guarded_app, make_user):
    app = guarded_app
    seller = make_user("Seller")
    auction_id = new_auction(app, seller)
    client = app.test_client()
    sign_in(client, seller)
    client.get("/")  # a session with a real CSRF secret, so a wrong token is wrong, not absent
    checked = []
    for method, rule in routes(app):
        if method not in STATE_CHANGING or rule.endpoint in CSRF_EXEMPT:
            continue
        path = path_of(rule, auction_id)
        for headers, data in (({}, {}), ({"X-CSRFToken": "wrong"}, {"csrf_token": "wrong"})):
            response = client.open(path, method=method, headers=headers, data=data)
            assert response.status_code == 400, f"{method} {rule.rule} without a valid CSRF token: {response.status_code}"
            assert "Your form expired or came from another site" in response.get_data(as_text=True)
        checked.append(rule.endpoint)
    assert {"auctions.place_bid", "auctions.create", "wallet.buy", "auth.logout", "main.set_locale"} <= set(checked)


def test_every_route_with_an_object_id_is_classified_and_guarded(make_app, make_user):
    app = make_app(WTF_CSRF_ENABLED=False)  # the CSRF refusal is the test above; here: who may act
    seller, other = make_user("Seller"), make_user("Other")
    give_stars(app, other, 1000)
    with_ids = [(method, rule) for method, rule in routes(app) if rule.arguments]
    known = OWNER_ONLY | ANYONE | ANY_SIGNED_IN | set(OTHER_OBJECTS) | PUBLIC_OTHER_OBJECTS
    unclassified = [(method, rule.endpoint) for method, rule in with_ids if (method, rule.endpoint) not in known]
    assert not unclassified, f"classify these routes in tests/web/test_guard_rails.py: {unclassified}"
    for method, rule in with_ids:
        key = (method, rule.endpoint)
        auction_id = new_auction(app, seller)  # a fresh one each time: an earlier cancel must not hide anything
        path = path_of(rule, auction_id)
        guest = app.test_client()
        outsider = app.test_client()
        sign_in(outsider, other)
        owner = app.test_client()
        sign_in(owner, seller)
        if key in PUBLIC_OTHER_OBJECTS:
            assert guest.get(path_of(rule, seller)).status_code == 200, f"{rule.rule} as a guest"
            continue
        as_guest = guest.open(path, method=method)
        if key in ANYONE:
            assert as_guest.status_code < 400, f"{method} {rule.rule} as a guest: {as_guest.status_code}"
            continue
        login_redirect = as_guest.status_code == 302 and "/login" in as_guest.headers.get("Location", "")
        assert login_redirect or as_guest.status_code in (401, 403, 404), f"{method} {rule.rule} as a guest: {as_guest.status_code}"
        if key in OWNER_ONLY:
            before = snapshot(app, auction_id)
            as_outsider = outsider.open(path, method=method, data={"title": "Taken over", "start_price": "1"})
            # Refused outright, or (a view that reports service errors with a flash) refused with nothing changed.
            refused = as_outsider.status_code in (403, 404) or (
                method != "GET" and as_outsider.status_code in (302, 303) and snapshot(app, auction_id) == before
            )
            assert refused, f"{method} {rule.rule} as another person: {as_outsider.status_code}"
            as_owner = owner.open(path, method=method)
            assert as_owner.status_code not in (403, 404), f"{method} {rule.rule} as the owner: {as_owner.status_code}"

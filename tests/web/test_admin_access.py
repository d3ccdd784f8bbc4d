"""Every /admin route, from the URL map: 404 for a visitor and a normal person, open to an admin.

New admin routes join the table by themselves; a POST without a CSRF token is refused even for an admin.
"""

from __future__ import annotations

import re

import pytest

from tests.conftest import csrf_token, page, sign_in

ADMIN_TELEGRAM_ID = 424_242_001


def admin_routes(app) -> list[tuple[str, str]]:
    """(method, concrete path) for every rule under /admin; <int:...> parts become 1."""
    routes = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/admin"):
            continue
        path = re.sub(r"<(?:int:)?[^>]+>", "1", rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            routes.append((method, path))
    return routes


@pytest.fixture
def admin_app(make_app):
    return make_app(ADMIN_TELEGRAM_IDS=frozenset({ADMIN_TELEGRAM_ID}))


def test_the_table_covers_the_panel(admin_app):
    paths = {path for _, path in admin_routes(admin_app)}
    assert {"/admin/", "/admin/people", "/admin/auctions", "/admin/categories", "/admin/payments", "/admin/payouts",
            "/admin/ledger", "/admin/audit", "/admin/support"} <= paths
    assert len(paths) >= 14


def test_visitors_and_normal_people_get_404_everywhere(admin_app, make_user):
    visitor = admin_app.test_client()
    person = admin_app.test_client()
    sign_in(person, make_user("Normal"))
    for client in (visitor, person):
        token = csrf_token(client)
        for method, path in admin_routes(admin_app):
            response = client.open(path, method=method, data={"csrf_token": token})
            assert response.status_code == 404, (method, path)


def test_admins_by_flag_or_by_telegram_id_reach_every_page(admin_app, make_user):
    for user_id in (make_user("Listed", telegram_id=ADMIN_TELEGRAM_ID), make_user("Flagged", is_admin=True)):
        client = admin_app.test_client()
        sign_in(client, user_id)
        for method, path in admin_routes(admin_app):
            if method != "GET":
                continue
            response = client.get(path)
            # Object pages for an id that does not exist are a plain 404; every list page is a 200.
            assert response.status_code in (200, 404), (method, path, response.status_code)
            if "/1" not in path:
                assert response.status_code == 200, path
                assert page(response).h1, path
        assert page(client.get("/")).select_one(".nav-links a[href='/admin/']")


def test_admin_posts_need_the_csrf_token(admin_app, make_user):
    client = admin_app.test_client()
    sign_in(client, make_user("Flagged", is_admin=True))
    for method, path in admin_routes(admin_app):
        if method == "POST":
            assert client.post(path, data={}).status_code == 400, path


def test_a_suspended_admin_is_no_admin(admin_app, make_user):
    client = admin_app.test_client()
    sign_in(client, make_user("Gone", is_admin=True, is_suspended=True))
    assert client.get("/admin/").status_code == 404


def test_the_admin_tabs_reach_every_list_page(admin_app, make_user):
    """Each GET page without an id under /admin is one tab away (a misspelt endpoint once hid Payments)."""
    client = admin_app.test_client()
    sign_in(client, make_user("Flagged", is_admin=True))
    tabs = {a["href"] for a in page(client.get("/admin/")).select(".admin-tabs a")}
    lists = {path for method, path in admin_routes(admin_app) if method == "GET" and "/1" not in path}
    assert lists - tabs == set()

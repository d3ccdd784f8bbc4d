"""The page shell: error pages, language choice, security headers and cookies."""

from __future__ import annotations

import io

import pytest
from flask import abort
from sqlalchemy import text

from auction.extensions import db
from auction.models import User
from auction.services.errors import Forbidden
from tests.conftest import csrf_token, page, sign_in


def heading(response) -> str:
    return page(response).find("h1").get_text(strip=True)


def language(response) -> str:
    return page(response).find("html")["lang"]


# --- error pages ---------------------------------------------------------------------


def test_unknown_route_is_a_404_page_in_the_shell(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    html = page(response)
    assert html.find("h1").get_text(strip=True) == "Page not found"
    assert "There is nothing at this address" in html.select_one(".error-page").get_text()
    assert html.select_one(".error-page a")["href"] == "/"
    assert html.find("a", class_="brand")  # the normal navigation is there


def test_404_page_is_in_russian_for_a_russian_browser(client):
    response = client.get("/no/such/page", headers={"Accept-Language": "ru-RU,ru;q=0.9,en;q=0.5"})
    assert response.status_code == 404
    assert language(response) == "ru"
    html = page(response)
    assert html.find("h1").get_text(strip=True) == "Страница не найдена"
    assert "По этому адресу ничего нет" in html.select_one(".error-page").get_text()
    assert html.select_one(".error-page a").get_text(strip=True) == "Вернуться к аукционам"


def test_wrong_method_is_a_405_page(client):
    response = client.get("/logout")
    assert response.status_code == 405
    assert heading(response) == "Method not allowed"


def test_oversized_request_is_a_413_page(make_app):
    client = make_app(MAX_CONTENT_LENGTH=1024).test_client()
    token = csrf_token(client)
    response = client.post("/locale", data={"csrf_token": token, "locale": "en", "filler": "x" * 4096})
    assert response.status_code == 413
    html = page(response)
    assert html.find("h1").get_text(strip=True) == "Request too large"
    assert "larger than we accept" in html.get_text()


def test_oversized_upload_is_a_413_page_in_russian(make_app):
    client = make_app(MAX_CONTENT_LENGTH=1024).test_client()
    response = client.post(
        "/locale",
        data={"csrf_token": csrf_token(client), "photo": (io.BytesIO(b"\0" * 8192), "big.jpg")},
        content_type="multipart/form-data",
        headers={"Accept-Language": "ru"},
    )
    assert response.status_code == 413
    assert heading(response) == "Слишком большой запрос"


def test_missing_csrf_token_is_a_400_page_that_says_why(client):
    response = client.post("/locale", data={"locale": "ru"})
    assert response.status_code == 400
    html = page(response)
    assert html.find("h1").get_text(strip=True) == "Bad request"
    assert "Your form expired or came from another site. Reload the page and try again." in html.get_text()
    # Nothing changed: the language is still English.
    assert language(client.get("/")) == "en"


def test_wrong_csrf_token_is_refused_too(client):
    csrf_token(client)
    response = client.post("/locale", data={"locale": "ru", "csrf_token": "forged"})
    assert response.status_code == 400
    response = client.post("/locale", data={"locale": "ru"}, headers={"X-CSRFToken": "forged"})
    assert response.status_code == 400


def test_csrf_token_in_the_htmx_header_is_accepted(client):
    token = csrf_token(client)
    response = client.post("/locale", data={"locale": "ru"}, headers={"X-CSRFToken": token, "HX-Request": "true"})
    assert response.status_code == 302
    assert language(client.get("/")) == "ru"


@pytest.fixture
def failing_app(make_app):
    """An app with routes that fail the ways real views can fail."""
    app = make_app(PROPAGATE_EXCEPTIONS=False)

    @app.get("/test-crash")
    def crash():
        raise RuntimeError("boom")

    @app.get("/test-db-crash")
    def db_crash():
        db.session.execute(text("SELECT * FROM no_such_table"))

    @app.get("/test-abort-403")
    def forbidden():
        abort(403)

    @app.get("/test-service-403")
    def service_forbidden():
        raise Forbidden()

    return app


def test_unexpected_error_is_a_500_page(failing_app):
    response = failing_app.test_client().get("/test-crash")
    assert response.status_code == 500
    html = page(response)
    assert html.find("h1").get_text(strip=True) == "Something went wrong"
    assert "Nothing was charged" in html.get_text()
    assert "boom" not in html.get_text()


def test_database_error_for_a_signed_in_user_is_still_a_500_page(failing_app):
    client = failing_app.test_client()
    sign_in(client, make_user_in(failing_app, "Zoe"))
    response = client.get("/test-db-crash", headers={"Accept-Language": "ru"})
    assert response.status_code == 500
    html = page(response)
    assert html.find("h1").get_text(strip=True) == "Что-то пошло не так"
    assert html.select_one(".nav-user .user-name").get_text(strip=True) == "Zoe"
    # The next request on the same app works normally.
    assert client.get("/").status_code == 200


def make_user_in(app, first_name: str) -> int:
    from auction.services.users import TelegramProfile, upsert_telegram_user

    with app.app_context():
        user = upsert_telegram_user(TelegramProfile(telegram_id=600_000_001, first_name=first_name))
        return user.id


def test_forbidden_is_a_403_page(failing_app):
    client = failing_app.test_client()
    response = client.get("/test-abort-403")
    assert response.status_code == 403
    assert heading(response) == "Access denied"
    assert "You do not have access to this page." in page(response).get_text()

    response = client.get("/test-service-403", headers={"Accept-Language": "ru"})
    assert response.status_code == 403
    assert heading(response) == "Доступ запрещён"
    assert "Вам нельзя это делать." in page(response).get_text()


def test_error_pages_carry_the_security_headers(client):
    response = client.get("/no/such/page")
    assert "Content-Security-Policy" in response.headers
    assert response.headers["X-Content-Type-Options"] == "nosniff"


# --- language ------------------------------------------------------------------------


def test_anonymous_visitor_gets_the_browser_language_else_english(client):
    cases = [
        (None, "en"),
        ("ru", "ru"),
        ("ru-RU,ru;q=0.9", "ru"),
        ("fr-FR,fr;q=0.9", "en"),
        ("de;q=0.9,ru;q=0.8", "ru"),
    ]
    for accept, expected in cases:
        response = client.get("/", headers={"Accept-Language": accept} if accept else {})
        assert language(response) == expected, accept
        assert heading(response) == {"en": "Live auctions", "ru": "Идущие аукционы"}[expected]


def test_anonymous_choice_beats_the_browser_language(client):
    response = client.post("/locale", data={"csrf_token": csrf_token(client), "locale": "ru", "next": "/login"})
    assert response.headers["Location"] == "/login"
    assert language(client.get("/", headers={"Accept-Language": "en"})) == "ru"


def test_telegram_language_beats_the_browser_language(client, make_user):
    sign_in(client, make_user("Ivan", language_code="ru"))
    response = client.get("/", headers={"Accept-Language": "en-US,en"})
    assert language(response) == "ru"
    assert page(response).select_one(".nav-user .account-menu form[action='/logout'] button").get_text(strip=True) == "Выйти"


def test_regional_telegram_language_code_counts(client, make_user):
    sign_in(client, make_user("Ivan", language_code="ru-RU"))
    assert language(client.get("/", headers={"Accept-Language": "en"})) == "ru"


def test_unsupported_telegram_language_falls_back_to_the_browser(client, make_user):
    sign_in(client, make_user("Pedro", language_code="pt-br"))
    assert language(client.get("/", headers={"Accept-Language": "ru"})) == "ru"
    assert language(client.get("/", headers={"Accept-Language": "pt"})) == "en"


def test_saved_choice_beats_telegram_language_on_every_device(app, client, make_user):
    user_id = make_user("Ivan", language_code="ru")
    sign_in(client, user_id)
    response = client.post("/locale", data={"csrf_token": csrf_token(client), "locale": "en"})
    assert response.status_code == 302
    assert language(client.get("/", headers={"Accept-Language": "ru"})) == "en"

    other_device = app.test_client()
    sign_in(other_device, user_id)
    assert language(other_device.get("/", headers={"Accept-Language": "ru"})) == "en"
    with app.app_context():
        assert db.session.get(User, user_id).locale == "en"


def test_unknown_locale_choice_falls_back_to_english(client):
    client.post("/locale", data={"csrf_token": csrf_token(client), "locale": "xx"})
    assert language(client.get("/", headers={"Accept-Language": "ru"})) == "en"


def test_locale_switch_redirects_only_inside_the_site(client):
    cases = [
        ("https://evil.com", "/"),
        ("//evil.com/x", "/"),
        ("/\\evil.com", "/"),
        ("/auctions/3?tab=bids", "/auctions/3?tab=bids"),
        ("", "/"),
    ]
    token = csrf_token(client)
    for next_value, location in cases:
        response = client.post("/locale", data={"csrf_token": token, "locale": "ru", "next": next_value})
        assert response.status_code == 302, next_value
        assert response.headers["Location"] == location, next_value


def test_footer_switch_returns_to_the_same_page(client):
    html = page(client.get("/login?next=/foo"))
    form = html.select_one("form.locale-switch")
    fields = {i["name"]: i["value"] for i in form.select("input[type=hidden]")}
    assert fields["next"] == "/login?next=/foo"
    response = client.post(form["action"], data={**fields, "locale": "ru"})
    assert response.headers["Location"] == "/login?next=/foo"
    assert heading(client.get(response.headers["Location"])) == "Войти"


def test_russian_plural_forms_on_a_page(app):
    from flask_babel import force_locale, ngettext

    with app.test_request_context(), force_locale("ru"):
        forms = [ngettext("%(num)d bid", "%(num)d bids", n) for n in (1, 3, 5, 21)]
    assert forms == ["1 ставка", "3 ставки", "5 ставок", "21 ставка"]


# --- headers and cookies -------------------------------------------------------------


def test_pages_send_security_headers(client):
    response = client.get("/")
    policy = dict(
        (directive.split(" ", 1) + [""])[:2] for directive in response.headers["Content-Security-Policy"].split("; ")
    )
    assert "'unsafe-inline'" not in policy["script-src"]
    assert "'unsafe-eval'" not in policy["script-src"]
    assert policy["default-src"] == "'self'"
    assert policy["object-src"] == "'none'"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "HX-Request" in response.headers["Vary"]
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_page_has_no_inline_scripts_the_policy_would_block(client):
    html = page(client.get("/login"))
    for script in html.find_all("script"):
        assert script.get("src"), f"inline script: {script}"
    assert not html.find(attrs={"onclick": True})


def test_htmx_is_vendored_and_sends_the_csrf_header(client):
    html = page(client.get("/"))
    sources = [s["src"] for s in html.find_all("script")]
    assert any(src.startswith("/static/vendor/htmx-2.") for src in sources)
    assert any("sse" in src for src in sources)
    for src in sources:
        assert client.get(src).status_code == 200
    assert html.body["hx-boost"] == "true"
    assert csrf_token(client)


def test_session_cookies_are_httponly_and_samesite_lax(client, make_user):
    user_id = make_user("Demo", is_demo=True)
    response = client.post("/dev-login", data={"csrf_token": csrf_token(client), "user_id": user_id})
    cookies = {c.split("=", 1)[0]: c for c in response.headers.getlist("Set-Cookie")}
    for name in ("session", "remember_token"):
        attributes = [part.strip().lower() for part in cookies[name].split(";")]
        assert "httponly" in attributes
        assert "samesite=lax" in attributes
        assert "secure" not in attributes  # plain http on 127.0.0.1


def test_cookies_are_secure_when_the_site_is_https(make_app):
    from tests.web.test_login import signed_login

    app = make_app(BASE_URL="https://auction.example", DEV_LOGIN=False)
    client = app.test_client()
    https = {"base_url": "https://localhost"}
    response = client.get("/login/telegram", query_string=signed_login(id="424242", first_name="Sec"), **https)
    assert response.status_code == 302
    cookies = {c.split("=", 1)[0]: c.lower() for c in response.headers.getlist("Set-Cookie")}
    assert "; secure" in cookies["session"]
    assert "; secure" in cookies["remember_token"]
    assert client.get("/", **https).headers["Strict-Transport-Security"]


def test_healthz_is_a_trivial_200(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}

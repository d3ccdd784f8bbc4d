"""Signing in with Telegram (real HMAC vectors), signing out, and dev login."""

from __future__ import annotations

import hashlib
import hmac
import time

import pytest
from sqlalchemy import func, select

from auction.extensions import db
from auction.models import User
from tests.conftest import TEST_BOT_TOKEN, csrf_token, page, sign_in


def signed_login(bot_token: str = TEST_BOT_TOKEN, **fields) -> dict[str, str]:
    """Login-widget data signed exactly as Telegram signs it."""
    data = {
        "id": "555000111",
        "first_name": "Ivan",
        "last_name": "Petrov",
        "username": "ivan_p",
        "photo_url": "https://t.me/i/userpic/320/ivan_p.jpg",
        "auth_date": str(int(time.time())),
    }
    data.update({key: str(value) for key, value in fields.items()})
    data = {key: value for key, value in data.items() if value != "None"}
    check_string = "\n".join(f"{key}={data[key]}" for key in sorted(data))
    secret = hashlib.sha256(bot_token.encode()).digest()
    data["hash"] = hmac.new(secret, check_string.encode(), hashlib.sha256).hexdigest()
    return data


def user_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(User))


def user_by_telegram_id(app, telegram_id: int) -> User | None:
    with app.app_context():
        user = db.session.scalar(select(User).where(User.telegram_id == telegram_id))
        if user is not None:
            db.session.expunge(user)
        return user


def nav_user_name(client) -> str | None:
    chip = page(client.get("/")).select_one(".nav-user .user-name")
    return chip.get_text(strip=True) if chip else None


def assert_refused(response, reason: str) -> None:
    assert response.status_code == 403
    html = page(response)
    assert html.find("h1").get_text(strip=True) == "Sign-in refused"
    assert reason in html.select_one(".error-page").get_text(" ", strip=True)


def test_valid_telegram_login_creates_the_user_and_signs_in(app, client):
    response = client.get("/login/telegram", query_string=signed_login())
    assert response.status_code == 302
    assert response.headers["Location"] == "/"

    user = user_by_telegram_id(app, 555000111)
    assert (user.first_name, user.last_name, user.username) == ("Ivan", "Petrov", "ivan_p")
    assert user.photo_url == "https://t.me/i/userpic/320/ivan_p.jpg"
    assert user.last_login_at is not None

    home = page(client.get("/"))
    assert home.select_one(".nav-user .user-name").get_text(strip=True) == "Ivan Petrov"
    assert home.select_one(".nav-user img.avatar")["src"] == "https://t.me/i/userpic/320/ivan_p.jpg"
    assert "Welcome, Ivan Petrov!" in home.select_one(".flashes").get_text()


def test_login_with_only_the_required_fields(app, client):
    data = signed_login(id=555000112, first_name="Olga", last_name=None, username=None, photo_url=None)
    assert set(data) == {"id", "first_name", "auth_date", "hash"}
    assert client.get("/login/telegram", query_string=data).status_code == 302
    assert nav_user_name(client) == "Olga"
    assert user_by_telegram_id(app, 555000112).photo_url is None


def test_tampered_field_is_refused_and_creates_nobody(app, client):
    data = signed_login()
    data["first_name"] = "Mallory"
    assert_refused(client.get("/login/telegram", query_string=data), "not signed by Telegram")
    assert user_count(app) == 0
    assert nav_user_name(client) is None


def test_tampered_id_cannot_take_over_another_account(app, client, make_user):
    victim = make_user("Victim", telegram_id=555000999)
    data = signed_login()
    data["id"] = "555000999"
    assert_refused(client.get("/login/telegram", query_string=data), "not signed by Telegram")
    assert nav_user_name(client) is None
    assert user_by_telegram_id(app, 555000999).id == victim


def test_dropped_field_breaks_the_signature(app, client):
    data = signed_login()
    data.pop("photo_url")
    assert_refused(client.get("/login/telegram", query_string=data), "not signed by Telegram")
    assert user_count(app) == 0


def test_added_unsigned_field_breaks_the_signature(app, client):
    # Telegram's data-check-string covers every received field, so nothing may be slipped in.
    data = {**signed_login(), "is_admin": "1"}
    assert_refused(client.get("/login/telegram", query_string=data), "not signed by Telegram")
    assert user_count(app) == 0


def test_signed_field_we_do_not_know_yet_is_accepted(app, client):
    # Telegram may add fields to the widget data; they are signed, so the login is valid.
    data = signed_login(allows_write_to_pm="true")
    assert client.get("/login/telegram", query_string=data).status_code == 302
    assert nav_user_name(client) == "Ivan Petrov"


def test_malformed_signed_values_are_refused(app, client):
    data = signed_login(auth_date="yesterday")
    assert_refused(client.get("/login/telegram", query_string=data), "malformed")
    data = signed_login(id="not-a-number")
    assert_refused(client.get("/login/telegram", query_string=data), "malformed")
    assert user_count(app) == 0


def test_data_signed_with_another_bot_token_is_refused(app, client):
    data = signed_login(bot_token="999999:another-bots-token")
    assert_refused(client.get("/login/telegram", query_string=data), "not signed by Telegram")
    assert user_count(app) == 0


def test_missing_hash_is_refused(app, client):
    data = signed_login()
    data.pop("hash")
    assert_refused(client.get("/login/telegram", query_string=data), "incomplete")
    assert user_count(app) == 0


def test_stale_auth_date_is_refused(app, client):
    max_age = app.config["LOGIN_MAX_AGE_SECONDS"]
    assert max_age == 24 * 3600
    data = signed_login(auth_date=int(time.time()) - max_age - 60)
    assert_refused(client.get("/login/telegram", query_string=data), "expired")
    assert user_count(app) == 0


def test_login_window_is_configurable(make_app):
    app = make_app(LOGIN_MAX_AGE_SECONDS=60)
    client = app.test_client()
    data = signed_login(auth_date=int(time.time()) - 120)
    assert_refused(client.get("/login/telegram", query_string=data), "expired")
    fresh = signed_login(auth_date=int(time.time()) - 30)
    assert client.get("/login/telegram", query_string=fresh).status_code == 302


def test_auth_date_from_the_future_is_refused(app, client):
    data = signed_login(auth_date=int(time.time()) + 3600)
    assert_refused(client.get("/login/telegram", query_string=data), "expired")
    assert user_count(app) == 0


def test_replayed_login_data_is_refused_and_changes_nothing(app, client):
    data = signed_login()
    assert client.get("/login/telegram", query_string=data).status_code == 302
    first = user_by_telegram_id(app, 555000111)

    stranger = app.test_client()
    assert_refused(stranger.get("/login/telegram", query_string=data), "already used")
    assert nav_user_name(stranger) is None
    again = user_by_telegram_id(app, 555000111)
    assert again.last_login_at == first.last_login_at
    assert user_count(app) == 1


def test_replay_by_the_signed_in_user_is_refused_too(app, client):
    # The refusal is raised right after a failed INSERT; building its message must not
    # touch the database (the locale lookup reads the signed-in user).
    data = signed_login()
    assert client.get("/login/telegram", query_string=data).status_code == 302
    assert_refused(client.get("/login/telegram", query_string=data), "already used")
    assert nav_user_name(client) == "Ivan Petrov"


def test_replay_with_an_uppercase_hash_is_still_a_replay(app, client):
    data = signed_login()
    assert client.get("/login/telegram", query_string=data).status_code == 302
    data["hash"] = data["hash"].upper()
    assert_refused(app.test_client().get("/login/telegram", query_string=data), "already used")


def test_existing_user_gets_updated_profile(app, client, make_user):
    user_id = make_user("Old", telegram_id=555000111, username="old_name")
    data = signed_login(first_name="Новое", last_name="Имя", username="new_name")
    assert client.get("/login/telegram", query_string=data).status_code == 302
    user = user_by_telegram_id(app, 555000111)
    assert user.id == user_id
    assert (user.first_name, user.last_name, user.username) == ("Новое", "Имя", "new_name")
    assert user_count(app) == 1
    assert nav_user_name(client) == "Новое Имя"


def test_overlong_profile_fields_are_cut_to_fit(app, client):
    data = signed_login(first_name="A" * 300, last_name="B" * 300, username="c" * 100)
    assert client.get("/login/telegram", query_string=data).status_code == 302
    user = user_by_telegram_id(app, 555000111)
    assert (len(user.first_name), len(user.last_name), len(user.username)) == (128, 128, 64)


def test_non_https_photo_url_is_not_stored(app, client):
    data = signed_login(photo_url="javascript:alert(1)")
    assert client.get("/login/telegram", query_string=data).status_code == 302
    assert user_by_telegram_id(app, 555000111).photo_url is None


NEXT_CASES = [
    ("/foo", "/foo"),
    ("/auctions/7?tab=bids", "/auctions/7?tab=bids"),
    ("//evil.com", "/"),
    ("https://evil.com", "/"),
    ("/\\evil.com", "/"),
    ("\\\\evil.com", "/"),
    ("javascript:alert(1)", "/"),
    ("/foo\r\nSet-Cookie: x=1", "/"),
]


def test_next_only_redirects_inside_the_site(client):
    now = int(time.time())
    for seconds_ago, (next_value, location) in enumerate(NEXT_CASES):
        # Each sign-in is fresh login data: a repeated hash would be refused as a replay.
        query = {**signed_login(auth_date=now - seconds_ago), "next": next_value}
        response = client.get("/login/telegram", query_string=query)
        assert response.status_code == 302, next_value
        assert response.headers["Location"] == location, next_value


def test_login_page_widget_points_back_to_the_callback(client):
    html = page(client.get("/login?next=/foo"))
    widget = html.select_one(".telegram-login script")
    assert widget["data-telegram-login"] == "bot_auction_test_bot"
    assert widget["data-auth-url"] == "http://127.0.0.1:8000/login/telegram?next=/foo"


def test_login_page_drops_an_outside_next(client):
    html = page(client.get("/login?next=https://evil.com"))
    assert html.select_one(".telegram-login script")["data-auth-url"] == "http://127.0.0.1:8000/login/telegram"


# --- signing out ---------------------------------------------------------------------


def test_logout_invalidates_the_old_session_cookie(app, client):
    assert client.get("/login/telegram", query_string=signed_login()).status_code == 302
    assert nav_user_name(client) == "Ivan Petrov"
    old_session = client.get_cookie("session").value
    old_remember = client.get_cookie("remember_token").value

    response = client.post("/logout", data={"csrf_token": csrf_token(client)})
    assert response.status_code == 302
    assert nav_user_name(client) is None

    # Someone who kept a copy of the cookies from before logout is not signed in.
    client.set_cookie("session", old_session)
    client.set_cookie("remember_token", old_remember)
    html = page(client.get("/"))
    assert html.select_one(".nav-user .user-name") is None
    assert html.select_one(".nav-user a.btn").get_text(strip=True) == "Sign in"


def test_logout_ends_the_session_in_every_browser(app, client, make_user):
    user_id = make_user("Alice")
    other_device = app.test_client()
    sign_in(client, user_id)
    sign_in(other_device, user_id)
    assert nav_user_name(other_device) == "Alice"
    client.post("/logout", data={"csrf_token": csrf_token(client)})
    assert nav_user_name(other_device) is None


def test_logout_without_csrf_token_is_a_400_and_keeps_the_session(user_client):
    response = user_client.post("/logout")
    assert response.status_code == 400
    html = page(response)
    assert html.find("h1").get_text(strip=True) == "Bad request"
    assert "Your form expired or came from another site" in html.get_text()
    assert nav_user_name(user_client) == "Alice"


def test_signing_in_again_after_logout_works(app, client):
    now = int(time.time())
    assert client.get("/login/telegram", query_string=signed_login(auth_date=now)).status_code == 302
    client.post("/logout", data={"csrf_token": csrf_token(client)})
    assert client.get("/login/telegram", query_string=signed_login(auth_date=now - 1)).status_code == 302
    assert nav_user_name(client) == "Ivan Petrov"


# --- dev login -----------------------------------------------------------------------


@pytest.fixture
def demo_user_ids(make_user):
    return [make_user("Demo", last_name="One", is_demo=True), make_user("Demo", last_name="Two", is_demo=True)]


def test_dev_login_lists_demo_users_and_signs_in_with_one_click(client, make_user, demo_user_ids):
    make_user("Real", last_name="Person")
    login_page = page(client.get("/login"))
    link = login_page.find("a", string="Try it with a demo user")
    assert link["href"] == "/dev-login"

    html = page(client.get(link["href"]))
    names = [b.get_text(" ", strip=True) for b in html.select("button.demo-user")]
    assert names == ["DO Demo One", "DT Demo Two"]
    form = html.select("ul.demo-users form")[1]
    fields = {i["name"]: i["value"] for i in form.select("input[type=hidden]")}
    response = client.post(form["action"], data=fields)
    assert response.status_code == 302
    assert nav_user_name(client) == "Demo Two"


def test_dev_login_refuses_a_user_who_is_not_a_demo_user(client, make_user, demo_user_ids):
    real = make_user("Real", last_name="Person")
    response = client.post(
        "/dev-login", data={"csrf_token": csrf_token(client), "user_id": real}, follow_redirects=True
    )
    assert "Pick one of the demo users." in page(response).select_one(".flashes").get_text()
    assert nav_user_name(client) is None


def test_dev_login_keeps_next_inside_the_site(client, demo_user_ids):
    token = csrf_token(client)
    ok = client.post("/dev-login?next=/foo", data={"csrf_token": token, "user_id": demo_user_ids[0]})
    assert ok.headers["Location"] == "/foo"
    evil = client.post(
        "/dev-login?next=//evil.com", data={"csrf_token": csrf_token(client), "user_id": demo_user_ids[0]}
    )
    assert evil.headers["Location"] == "/"


def test_seeded_demo_users_appear_on_the_dev_login_page(app, client):
    from auction.services.demo import DEMO_USERS, _create_demo_user

    with app.app_context():
        for profile in DEMO_USERS:
            _create_demo_user(profile, admin=profile.username == "admin_demo")
    html = page(client.get("/dev-login"))
    text = html.select_one("ul.demo-users").get_text(" ", strip=True)
    for name in ("Alice Smirnova", "Борис Иванов", "@admin_demo"):
        assert name in text
    assert len(html.select("button.demo-user .badge")) == 1


def test_without_dev_login_the_route_does_not_exist(make_app, make_user):
    app = make_app(DEV_LOGIN=False)
    client = app.test_client()
    with app.app_context():
        from auction.services.demo import DEMO_USERS, _create_demo_user

        demo_id = _create_demo_user(DEMO_USERS[0], admin=False)
    assert client.get("/dev-login").status_code == 404
    response = client.post("/dev-login", data={"csrf_token": csrf_token(client), "user_id": demo_id})
    assert response.status_code == 404
    assert nav_user_name(client) is None
    login_page = page(client.get("/login"))
    assert login_page.find("a", string="Try it with a demo user") is None
    assert "dev-login" not in str(login_page)

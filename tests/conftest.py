"""Shared fixtures: an app on a fresh database file (or PostgreSQL), clients, users, page parsing.

Set TEST_DATABASE_URL=postgresql+psycopg://... to run the whole suite on PostgreSQL;
each test then gets its own empty schema in that database.
"""

from __future__ import annotations

import json
import os
import secrets
from itertools import count

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import create_engine, text

from auction import create_app
from auction.extensions import db
from auction.services.transaction import atomic
from auction.services.users import TelegramProfile, upsert_telegram_user
from tests.support.fake_telegram import fake_telegram  # noqa: F401  (the fake Bot API, as a fixture)
from tests.support.servers import live_server, run_server  # noqa: F401  (the real server, as a fixture and a helper)

# Fixtures shared by several modules; a module that defines its own fixture of the same name wins.
pytest_plugins = ["tests.support.bidding_helpers"]

TEST_BOT_TOKEN = "123456:TEST-token-for-the-fake-bot-api"
TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")
TEST_REDIS_URL = "redis://127.0.0.1:6379/15"
_telegram_ids = count(700_000_001)


def base_config(database_url: str) -> dict:
    """Settings every test app starts from; a test may override any of them."""
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-" + "x" * 32,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "DEV_LOGIN": True,
        "TELEGRAM_BOT_TOKEN": TEST_BOT_TOKEN,
        "TELEGRAM_BOT_USERNAME": "bot_auction_test_bot",
        "TELEGRAM_API_BASE_URL": "http://127.0.0.1:9/bot",
        "BOT_MODE": "off",
        "BROKER_URL": "",
        "BASE_URL": "http://127.0.0.1:8000",
        "ADMIN_TELEGRAM_IDS": frozenset(),
        "RATELIMIT_ENABLED": False,  # tests/web/test_rate_limits.py turns them on
        # Many tests list more auctions for one seller than a free plan runs at once;
        # tests/services/test_premium_gates.py puts the real limit back.
        "FREE_LIVE_AUCTIONS": 1_000,
    }


@pytest.fixture(scope="session", autouse=True)
def uploads_left_as_found():
    """Photos stored by tests go to static/uploads/ like real ones; remove them afterwards."""
    from auction.config import ROOT

    uploads = ROOT / "static" / "uploads"
    before = set(uploads.rglob("*")) if uploads.exists() else set()
    yield
    if uploads.exists():
        for path in sorted(set(uploads.rglob("*")) - before, reverse=True):
            if path.is_file():
                path.unlink(missing_ok=True)
            elif not any(path.iterdir()):
                path.rmdir()


@pytest.fixture
def redis_namespace():
    """A Redis key prefix of this test's own (database 15); only its keys are removed afterwards."""
    import redis

    namespace = f"test-{secrets.token_hex(6)}"
    yield namespace
    client = redis.Redis.from_url(TEST_REDIS_URL)
    keys = list(client.scan_iter(f"{namespace}:*"))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture
def database_url(tmp_path):
    """A fresh empty database: an SQLite file, or a new PostgreSQL schema."""
    if not TEST_DATABASE_URL:
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    schema = f"t_{secrets.token_hex(6)}"
    admin = create_engine(TEST_DATABASE_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in TEST_DATABASE_URL else "?"
    yield f"{TEST_DATABASE_URL}{separator}options=-csearch_path%3D{schema}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture
def make_app(database_url):
    """Build apps on the test database; the schema is created once, from the models."""
    apps = []

    def factory(create_schema: bool = True, **overrides):
        app = create_app({**base_config(database_url), **overrides})
        if create_schema:
            with app.app_context():
                db.create_all()
        apps.append(app)
        return app

    factory.apps = apps  # the ledger check below looks at the database they share
    yield factory
    for app in apps:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture(autouse=True)
def ledger_stays_balanced(request):
    """After every test that built an app, the ledger invariants must hold on its database."""
    if "make_app" not in request.fixturenames:
        yield
        return
    # Requested here so that the database outlives this check at teardown.
    factory = request.getfixturevalue("make_app")
    yield
    if factory.apps:
        from tests.support.invariants import ledger_violations

        problems = ledger_violations(factory.apps[0])
        if problems:
            pytest.fail("ledger invariants broken after the test:\n" + "\n".join(problems), pytrace=False)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    """Flask's CLI runner for `app`: `runner.invoke(args=["ledger", "check"])`."""
    return app.test_cli_runner()


def in_app(app, fn, *args, **kwargs):
    """Call a service as a job would: in `app`'s context, its session removed afterwards."""
    with app.app_context():
        try:
            return fn(*args, **kwargs)
        finally:
            db.session.remove()


@pytest.fixture
def make_user(app):
    """Create a user the way the bot or the login widget would; returns its id."""

    def factory(first_name: str = "Test", **fields) -> int:
        profile = TelegramProfile(
            telegram_id=fields.pop("telegram_id", next(_telegram_ids)),
            first_name=first_name,
            last_name=fields.pop("last_name", None),
            username=fields.pop("username", None),
            language_code=fields.pop("language_code", "en"),
        )
        with app.app_context():
            user_id = upsert_telegram_user(profile).id
            if fields:
                _set_fields(user_id, fields)
            db.session.remove()
            return user_id

    return factory


@atomic
def _set_fields(user_id: int, fields: dict) -> None:
    # A write transaction of its own (BEGIN IMMEDIATE on SQLite): upgrading the registration's
    # read to a write fails at once ("database is locked") when a running server wrote meanwhile.
    from auction.models import User

    user = db.session.get(User, user_id)
    for key, value in fields.items():
        setattr(user, key, value)


def sign_in(client, user_id: int) -> None:
    """Put a signed-in session for `user_id` in the client's cookie jar."""
    from auction.models import User

    with client.application.app_context():
        session_id = db.session.get(User, user_id).get_id()
    with client.session_transaction() as session:
        session["_user_id"] = session_id
        session["_fresh"] = True


@pytest.fixture
def user_client(client, make_user):
    """A client signed in as a fresh user; the user id is on `client.user_id`."""
    client.user_id = make_user("Alice", username="alice")
    sign_in(client, client.user_id)
    return client


def page(response) -> BeautifulSoup:
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def csrf_token(client, path: str = "/") -> str:
    """The CSRF token a page hands to htmx (hx-headers on <body>)."""
    body = page(client.get(path)).body
    return json.loads(body["hx-headers"])["X-CSRFToken"]

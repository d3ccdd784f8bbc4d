"""Hostile input never gives a 500 and changes nothing (issue 10 item 6).

ONE walk over EVERY route of the URL map (web), the live stream (/events) and the bot's
commands and buttons (read from the running bot's handlers), with the table of hostile
values below. A new route, form field, command or button joins the walk by existing:
routes come from `app.url_map`, field names from the forms on the site's own pages,
commands and button prefixes from the bot's registered handlers.

Run on SQLite and, with TEST_DATABASE_URL, on PostgreSQL.
"""

from __future__ import annotations

import logging
import re
import time

import httpx
import pytest
from bs4 import BeautifulSoup
from sqlalchemy import func, select
from telegram.ext import CallbackQueryHandler, CommandHandler

from auction.extensions import db
from tests.support.bidding_helpers import give_stars, new_auction
from tests.support.fake_telegram import bot_config, run_bot
from tests.support.servers import run_server

# The table: one sample of each class of hostile value. Add a class here and every route,
# field, command and button gets it.
HOSTILE_IDS = [
    "99999999999999999999999",  # beyond int64
    "9223372036854775808",  # int64 + 1
    "2147483648",  # PostgreSQL integer + 1
    "-1",
    "٣٠",  # Arabic-Indic thirty
    "²",  # superscript two
    "١",  # Arabic-Indic one
]
HOSTILE_VALUES = HOSTILE_IDS + [
    "12\x0034",  # a NUL byte
    "Title\x00with NUL",
    "x" * 20_000,  # a huge string (forms take at most 64 KB)
    "0001-01-01T00:00",  # dates out of range in a far zone (see TIMEZONES)
    "9999-12-31T23:59",
    "fortnights",  # an unknown enum value (duration_unit, kind, start_mode, locale ...)
    "\u202e\u200b\u2066",  # only invisible and direction-override characters
    "1e9",
    "",
]
TIMEZONES = ["Asia/Tokyo", "America/Los_Angeles"]
SKIPPED_ENDPOINTS = {"static"}
# Walked for crashes, but their effect needs no input (a demo top-up): walked last, counts not compared.
INPUTLESS_ENDPOINTS = {"wallet_sandbox.sandbox_top_up"}
NEVER_CHANGED = None  # every table: see table_counts()


def table_counts(app) -> dict[str, int]:
    with app.app_context():
        return {name: db.session.scalar(select(func.count()).select_from(table)) for name, table in db.metadata.tables.items()}


def field_names(client, paths: list[str]) -> set[str]:
    """Every form field on the site's own pages (so a new form's fields join the walk)."""
    names = {"next", "page", "since", "q", "channels"}
    for path in paths:
        html = BeautifulSoup(client.get(path).get_data(as_text=True), "html.parser")
        names |= {tag["name"] for tag in html.select("[name]") if tag.name in ("input", "select", "textarea", "button")}
    return names - {"csrf_token", "submission_key"}


def concrete_paths(rule, real_id: int) -> list[str]:
    """The rule's path with every id hostile, and once with a real one (so the form is read)."""
    if not rule.arguments:
        return [rule.rule]
    paths = []
    for value in [str(real_id), *HOSTILE_IDS]:
        paths.append(re.sub(r"<(?:\w+:)?\w+>", value, rule.rule))
    return paths


@pytest.fixture
def walk_app(make_app):
    return make_app(WTF_CSRF_ENABLED=True, RATELIMIT_ENABLED=False)


RAW_CSRF = "f" * 40


def ready(client, user_id: int | None) -> str:
    """Sign the client in afresh (a walked /logout signs out everywhere) with a known CSRF secret; returns the token."""
    from flask_wtf.csrf import generate_csrf

    from auction.models import User

    if user_id is not None:
        with client.application.app_context():
            session_id = db.session.get(User, user_id).get_id()
    with client.session_transaction() as session:
        session.clear()
        session["csrf_token"] = RAW_CSRF
        if user_id is not None:
            session["_user_id"] = session_id
            session["_fresh"] = True
    with client.application.test_request_context():
        from flask import session as request_session

        request_session["csrf_token"] = RAW_CSRF
        return generate_csrf()


def test_every_web_route_survives_hostile_input_and_changes_nothing(walk_app, make_user):
    app = walk_app
    seller, other = make_user("Seller"), make_user("Other")
    give_stars(app, other, 500)
    auction_id = new_auction(app, seller)
    people = {"guest": None, "seller": seller, "other": other}
    client = app.test_client()
    pages = ["/", f"/auctions/{auction_id}", "/auctions/new", f"/auctions/{auction_id}/edit", "/wallet", "/watchlist", "/login"]
    ready(client, seller)
    fields = field_names(client, pages)
    ready(client, other)
    fields |= field_names(client, pages)
    before = table_counts(app)
    failures = []
    seen: dict = {}
    slow: dict = {}
    checked = None
    for rule in sorted(app.url_map.iter_rules(), key=lambda rule: rule.endpoint in INPUTLESS_ENDPOINTS):
        if rule.endpoint in SKIPPED_ENDPOINTS:
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            for path in concrete_paths(rule, auction_id):
                values = HOSTILE_VALUES if path == concrete_paths(rule, auction_id)[0] else HOSTILE_VALUES[:1]
                for who, user_id in people.items():
                    for value in values:
                        for zone in TIMEZONES if value.startswith(("0001", "9999")) else [None]:
                            if rule.endpoint in INPUTLESS_ENDPOINTS and checked is None:
                                checked = table_counts(app)  # the rest changes things without any input
                            token = ready(client, user_id)
                            if zone:
                                with client.session_transaction() as session:
                                    session["timezone"] = zone
                            data = {name: value for name in fields}
                            kwargs = {"query_string": data} if method == "GET" else {"data": {**data, "csrf_token": token}}
                            started = time.monotonic()
                            try:
                                response = client.open(path, method=method, headers={"X-CSRFToken": token}, **kwargs)
                                status = response.status_code
                            except Exception as exc:  # TESTING propagates a view's exception
                                status = f"{type(exc).__name__}: {exc}"[:200]
                                _reset(app)
                            seen[(method, rule.endpoint, status if isinstance(status, int) else 500)] = value
                            slow[rule.endpoint] = slow.get(rule.endpoint, 0) + time.monotonic() - started
                            if not isinstance(status, int) or status >= 500:
                                failures.append(f"{method} {path[:60]} as {who} with {value[:20]!r} ({zone}): {status}")
    print(sorted(slow.items(), key=lambda kv: -kv[1])[:6])
    reached = {endpoint for (method, endpoint, status) in seen if method == "POST" and status not in (302, 400)}
    assert "auctions.create" in reached and "auctions.place_bid" in reached, "the walk must reach the views"
    assert not failures, f"{len(failures)} crashes:\n" + "\n".join(sorted(set(failures))[:60])
    after = checked or table_counts(app)
    changed = {name: (before[name], after[name]) for name in before if before[name] != after[name]}
    assert not changed, f"hostile input changed the database: {changed}"


def _reset(app) -> None:
    with app.app_context():
        db.session.rollback()
        db.session.remove()


def test_the_live_stream_survives_hostile_input(app):
    values = [*HOSTILE_VALUES[:-1], "auction:" + HOSTILE_IDS[0], "user:" + HOSTILE_IDS[2]]
    with run_server(app) as base_url:
        for value in values:
            for params, headers in (
                ({"channels": value}, {}),
                ({"channels": f"auction:{value}"}, {}),
                ({"channels": "listings", "since": value}, {}),
                ({"channels": "listings"}, {"Last-Event-ID": value.encode("utf-8")} if "\x00" not in value else {}),
            ):
                with httpx.stream("GET", f"{base_url}/events", params=params, headers=headers, timeout=10) as response:
                    assert response.status_code < 500, (params, headers, response.status_code)


def test_every_bot_command_and_button_survives_hostile_input(make_app, make_user, fake_telegram, caplog):
    app = make_app(**bot_config(fake_telegram))
    alice = fake_telegram.user("Alice", language_code="en")
    seller = make_user("Seller")
    make_user("Alice", telegram_id=alice["id"])
    new_auction(app, seller)
    before = None
    caplog.set_level(logging.ERROR, logger="auction.bot")
    with run_bot(app) as runtime:
        commands, prefixes = _bot_entry_points(runtime.application)
        assert "start" in commands and "bid" in prefixes
        before = table_counts(app)
        for value in HOSTILE_VALUES:
            short = value[:60]
            for command in commands:
                fake_telegram.inject_message(alice, f"/{command} {value}")
                fake_telegram.inject_message(alice, f"/{command} auction_{short}")
            for prefix in prefixes:
                fake_telegram.inject_callback_query(alice, f"{prefix}:{short}"[:64])
                fake_telegram.inject_callback_query(alice, f"{prefix}:{short}:{short}"[:64])
            fake_telegram.inject_message(alice, value[:4096] or "x")  # an answer to a question the bot asked
        mark = fake_telegram.mark()
        fake_telegram.inject_message(alice, "/start")
        fake_telegram.wait_for_call("sendMessage", lambda p: p["chat_id"] == alice["id"], since=mark, timeout=120)
    crashes = [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR and record.name.startswith("auction")]
    assert not crashes, crashes[:10]
    after = table_counts(app)
    # Free text is a valid support request (/paysupport <text>), and replies queue in the outbox.
    free_text = ("outbox", "support_tickets", "support_messages")
    changed = {name: (before[name], after[name]) for name in before if before[name] != after[name] and name not in free_text}
    assert not changed, changed


def _bot_entry_points(application) -> tuple[list[str], list[str]]:
    """The commands and the button prefixes the running bot has handlers for."""
    commands, prefixes = set(), set()
    for handlers in application.handlers.values():
        for handler in handlers:
            if isinstance(handler, CommandHandler):
                commands |= set(handler.commands)
            elif isinstance(handler, CallbackQueryHandler) and handler.pattern is not None:
                pattern = getattr(handler.pattern, "pattern", str(handler.pattern))
                for alternative in re.findall(r"[a-z_]+", pattern.split(":")[0]):
                    prefixes.add(alternative)
    return sorted(commands), sorted(prefixes)



def form_defaults(client, paths: list[str]) -> tuple[dict[str, str], set[str]]:
    """A valid value for every field on the site's forms as the pages fill them in, and the
    names of the switches among them (selects and radio buttons: the kind, the start mode, units)."""
    values: dict[str, str] = {}
    switches: set[str] = set()
    for path in paths:
        html = BeautifulSoup(client.get(path).get_data(as_text=True), "html.parser")
        for tag in html.select("input[name], textarea[name], select[name]"):
            name = tag["name"]
            if tag.name == "select":
                switches.add(name)
                option = tag.select_one("option[selected]") or tag.select_one("option[value]")
                value = option.get("value", "") if option else ""
            elif tag.name == "textarea":
                value = tag.get_text()
            elif tag.get("type") in ("radio", "checkbox"):
                switches.add(name)
                if not tag.has_attr("checked"):
                    continue
                value = tag.get("value", "")
            else:
                value = tag.get("value", "")
            values.setdefault(name, value)
    return values, switches


def test_hostile_fields_behind_valid_switches_never_give_a_500(walk_app, make_user):
    """The switches valid (start later, an English auction, days), every other field hostile, so
    the view reads what a switch guards (a start date is read only when "start later" is chosen)."""
    from tests.web.test_listing_form import listing_fields

    app = walk_app
    seller = make_user("Seller")
    auction_id = new_auction(app, seller)
    client = app.test_client()
    pages = ["/", f"/auctions/{auction_id}", "/auctions/new", f"/auctions/{auction_id}/edit", "/wallet", "/watchlist"]
    token = ready(client, seller)
    defaults, switches = form_defaults(client, pages)
    valid = {**defaults, **listing_fields(start_mode="later", starts_at="2031-05-01T12:00"), "locale": "ru"}
    fields = set(defaults) - {"csrf_token", "submission_key"}
    failures = []
    for rule in app.url_map.iter_rules():
        if "POST" not in rule.methods or rule.endpoint in SKIPPED_ENDPOINTS | INPUTLESS_ENDPOINTS | {"auth.logout", "auctions.cancel"}:
            continue
        path = concrete_paths(rule, auction_id)[0]
        for value in HOSTILE_VALUES:
            for zone in TIMEZONES if value.startswith(("0001", "9999")) else [None]:
                if zone:
                    with client.session_transaction() as session:
                        session["timezone"] = zone
                data = {name: valid.get(name, "") if name in switches else value for name in fields}
                try:
                    status = client.post(path, data={**data, "csrf_token": token}).status_code
                except Exception as exc:
                    status = f"{type(exc).__name__}: {exc}"[:200]
                    _reset(app)
                if not isinstance(status, int) or status >= 500:
                    failures.append(f"POST {path} with {value[:20]!r} ({zone}): {status}")
    assert "start_mode" in switches and "duration_unit" in switches
    assert not failures, f"{len(failures)} crashes:\n" + "\n".join(sorted(set(failures))[:60])

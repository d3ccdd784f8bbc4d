"""Webhook mode through the real server: only updates carrying the secret reach the bot."""

from __future__ import annotations

import httpx
import pytest

from auction.config import ConfigError
from tests.support.fake_telegram import bot_config
from tests.support.servers import run_server

SECRET = "webhook-Secret_0123456789"
SITE = "https://auction.example"
HEADER = "X-Telegram-Bot-Api-Secret-Token"


@pytest.fixture
def webhook_app(make_app, fake_telegram):
    return make_app(**bot_config(fake_telegram, mode="webhook", TELEGRAM_WEBHOOK_SECRET=SECRET, BASE_URL=SITE))


def test_updates_with_the_secret_are_handled_and_others_refused(webhook_app, fake_telegram):
    alice = fake_telegram.user("Alice", language_code="en")
    with run_server(webhook_app) as url:
        assert fake_telegram.webhook["url"] == f"{SITE}/telegram/webhook"
        assert fake_telegram.webhook["secret_token"] == SECRET
        hook = f"{url}/telegram/webhook"

        forged = {"update_id": fake_telegram.new_update_id(), "message": fake_telegram.text_message(alice, "/start")}
        assert httpx.post(hook, json=forged).status_code == 403
        assert httpx.post(hook, json=forged, headers={HEADER: "wrong"}).status_code == 403
        assert httpx.post(hook, json=forged, headers={HEADER: SECRET[:-1]}).status_code == 403

        # Telegram itself, through the proxy in front of BASE_URL, with the secret it was given.
        fake_telegram.deliver_webhook_to(hook)
        fake_telegram.inject_message(alice, "/start")
        reply = fake_telegram.wait_for_call("sendMessage", lambda p: p["chat_id"] == alice["id"])
        assert reply["text"].startswith("Welcome to Bot-Auction, Alice!")
        assert fake_telegram.pending_updates == 0

        mark = fake_telegram.mark()
        direct = {"update_id": fake_telegram.new_update_id(), "message": fake_telegram.text_message(alice, "/start")}
        assert httpx.post(hook, json=direct, headers={HEADER: SECRET}).status_code == 200
        fake_telegram.wait_for_call("sendMessage", lambda p: p["chat_id"] == alice["id"], since=mark)

    # Two updates carried the secret; the three forged ones were ignored.
    assert len([p for p in fake_telegram.calls("sendMessage") if p["chat_id"] == alice["id"]]) == 2
    assert fake_telegram.calls("getUpdates") == []


def test_bad_bodies_and_other_modes(make_app, webhook_app):
    client = webhook_app.test_client()
    assert client.post("/telegram/webhook", data="not json", headers={HEADER: SECRET}).status_code == 400
    # No bot running in this process (a plain Flask server): Telegram is told to come back later.
    assert client.post("/telegram/webhook", json={"update_id": 1}, headers={HEADER: SECRET}).status_code == 503
    polling = make_app(BOT_MODE="polling", TELEGRAM_WEBHOOK_SECRET=SECRET).test_client()
    assert polling.post("/telegram/webhook", json={"update_id": 1}, headers={HEADER: SECRET}).status_code == 404
    no_bot = make_app(BOT_MODE="webhook", TELEGRAM_BOT_TOKEN="", TELEGRAM_WEBHOOK_SECRET="").test_client()
    assert no_bot.post("/telegram/webhook", json={"update_id": 1}, headers={HEADER: ""}).status_code == 403


@pytest.mark.parametrize("secret", ["", "has spaces", "x" * 257])
def test_webhook_mode_refuses_to_start_without_a_usable_secret(make_app, secret):
    with pytest.raises(ConfigError, match="TELEGRAM_WEBHOOK_SECRET"):
        make_app(BOT_MODE="webhook", TELEGRAM_WEBHOOK_SECRET=secret)

"""The fake Bot API itself, spoken to over HTTP the way python-telegram-bot and Telegram's docs do."""

from __future__ import annotations

import threading
import time

import httpx

from tests.support.fake_telegram import TEST_BOT_TOKEN


def api(fake, method: str, **kwargs) -> httpx.Response:
    return httpx.post(f"{fake.api_base_url}{TEST_BOT_TOKEN}/{method}", **kwargs)


def test_get_me_unknown_methods_and_wrong_tokens(fake_telegram):
    me = api(fake_telegram, "getMe").json()
    assert me["ok"] and me["result"]["is_bot"] and me["result"]["username"] == "bot_auction_test_bot"
    assert api(fake_telegram, "sendTelepathy").status_code == 404
    assert httpx.post(f"{fake_telegram.url}/bot1:wrong/getMe").json() == {
        "ok": False, "error_code": 401, "description": "Unauthorized"}


def test_get_updates_long_polls_and_confirms_by_offset(fake_telegram):
    alice = fake_telegram.user("Alice")
    threading.Timer(0.2, fake_telegram.inject_message, (alice, "/start")).start()
    started = time.monotonic()
    first = api(fake_telegram, "getUpdates", data={"timeout": "3"}).json()["result"]
    assert time.monotonic() - started > 0.15  # it waited for the message, as a long poll does
    assert first[0]["message"]["text"] == "/start"
    assert first[0]["message"]["entities"] == [{"type": "bot_command", "offset": 0, "length": 6}]
    again = api(fake_telegram, "getUpdates", data={"timeout": "0"}).json()["result"]
    assert again == first  # not confirmed yet
    offset = str(first[0]["update_id"] + 1)
    assert api(fake_telegram, "getUpdates", data={"offset": offset, "timeout": "0"}).json()["result"] == []


def test_records_calls_decodes_bodies_and_fails_on_demand(fake_telegram):
    fake_telegram.fail_next("sendMessage", 429, retry_after=3)
    refused = api(fake_telegram, "sendMessage", data={"chat_id": "42", "text": "hi"})
    assert refused.status_code == 429 and refused.json()["parameters"] == {"retry_after": 3}
    sent = api(fake_telegram, "sendMessage", json={"chat_id": 42, "text": "hi", "reply_markup": {"inline_keyboard": []}})
    assert sent.json()["result"]["chat"]["id"] == 42
    photo = api(fake_telegram, "sendPhoto", data={"chat_id": "42", "caption": "7"}, files={"photo": ("a.jpg", b"x" * 100)})
    assert photo.json()["result"]["photo"][-1]["file_id"]
    assert fake_telegram.wait_for_call("sendPhoto") == {
        "chat_id": 42, "caption": "7", "photo": {"filename": "a.jpg", "size": 100, "content_type": "image/jpeg"}}
    assert [call.error_code for call in fake_telegram.attempts("sendMessage")] == [429, None]
    fake_telegram.fail_next("sendMessage", 403)
    assert api(fake_telegram, "sendMessage", data={"chat_id": "42", "text": "hi"}).json()["description"] == (
        "Forbidden: bot was blocked by the user")


def test_stars_invoices(fake_telegram):
    prices = '[{"label": "100 Stars", "amount": 100}]'
    invoice = {"title": "Stars", "description": "100 Stars", "payload": "p-1", "currency": "XTR", "prices": prices}
    link = api(fake_telegram, "createInvoiceLink", data=invoice).json()["result"]
    assert link.startswith("https://t.me/$")
    two = '[{"label": "a", "amount": 1}, {"label": "b", "amount": 2}]'
    assert api(fake_telegram, "sendInvoice", data={**invoice, "chat_id": "42", "prices": two}).status_code == 400
    message = api(fake_telegram, "sendInvoice", data={**invoice, "chat_id": "42"}).json()["result"]
    assert message["invoice"]["total_amount"] == 100

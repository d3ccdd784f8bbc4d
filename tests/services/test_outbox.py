"""The outbox: rows written with their cause, sent once by the dispatcher through the fake Bot API."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import pytest
from flask_babel import lazy_gettext as _l

from auction.bot.dispatcher import TokenBucket
from auction.extensions import db
from auction.models import OutboxMessage, User, utcnow
from auction.services import outbox
from auction.services.transaction import atomic
from tests.support.fake_telegram import bot_config, run_bot


@pytest.fixture
def bot_app(make_app, fake_telegram):
    return make_app(**bot_config(fake_telegram, BASE_URL="https://auction.example"))


def telegram_id(app, user_id: int) -> int:
    with app.app_context():
        return db.session.get(User, user_id).telegram_id


def enqueue(app, user_id: int, text, **fields) -> int | None:
    with app.app_context():
        return outbox.enqueue_telegram(user_id, "test", text, **fields)


def row(app, message_id: int) -> dict:
    with app.app_context():
        message = db.session.get(OutboxMessage, message_id)
        return {"status": message.status, "attempts": message.attempts, "sent_at": message.sent_at,
                "last_error": message.last_error, "next_attempt_at": message.next_attempt_at}


def wait_until(check, timeout: float = 5.0):
    deadline = time.monotonic() + timeout
    while not (result := check()):
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)
    return result


def sent_to(fake, chat_id: int) -> list[dict]:
    return [params for params in fake.calls("sendMessage") if params["chat_id"] == chat_id]


def test_a_row_written_while_the_bot_was_off_is_sent_once_in_the_users_language(bot_app, fake_telegram, make_user):
    user_id = make_user("Борис", language_code="ru")
    chat_id = telegram_id(bot_app, user_id)
    first = enqueue(bot_app, user_id, _l("This auction has ended."),
                    buttons=[{"text": _l("Open the auction"), "url": "https://auction.example/auctions/7"}])
    with run_bot(bot_app):
        message = fake_telegram.wait_for_call("sendMessage", lambda p: p["chat_id"] == chat_id)
        wait_until(lambda: row(bot_app, first)["sent_at"])
    assert message["text"] == "Этот аукцион завершён."
    assert message["reply_markup"]["inline_keyboard"] == [
        [{"text": "Открыть аукцион", "url": "https://auction.example/auctions/7"}]
    ]
    assert row(bot_app, first)["status"] == "sent"

    with run_bot(bot_app):  # a restart sends new rows but never the old one again
        second = enqueue(bot_app, user_id, "Second")
        fake_telegram.wait_for_call("sendMessage", lambda p: p["text"] == "Second")
    assert [p["text"] for p in sent_to(fake_telegram, chat_id)] == ["Этот аукцион завершён.", "Second"]
    assert row(bot_app, second)["status"] == "sent"


def test_a_rolled_back_cause_leaves_no_message(bot_app, fake_telegram, make_user):
    user_id = make_user("Alice")

    @atomic
    def failing_change():
        outbox.enqueue_telegram(user_id, "test", "You won!")
        raise RuntimeError("the cause failed")

    with bot_app.app_context():
        with pytest.raises(RuntimeError):
            failing_change()
        assert db.session.query(OutboxMessage).count() == 0


def test_telegram_429_is_retried_after_retry_after_without_counting_a_failure(bot_app, fake_telegram, make_user):
    user_id = make_user("Alice")
    chat_id = telegram_id(bot_app, user_id)
    fake_telegram.fail_next("sendMessage", 429, retry_after=1)
    message_id = enqueue(bot_app, user_id, "Outbid!")
    with run_bot(bot_app):
        fake_telegram.wait_for_call("sendMessage", lambda p: p["chat_id"] == chat_id)
        wait_until(lambda: row(bot_app, message_id)["sent_at"])
    tries = [call for call in fake_telegram.attempts("sendMessage") if call.params["chat_id"] == chat_id]
    assert [call.error_code for call in tries] == [429, None]
    assert tries[1].at - tries[0].at >= 1.0
    assert row(bot_app, message_id)["attempts"] == 1
    assert len(sent_to(fake_telegram, chat_id)) == 1


def test_telegram_403_marks_the_user_unreachable_and_stops(bot_app, fake_telegram, make_user):
    user_id = make_user("Alice")
    chat_id = telegram_id(bot_app, user_id)
    fake_telegram.fail_next("sendMessage", 403)
    first = enqueue(bot_app, user_id, "One")
    second = enqueue(bot_app, user_id, "Two")
    with run_bot(bot_app):
        wait_until(lambda: row(bot_app, second)["status"] == "failed")
        assert row(bot_app, first)["status"] == "failed"
        assert row(bot_app, first)["last_error"] == "Forbidden: bot was blocked by the user"
        with bot_app.app_context():
            assert db.session.get(User, user_id).bot_blocked
        assert enqueue(bot_app, user_id, "Three") is None  # nothing more is queued for them

        # Writing to the bot again makes them reachable.
        mark = fake_telegram.mark()
        fake_telegram.inject_message({"id": chat_id, "is_bot": False, "first_name": "Alice"}, "/start")
        fake_telegram.wait_for_call("sendMessage", lambda p: p["chat_id"] == chat_id, since=mark)
        with bot_app.app_context():
            assert not db.session.get(User, user_id).bot_blocked
        fourth = enqueue(bot_app, user_id, "Four")
        fake_telegram.wait_for_call("sendMessage", lambda p: p["text"] == "Four")
    assert [call.error_code for call in fake_telegram.attempts("sendMessage") if call.params["text"] in ("One", "Two")] == [403]
    assert row(bot_app, fourth)["status"] == "sent"


def test_other_errors_back_off_and_a_claimed_row_is_never_sent_twice(bot_app, fake_telegram, make_user):
    user_id = make_user("Alice")
    fake_telegram.fail_next("sendMessage", 500, description="Internal Server Error")
    failing = enqueue(bot_app, user_id, "Try later")
    in_flight = enqueue(bot_app, user_id, "In flight when the process died")
    with bot_app.app_context():
        # What a dispatcher that crashed mid-send leaves behind: claimed, never confirmed.
        assert outbox.claim_message(in_flight) is not None
    with run_bot(bot_app):
        wait_until(lambda: row(bot_app, failing)["last_error"])
        later = enqueue(bot_app, user_id, "Later")
        fake_telegram.wait_for_call("sendMessage", lambda p: p["text"] == "Later")
    state = row(bot_app, failing)
    assert state["status"] == "pending" and state["attempts"] == 1
    assert state["next_attempt_at"] - utcnow() > timedelta(seconds=5)
    assert row(bot_app, later)["status"] == "sent"
    assert [p["text"] for p in fake_telegram.calls("sendMessage")] == ["Later"]
    unknown = row(bot_app, in_flight)
    assert unknown["status"] == "sent" and unknown["sent_at"] is None


def test_one_message_a_second_per_chat_while_other_chats_go_on(bot_app, fake_telegram, make_user):
    alice, bob = make_user("Alice"), make_user("Bob")
    alice_chat, bob_chat = telegram_id(bot_app, alice), telegram_id(bot_app, bob)
    enqueue(bot_app, alice, "A1")
    enqueue(bot_app, alice, "A2")
    enqueue(bot_app, bob, "B1")
    with run_bot(bot_app):
        fake_telegram.wait_for_call("sendMessage", lambda p: p["text"] == "A2")
        fake_telegram.wait_for_call("sendMessage", lambda p: p["text"] == "B1")
    at = {call.params["text"]: call.at for call in fake_telegram.attempts("sendMessage")}
    assert [p["text"] for p in sent_to(fake_telegram, alice_chat)] == ["A1", "A2"]
    assert at["A2"] - at["A1"] >= 0.95
    assert abs(at["B1"] - at["A1"]) < 0.5
    assert len(sent_to(fake_telegram, bob_chat)) == 1


def test_dedupe_key_queues_a_message_once(app, make_user):
    user_id = make_user("Alice")
    assert enqueue(app, user_id, "Ends soon", dedupe_key="ending:1:alice") is not None
    assert enqueue(app, user_id, "Ends soon", dedupe_key="ending:1:alice") is None
    with app.app_context():
        assert db.session.query(OutboxMessage).count() == 1


def test_backoff_grows_and_is_capped():
    assert [outbox.backoff_delay(n).total_seconds() for n in (1, 2, 3, 4)] == [10, 20, 40, 80]
    assert outbox.backoff_delay(30) == timedelta(hours=1)


def test_token_bucket_keeps_the_overall_rate():
    async def take(count: int) -> float:
        bucket = TokenBucket(rate=100, capacity=5)
        started = time.monotonic()
        for _ in range(count):
            await bucket.take()
        return time.monotonic() - started

    assert asyncio.run(take(5)) < 0.05  # the burst
    assert asyncio.run(take(25)) >= 0.19  # then 100 a second


def test_a_message_whose_fate_is_unknown_is_not_sent_again(bot_app, fake_telegram, make_user):
    user_id = make_user("Alice")
    fake_telegram.drop_next("sendMessage")  # the request reaches Telegram, the answer never comes back
    lost = enqueue(bot_app, user_id, "Maybe delivered")
    with run_bot(bot_app):
        wait_until(lambda: row(bot_app, lost)["status"] == "failed")
        after = enqueue(bot_app, user_id, "After")
        fake_telegram.wait_for_call("sendMessage", lambda p: p["text"] == "After")
    assert row(bot_app, lost)["last_error"].startswith("outcome unknown")
    assert [call.params["text"] for call in fake_telegram.attempts("sendMessage")] == ["Maybe delivered", "After"]
    assert row(bot_app, after)["status"] == "sent"

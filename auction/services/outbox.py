"""The outbox: messages to people, written in the same transaction as their cause, sent later.

A service that wants to tell someone something calls `enqueue_telegram(...)` inside its
own transaction; the row commits or rolls back with the change that caused it, and
survives a restart. The bot's dispatcher (auction/bot/dispatcher.py) sends the rows
through the functions below.

Delivery is AT MOST ONCE. A row is claimed by switching it to `sent` (with `sent_at`
still empty) in its own committed transaction BEFORE the request goes to Telegram, so
no other dispatcher, and no restart, can send it again. When Telegram confirms, `sent_at`
is filled in. When the request provably never took effect (Telegram answered with an
error, or the connection was never made) the row goes back to `pending` with a later
`next_attempt_at`. When the outcome is unknown (the process died mid-request, or the
connection broke after the request was written) the row stays `sent` with no `sent_at`
or is marked `failed` — a duplicate notification would be worse than a missing one,
and the site shows the same information anyway.

Payload of a Telegram row: {"text": str, "parse_mode": "HTML" | None,
"buttons": [[{"text": str, "url": str} | {"text": str, "callback_data": str}, ...], ...],
"photo": path under static/ or None}; after delivery also "message_id".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import Flask
from sqlalchemy import select, update

from auction.extensions import db
from auction.i18n import person_language
from auction.models import OutboxMessage, User, utcnow
from auction.services.errors import NotFound
from auction.services.insert_once import insert_once
from auction.services.transaction import OUTBOX_QUEUED, atomic, commit_hooks

MAX_ATTEMPTS = 6
BACKOFF_BASE_SECONDS = 10
BACKOFF_MAX_SECONDS = 3600
ERROR_LIMIT = 500

Button = dict[str, str]

def add_outbox_waker(app: Flask, waker: Callable[[], None]) -> None:
    """Call `waker` (from the committing thread) after each of `app`'s transactions that queued
    a message, so a dispatcher sends it at once instead of at its next poll."""
    wakers = commit_hooks(app).wakers
    if waker not in wakers:
        wakers.append(waker)


def remove_outbox_waker(app: Flask, waker: Callable[[], None]) -> None:
    wakers = commit_hooks(app).wakers
    if waker in wakers:
        wakers.remove(waker)


def recipient_locale(user: User) -> str:
    """The language to talk to `user` in: their own choice, else Telegram's, else English (auction.i18n)."""
    return person_language(user)


def _button_rows(buttons: Sequence | None) -> list[list[Button]]:
    if not buttons:
        return []
    rows = [[button] if isinstance(button, dict) else list(button) for button in buttons]
    return [[{key: str(value) for key, value in button.items()} for button in row] for row in rows]


def send_later(row_id: int | None, delay: timedelta) -> None:
    """Hold a message queued in this transaction back by `delay` (it goes out after the ones around it)."""
    if row_id is not None:
        db.session.get(OutboxMessage, row_id).next_attempt_at = utcnow() + delay


@atomic
def enqueue_telegram(
    user_id: int,
    kind: str,
    text: str,
    buttons: Sequence | None = None,
    dedupe_key: str | None = None,
    photo: str | None = None,
    parse_mode: str | None = None,
    not_before: datetime | None = None,
) -> int | None:
    """Queue a Telegram message to `user_id` in the current transaction; returns the row id.

    `text` and button labels may be lazy strings (`lazy_gettext`): they are rendered here
    in the recipient's language. `buttons` is a list of rows of {"text", "url"} or
    {"text", "callback_data"} (a flat list puts one button per row). Nothing is queued
    (None is returned) for a user the bot cannot reach, or when a row with the same
    `dedupe_key` exists already (a concurrent twin included: the database skips it, ON
    CONFLICT DO NOTHING). `not_before` holds the row until then (quiet hours, digests).
    Raises NotFound for no such user.
    """
    with db.session.no_autoflush:
        user = db.session.get(User, user_id)
    if user is None:
        raise NotFound()
    if not reachable(user):
        return None
    values = telegram_row(user, kind, telegram_payload(user, text, buttons, photo, parse_mode), dedupe_key, not_before)
    row_id = db.session.scalar(insert_once(OutboxMessage, "dedupe_key").values(**values).returning(OutboxMessage.id))
    if row_id is not None:
        db.session.info[OUTBOX_QUEUED] = True
    return row_id


def reachable(user: User) -> bool:
    """Whether the bot can write to `user` (they have a Telegram chat and did not block the bot)."""
    return user.telegram_id is not None and not user.bot_blocked


def telegram_payload(user: User, text, buttons: Sequence | None = None, photo: str | None = None, parse_mode: str | None = None) -> dict:
    """A Telegram row's payload, its lazy text and button labels rendered in `user`'s language."""
    from flask_babel import force_locale

    with force_locale(recipient_locale(user)):
        return {"text": str(text), "parse_mode": parse_mode, "buttons": _button_rows(buttons), "photo": photo}


def telegram_row(user: User, kind: str, payload: dict, dedupe_key: str | None, not_before: datetime | None) -> dict:
    """The column values of a pending Telegram row to `user` (held until `not_before`, UTC, if later than now)."""
    return message_row("telegram", user.id, user.telegram_id, kind, payload, dedupe_key, not_before)


def message_row(channel: str, user_id: int, chat_id: int | None, kind: str, payload: dict, dedupe_key: str | None, not_before: datetime | None) -> dict:
    """The column values of a pending outbox row on `channel` ("telegram" or "email")."""
    now = utcnow()
    return {
        "channel": channel, "user_id": user_id, "chat_id": chat_id, "kind": kind, "payload": payload, "dedupe_key": dedupe_key,
        "status": "pending", "attempts": 0, "next_attempt_at": max(not_before or now, now), "created_at": now,
    }


def write_rows(rows: list[dict]) -> set[str | None]:
    """Insert outbox rows (from `message_row`) in one statement; a row whose `dedupe_key` is
    taken is skipped by the database (ON CONFLICT DO NOTHING). Returns the keys written."""
    if not rows:
        return set()
    written = set(db.session.scalars(insert_once(OutboxMessage, "dedupe_key").returning(OutboxMessage.dedupe_key), rows))
    if written:
        db.session.info[OUTBOX_QUEUED] = True
    return written


def merge_pending(dedupe_key: str, payload: dict) -> bool:
    """Replace the payload of the still pending row `dedupe_key` (a digest growing); False when
    there is no such row or it has gone out already."""
    result = db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.dedupe_key == dedupe_key, OutboxMessage.status == "pending")
        .values(payload=payload)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)


def enqueue_to_chat(chat_id: int, kind: str, text: str, dedupe_key: str | None = None) -> int:
    """Queue a plain message to a group chat (not a person), e.g. the support chat; returns the row id."""
    row = OutboxMessage(channel="telegram", user_id=None, chat_id=chat_id, kind=kind, dedupe_key=dedupe_key, status="pending",
                        payload={"text": text, "parse_mode": None, "buttons": [], "photo": None}, attempts=0, next_attempt_at=utcnow())
    db.session.add(row)
    db.session.flush()
    db.session.info[OUTBOX_QUEUED] = True
    return row.id


# -- the dispatcher's side -------------------------------------------------------------------


@dataclass(frozen=True)
class DueMessage:
    id: int
    chat_id: int


@dataclass(frozen=True)
class ClaimedMessage:
    id: int
    chat_id: int
    user_id: int | None
    kind: str
    payload: dict
    attempts: int


def backoff_delay(attempts: int) -> timedelta:
    """How long to wait before the next try after `attempts` failed ones: 10 s, 20 s, 40 s ... 1 h."""
    return timedelta(seconds=min(BACKOFF_BASE_SECONDS * 2 ** max(attempts - 1, 0), BACKOFF_MAX_SECONDS))


def due_messages(limit: int = 100, now: datetime | None = None) -> list[DueMessage]:
    """Pending Telegram rows whose time has come, oldest first."""
    query = (
        select(OutboxMessage.id, OutboxMessage.chat_id)
        .where(
            OutboxMessage.channel == "telegram",
            OutboxMessage.status == "pending",
            OutboxMessage.next_attempt_at <= (now or utcnow()),
        )
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
    )
    return [DueMessage(id=row.id, chat_id=row.chat_id) for row in db.session.execute(query)]


@atomic
def claim_message(message_id: int, channel: str = "telegram") -> ClaimedMessage | None:
    """Take a pending row for sending (it becomes `sent`, not yet confirmed); None if someone else did."""
    row = db.session.get(OutboxMessage, message_id, with_for_update=True)
    if row is None or row.status != "pending" or row.channel != channel or (channel == "telegram" and row.chat_id is None):
        return None
    row.status = "sent"
    row.attempts += 1
    row.sent_at = None
    return ClaimedMessage(row.id, row.chat_id, row.user_id, row.kind, dict(row.payload or {}), row.attempts)


@atomic
def mark_delivered(message_id: int, telegram_message_id: int | None = None) -> None:
    """Telegram confirmed the message."""
    row = db.session.get(OutboxMessage, message_id)
    if row is None:
        return
    row.status = "sent"
    row.sent_at = utcnow()
    row.last_error = None
    if telegram_message_id is not None:
        row.payload = {**(row.payload or {}), "message_id": telegram_message_id}


@atomic
def postpone(message_id: int, retry_after_seconds: float, error: str) -> None:
    """Telegram asked us to slow down (429): try again later; this try does not count as a failure."""
    row = db.session.get(OutboxMessage, message_id)
    if row is None:
        return
    row.status = "pending"
    row.attempts = max(row.attempts - 1, 0)
    row.next_attempt_at = utcnow() + timedelta(seconds=retry_after_seconds)
    row.last_error = error[:ERROR_LIMIT]


@atomic
def record_failure(message_id: int, error: str) -> str:
    """A try that provably did not send: back off, or give up after MAX_ATTEMPTS; returns the new status."""
    row = db.session.get(OutboxMessage, message_id)
    if row is None:
        return "failed"
    row.last_error = error[:ERROR_LIMIT]
    if row.attempts >= MAX_ATTEMPTS:
        row.status = "failed"
    else:
        row.status = "pending"
        row.next_attempt_at = utcnow() + backoff_delay(row.attempts)
    return row.status


@atomic
def fail_message(message_id: int, error: str) -> None:
    """Give up on a row for good (Telegram refused it, or its outcome is unknown)."""
    row = db.session.get(OutboxMessage, message_id)
    if row is not None:
        row.status = "failed"
        row.last_error = error[:ERROR_LIMIT]


@atomic
def mark_unreachable(message_id: int, error: str) -> None:
    """Telegram says the user blocked the bot (403): stop writing to them until they come back."""
    row = db.session.get(OutboxMessage, message_id)
    if row is None:
        return
    row.status = "failed"
    row.last_error = error[:ERROR_LIMIT]
    if row.user_id is not None:
        user = db.session.get(User, row.user_id)
        if user is not None:
            user.bot_blocked = True
        db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.user_id == row.user_id, OutboxMessage.channel == "telegram", OutboxMessage.status == "pending")
            .values(status="failed", last_error="the user blocked the bot")
        )

"""Unit of work: one service call is one transaction, with events released after commit."""

from __future__ import annotations

import collections
import contextlib
import functools
import logging
import threading
import time
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import ParamSpec, TypeVar

from flask import Flask, current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session

from auction.database import write_intent
from auction.extensions import db

P = ParamSpec("P")
R = TypeVar("R")
log = logging.getLogger(__name__)

_depth: ContextVar[int] = ContextVar("atomic_depth", default=0)
RETRYABLE_PG_CODES = {"40001", "40P01"}  # serialization failure, deadlock
MAX_ATTEMPTS = 5

# Every key this package keeps in `Session.info` (state of the current transaction), named once.
PENDING_EVENTS = "pending_events"  # [(channel, name, data)] to publish after commit
OUTBOX_QUEUED = "outbox_queued"  # a message was queued: wake the dispatchers after commit
LOCKED_ACCOUNTS = "ledger_locked_accounts"  # (kind, user_id) -> LedgerAccount locked by this transaction
LOCKED_HOLDS = "ledger_locked_holds"  # (user_id, auction_id) -> the active Hold (or None) known to this transaction

EventSink = Callable[[list[tuple[str, str, dict]]], None]
HOOKS = "commit_hooks"  # the app.extensions key of an app's CommitHooks


@dataclass
class CommitHooks:
    """What one app runs after a real commit: its event sinks get the committed events (the
    live broker's is one), its outbox wakers are told a message was queued.

    Registered explicitly — create_app's `register_live` step, a runtime when it starts — and
    never at import, so two apps in one process each have their own and never share one.
    """

    sinks: list[EventSink] = field(default_factory=list)
    wakers: list[Callable[[], None]] = field(default_factory=list)


def init_app(app: Flask) -> CommitHooks:
    """Give `app` its commit hooks and listen to the session's commits and rollbacks (once per process)."""
    for name, listener in (("after_commit", _after_commit), ("after_rollback", _after_rollback), ("after_transaction_end", _forget_locks)):
        if not event.contains(Session, name, listener):
            event.listen(Session, name, listener)
    return app.extensions.setdefault(HOOKS, CommitHooks())


def commit_hooks(app: Flask) -> CommitHooks:
    """`app`'s commit hooks (KeyError for an app that create_app did not build)."""
    return app.extensions[HOOKS]


def add_event_sink(app: Flask, sink: EventSink) -> None:
    """Hand `app`'s committed events to `sink` too (once, however often it is added)."""
    sinks = commit_hooks(app).sinks
    if sink not in sinks:
        sinks.append(sink)


def remove_event_sink(app: Flask, sink: EventSink) -> None:
    sinks = commit_hooks(app).sinks
    if sink in sinks:
        sinks.remove(sink)


def emit(channel: str, name: str, data: dict) -> None:
    """Queue an event for `channel`; it is published only if the transaction commits."""
    db.session.info.setdefault(PENDING_EVENTS, []).append((channel, name, data))


def emit_latest(channel: str, name: str, data: dict) -> None:
    """Queue a state event that replaces any earlier one of the same name on `channel` in this transaction."""
    pending = db.session.info.setdefault(PENDING_EVENTS, [])
    pending[:] = [e for e in pending if (e[0], e[1]) != (channel, name)]
    pending.append((channel, name, data))


def _after_commit(session: Session) -> None:
    # SQLAlchemy also calls after_commit when a SAVEPOINT is released (begin_nested); the
    # transaction has not committed yet, so a page rendered now would show the old state.
    if session.in_nested_transaction():
        return
    events = session.info.pop(PENDING_EVENTS, None)
    queued = session.info.pop(OUTBOX_QUEUED, False)
    hooks = current_app.extensions.get(HOOKS) if has_app_context() else None
    if hooks is None:
        return
    for sink in list(hooks.sinks) if events else ():
        try:
            sink(events)
        except Exception:  # a broken screen must never undo a committed bid
            log.exception("event sink failed")
    for waker in list(hooks.wakers) if queued else ():
        waker()


def _after_rollback(session: Session) -> None:
    if session.in_nested_transaction():
        return  # only a SAVEPOINT rolled back: the transaction and its events go on
    session.info.pop(PENDING_EVENTS, None)
    session.info.pop(OUTBOX_QUEUED, None)


def _forget_locks(session: Session, transaction) -> None:
    # Only the outermost transaction's end (commit, rollback or close) releases row locks.
    if transaction.parent is None:
        session.info.pop(LOCKED_ACCOUNTS, None)
        session.info.pop(LOCKED_HOLDS, None)


def _retryable(exc: Exception) -> bool:
    if isinstance(exc, OperationalError) and "database is locked" in str(exc):
        return True
    orig = getattr(exc, "orig", None)
    return isinstance(exc, DBAPIError) and getattr(orig, "sqlstate", None) in RETRYABLE_PG_CODES


class _WriterQueue:
    """A lock that hands the database to waiting writers in arrival order.

    `threading.Lock` makes no promise of order: the thread that just released it often
    takes it again before a woken waiter runs, so under contention a few writers wait
    for seconds. Here a releasing writer passes the turn directly to the oldest waiter.
    """

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._waiters: collections.deque[threading.Lock] = collections.deque()
        self._busy = False

    def __enter__(self) -> None:
        with self._guard:
            if not self._busy:
                self._busy = True
                return
            turn = threading.Lock()
            turn.acquire()
            self._waiters.append(turn)
        turn.acquire()  # released by the writer before us, who hands us the turn

    def __exit__(self, *exc_info) -> None:
        with self._guard:
            if self._waiters:
                self._waiters.popleft().release()
            else:
                self._busy = False


_sqlite_writers: dict[str, _WriterQueue] = {}
_sqlite_writers_guard = threading.Lock()


def _sqlite_writer_turn() -> contextlib.AbstractContextManager:
    """Queue this process's SQLite writers, in arrival order, before BEGIN IMMEDIATE.

    SQLite's own busy handler makes a waiting writer sleep and poll (up to 100 ms a
    turn), so under contention some wait seconds while others get in; the queue hands
    the database over in order at once. Other processes still meet the busy timeout.
    """
    engine = db.engine
    if engine.dialect.name != "sqlite":
        return contextlib.nullcontext()
    key = str(engine.url)
    with _sqlite_writers_guard:
        return _sqlite_writers.setdefault(key, _WriterQueue())


def _start_fresh(session) -> None:
    """Begin the write without anything a view read earlier in the request standing in its way.

    SQLite must end the view's read transaction so the write begins with BEGIN IMMEDIATE
    instead of upgrading a stale snapshot. PostgreSQL (READ COMMITTED) lets every statement
    see the latest commits, so a healthy read transaction simply carries on as the write
    one (no ROLLBACK and BEGIN round trips); only the session's copies are forgotten.
    """
    if db.engine.dialect.name == "sqlite" or not (session().in_transaction() and session.is_active):
        session.rollback()
    else:
        session.expire_all()


def atomic(fn: Callable[P, R]) -> Callable[P, R]:
    """Run `fn` as one write transaction: commit on return, roll back on error.

    Calls nested inside another atomic function join the outer transaction. The
    outermost call retries on PostgreSQL serialization failures and deadlocks.
    """

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        if _depth.get():
            return fn(*args, **kwargs)
        session = db.session
        for attempt in range(1, MAX_ATTEMPTS + 1):
            _start_fresh(session)
            depth_token = _depth.set(1)
            intent_token = write_intent.set(True)
            try:
                with _sqlite_writer_turn():
                    try:
                        result = fn(*args, **kwargs)
                        session.commit()
                    except Exception:
                        session.rollback()  # before the next writer's turn
                        raise
                return result
            except Exception as exc:
                session.rollback()
                if attempt < MAX_ATTEMPTS and _retryable(exc):
                    log.info("retrying %s after %s (attempt %d)", fn.__name__, type(exc).__name__, attempt)
                    time.sleep(0.01 * attempt)
                    continue
                raise
            finally:
                write_intent.reset(intent_token)
                _depth.reset(depth_token)
        raise AssertionError("unreachable")

    return wrapper

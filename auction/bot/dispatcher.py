"""The outbox dispatcher: sends due outbox rows through the bot, within Telegram's limits.

Runs as an asyncio task next to the bot (see BotRuntime). Every row is claimed in its own
transaction before it is sent, so it goes out at most once (auction/services/outbox.py
explains the choice). Limits: at most one message per chat in flight and about one per
second per chat; overall a token bucket keeps any one-second window under 30 messages.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import warnings
from datetime import timedelta

import httpx
from flask import Flask
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from auction.bot.calls import call_service
from auction.bot.sender import Sender
from auction.services import outbox

log = logging.getLogger("auction.bot.outbox")

# httpx failures that happen before Telegram could have acted on the request.
NOT_DELIVERED = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.WriteError, httpx.WriteTimeout,
                 httpx.UnsupportedProtocol)


class TokenBucket:
    """`rate` tokens a second, at most `capacity` saved up; any one-second window sees ≤ rate + capacity."""

    def __init__(self, rate: float, capacity: float) -> None:
        self.rate = rate
        self.capacity = capacity
        self.tokens = capacity
        self.updated = time.monotonic()

    async def take(self) -> None:
        while True:
            now = time.monotonic()
            self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
            self.updated = now
            if self.tokens >= 1:
                self.tokens -= 1
                return
            await asyncio.sleep((1 - self.tokens) / self.rate)


def never_reached_telegram(error: NetworkError) -> bool:
    """True when Telegram surely did not act on the request: it answered an error, or no request got through."""
    cause = error.__cause__
    return cause is None or isinstance(cause, NOT_DELIVERED)


def retry_after_seconds(error: RetryAfter) -> float:
    with warnings.catch_warnings():  # PTB 22 warns that the int form of retry_after will become a timedelta
        warnings.simplefilter("ignore")
        value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class OutboxDispatcher:
    def __init__(
        self,
        app: Flask,
        sender: Sender,
        poll_seconds: float = 2.0,
        chat_interval: float = 1.0,
        rate: float = 25.0,
        burst: float = 5.0,
        concurrency: int = 4,
    ) -> None:
        self.app = app
        self.sender = sender
        self.poll_seconds = poll_seconds
        self.chat_interval = chat_interval
        self.bucket = TokenBucket(rate, burst)
        self.slots = asyncio.Semaphore(concurrency)
        self._wake = asyncio.Event()
        self._stopping = False
        self._busy_chats: set[int] = set()
        self._chat_ready_at: dict[int, float] = {}
        self._deliveries: set[asyncio.Task] = set()

    async def run(self) -> None:
        """Send what is due, then sleep until woken by a commit, a chat becoming ready, or the poll interval."""
        loop = asyncio.get_running_loop()

        def wake() -> None:  # called from whichever thread committed the row
            loop.call_soon_threadsafe(self._wake.set)

        outbox.add_outbox_waker(self.app, wake)
        try:
            while not self._stopping:
                self._wake.clear()
                try:
                    sleep = await self._dispatch_due()
                except Exception:
                    log.exception("outbox: dispatch round failed")
                    sleep = self.poll_seconds
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=sleep)
        finally:
            outbox.remove_outbox_waker(self.app, wake)
            if self._deliveries:
                await asyncio.wait(self._deliveries, timeout=10)

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()

    async def _dispatch_due(self) -> float:
        due = await call_service(self.app, outbox.due_messages, 200)
        sleep = self.poll_seconds
        seen: set[int] = set()
        for row in due:
            if self._stopping:
                break
            if row.chat_id in seen:
                continue  # one per chat per round keeps each chat's messages in order
            seen.add(row.chat_id)
            if row.chat_id in self._busy_chats:
                continue
            wait = self._chat_ready_at.get(row.chat_id, 0.0) - time.monotonic()
            if wait > 0:
                sleep = min(sleep, wait)
                continue
            await self.bucket.take()
            await self.slots.acquire()
            self._busy_chats.add(row.chat_id)
            self._chat_ready_at[row.chat_id] = time.monotonic() + self.chat_interval
            task = asyncio.create_task(self._deliver(row.id, row.chat_id))
            self._deliveries.add(task)
            task.add_done_callback(self._deliveries.discard)
        if len(due) > len(seen):
            sleep = min(sleep, self.chat_interval)
        self._forget_idle_chats()
        return max(sleep, 0.01)

    async def _deliver(self, message_id: int, chat_id: int) -> None:
        try:
            claimed = await call_service(self.app, outbox.claim_message, message_id)
            if claimed is not None:
                await self._send(claimed)
        except Exception:
            log.exception("outbox: delivering message %s failed", message_id)
        finally:
            self._busy_chats.discard(chat_id)
            self.slots.release()
            self._wake.set()

    async def _send(self, claimed: outbox.ClaimedMessage) -> None:
        # The chat's second counts from the moment its message really goes out: claiming the
        # row first (a write, behind whatever else is writing) may take a while.
        self._chat_ready_at[claimed.chat_id] = time.monotonic() + self.chat_interval
        try:
            message = await self.sender.send(claimed.chat_id, claimed.payload)
        except RetryAfter as error:
            seconds = retry_after_seconds(error)
            self._chat_ready_at[claimed.chat_id] = time.monotonic() + seconds
            log.info("outbox: Telegram asks to wait %.0f s before message %s", seconds, claimed.id)
            await call_service(self.app, outbox.postpone, claimed.id, seconds, str(error))
        except Forbidden as error:
            log.info("outbox: chat %s blocked the bot (message %s)", claimed.chat_id, claimed.id)
            await call_service(self.app, outbox.mark_unreachable, claimed.id, str(error))
        except BadRequest as error:  # Telegram refused this message; sending it again changes nothing
            log.warning("outbox: Telegram refused message %s: %s", claimed.id, error)
            await call_service(self.app, outbox.fail_message, claimed.id, str(error))
        except NetworkError as error:
            if never_reached_telegram(error):
                status = await call_service(self.app, outbox.record_failure, claimed.id, str(error))
                log.warning("outbox: message %s not sent (%s); now %s", claimed.id, error, status)
            else:
                log.warning("outbox: message %s may or may not have arrived (%s); not retried", claimed.id, error)
                await call_service(self.app, outbox.fail_message, claimed.id, f"outcome unknown: {error}")
        except TelegramError as error:  # e.g. the token was revoked: nothing was sent, try later
            status = await call_service(self.app, outbox.record_failure, claimed.id, str(error))
            log.warning("outbox: message %s not sent (%s); now %s", claimed.id, error, status)
        except Exception as error:  # e.g. a broken payload: the request may never have been made
            log.exception("outbox: message %s could not be sent", claimed.id)
            await call_service(self.app, outbox.fail_message, claimed.id, f"{type(error).__name__}: {error}")
        else:
            await call_service(self.app, outbox.mark_delivered, claimed.id, message.message_id)

    def _forget_idle_chats(self) -> None:
        if len(self._chat_ready_at) > 10_000:
            now = time.monotonic()
            self._chat_ready_at = {chat: at for chat, at in self._chat_ready_at.items() if at > now}

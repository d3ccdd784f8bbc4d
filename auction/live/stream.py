"""GET /events: the live stream, a native asyncio Server-Sent Events handler beside Flask.

One connection per page multiplexes the public channels it asks for (`?channels=auction:1,
listings`) and, for a signed-in visitor, their own `user:<id>` channel, recognised from
Flask's own session cookie. Each `id:` line holds the position in every channel, so a
reconnect with `Last-Event-ID` resumes all of them. Fragments are rendered once per event
and locale and shared by every connection.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections import OrderedDict
from urllib.parse import parse_qs

from a2wsgi.wsgi import build_environ
from flask import Flask
from flask_babel import force_locale, get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header

from auction.extensions import db
from auction.i18n import choose_language
from auction.live.broker import CHANNEL, Broker, Event, Subscription, decode_position
from auction.live.renderers import render_event, renderers_of
from auction.services import auction_view

log = logging.getLogger("auction.live")

HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-cache"),
    (b"x-accel-buffering", b"no"),
    (b"x-content-type-options", b"nosniff"),
]
RENDER_CACHE_SIZE = 4096
ANY_CHANNEL = "*"


def identify_visitor(app: Flask, scope: dict) -> tuple[int | None, str]:
    """The signed-in user's id (or None) and the page language, exactly as Flask would see them.

    The request runs through Flask's session interface and flask-login's user loader, so the
    cookie's signature and its session version are checked the same way as for every page.
    """
    environ = build_environ(scope, io.BytesIO())
    with app.request_context(environ):
        user_id = current_user.id if current_user.is_authenticated else None
        return user_id, str(get_locale())


class LiveStream:
    """The ASGI handler for /events; one per process, bound to the app and its broker."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.max_channels = app.config["LIVE_MAX_CHANNELS"]
        self.max_per_client = app.config["LIVE_MAX_CONNECTIONS_PER_CLIENT"]
        self.heartbeat = app.config["LIVE_HEARTBEAT_SECONDS"]
        self.retry_ms = app.config["LIVE_RETRY_MS"]
        self.closing = False
        self._per_client: dict[str, int] = {}
        self._open: set[Subscription] = set()
        self._rendered: OrderedDict[tuple[str, int, str], asyncio.Future] = OrderedDict()
        self._ticker: asyncio.Task | None = None
        self._dispatching: dict[str, asyncio.Task] = {}

    @property
    def broker(self) -> Broker:
        return self.app.extensions["broker"]

    def start(self) -> None:
        """Begin serving (on the loop, after the broker started): heartbeats and rendering before fan-out."""
        self.closing = False
        self.broker.dispatcher = self._dispatch
        self._ticker = asyncio.get_running_loop().create_task(self._heartbeats(), name="live-heartbeats")

    def close_all(self) -> None:
        """End every stream now (shutdown); new ones are refused from here on."""
        self.closing = True
        if self._ticker is not None:
            self._ticker.cancel()
            self._ticker = None
        if self.broker.dispatcher == self._dispatch:
            self.broker.dispatcher = None
        for subscription in list(self._open):
            subscription.close()

    async def _heartbeats(self) -> None:
        """Every stream quiet for `heartbeat` seconds gets a comment; checked each second, so they spread out."""
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(min(1.0, self.heartbeat / 2))
            due = loop.time() - self.heartbeat
            for subscription in list(self._open):
                if subscription.last_write <= due:
                    subscription.beat()

    async def __call__(self, scope, receive, send) -> None:
        if scope["method"] != "GET":
            await self._refuse(scope, send, 405, _l("The live stream only answers GET."))
            return
        if self.closing or self._ticker is None:
            await self._refuse(scope, send, 503, _l("The server is restarting; the page reconnects by itself."))
            return
        query = parse_qs(scope["query_string"].decode("latin-1"))
        asked = list(dict.fromkeys(c.strip() for v in query.get("channels", []) for c in v.split(",") if c.strip()))
        if len(asked) > self.max_channels:
            await self._refuse(scope, send, 400, _l("Too many channels: at most %(num)s per connection.", num=self.max_channels))
            return
        unknown = [channel for channel in asked if not CHANNEL.match(channel)]
        if unknown:
            await self._refuse(scope, send, 400, _l("Unknown channel: %(name)s.", name=unknown[0][:60]))
            return
        client = (scope.get("client") or ("unknown", 0))[0]
        if self.max_per_client and self._per_client.get(client, 0) >= self.max_per_client:
            await self._refuse(scope, send, 429, _l("Too many live connections from one address (at most %(num)s).", num=self.max_per_client))
            return
        self._per_client[client] = self._per_client.get(client, 0) + 1
        try:
            await self._serve(scope, receive, send, asked, query)
        finally:
            left = self._per_client[client] - 1
            if left:
                self._per_client[client] = left
            else:
                del self._per_client[client]

    def _hidden_from(self, user_id: int | None, auction_ids: list[int]) -> list[int]:
        with self.app.app_context():
            try:
                return auction_view.hidden_from(user_id, auction_ids, self.app.config["ADMIN_TELEGRAM_IDS"])
            finally:
                db.session.remove()

    async def _serve(self, scope, receive, send, asked: list[str], query: dict) -> None:
        if any(name == b"cookie" for name, _ in scope["headers"]):
            user_id, locale = await asyncio.to_thread(identify_visitor, self.app, scope)
        else:
            # No cookie, no session: nothing to look up, only Accept-Language to read.
            user_id, locale = identify_visitor(self.app, scope)
        own = f"user:{user_id}" if user_id is not None else None
        if any(channel.startswith("user:") and channel != own for channel in asked):
            await self._refuse(scope, send, 403, _l("A live stream can only follow the signed-in user's own channel."))
            return
        auction_ids = [int(c.split(":")[1]) for c in asked if c.startswith("auction:") and len(c) <= len("auction:") + 9]
        if auction_ids and await asyncio.to_thread(self._hidden_from, user_id, auction_ids):
            # Hidden by moderation: as on its page, only its seller, its bidders and admins follow it.
            await self._refuse(scope, send, 404, _l("This auction was not found. It may have been removed."))
            return
        channels = list(dict.fromkeys([*asked, own] if own else asked))
        if not channels:
            await self._refuse(scope, send, 400, _l("Name at least one channel: /events?channels=auction:<id>,listings."))
            return

        broker = self.broker
        subscription = broker.subscribe(channels, locale)
        self._open.add(subscription)
        watcher = asyncio.create_task(self._watch_disconnect(receive, subscription))
        try:
            heads = await broker.last_ids(channels)
            headers = dict(scope["headers"])
            resume = decode_position(headers.get(b"last-event-id", b"").decode("latin-1"))
            if resume is None:
                resume = decode_position(query.get("since", [""])[0])
            positions, stale = self._start_positions(channels, heads, resume)
            missed: dict[str, list[Event]] = {}
            for channel in channels:
                if channel not in stale and positions[channel] < heads[channel]:
                    kept = await broker.since(channel, positions[channel])
                    if not kept or kept[0].id > positions[channel] + 1:
                        stale.append(channel)  # more was missed than the replay buffer keeps
                    else:
                        missed[channel] = kept
            for channel in stale:
                positions[channel] = heads[channel]
            await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
            hello = f": connected\nretry: {self.retry_ms}\n"
            # A page that missed what no buffer kept is told to fetch fresh state of those channels.
            hello += "".join(f"event: reset\ndata: {channel}\n\n" for channel in stale)
            hello += f"id: {broker.position(positions)}\n\n"
            await send({"type": "http.response.body", "body": hello.encode(), "more_body": True})
            for kept in missed.values():
                await self._write(send, kept, positions, locale)
            loop = asyncio.get_running_loop()
            subscription.last_write = loop.time()
            while True:
                if subscription.pending:
                    batch = list(subscription.pending)
                    subscription.pending.clear()
                    await self._write(send, batch, positions, locale)
                    subscription.last_write = loop.time()
                    continue
                if subscription.closed:
                    break
                if subscription.heartbeat_due:
                    subscription.heartbeat_due = False
                    await send({"type": "http.response.body", "body": b": heartbeat\n\n", "more_body": True})
                    subscription.last_write = loop.time()
                await subscription.wait()
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            watcher.cancel()
            self._open.discard(subscription)
            broker.unsubscribe(subscription)

    def _start_positions(self, channels, heads, resume) -> tuple[dict[str, int], list[str]]:
        """Where each channel starts (after the client's last event, or now for a fresh page), and
        the channels whose position no longer means anything here (another server run's, or ahead
        of this one's): those start now, with a reset."""
        positions: dict[str, int] = {}
        stale: list[str] = []
        for channel in channels:
            head = heads.get(channel, 0)
            positions[channel] = head
            if resume is None:
                continue
            epoch, ids = resume
            seen = ids.get(channel)
            if epoch != self.broker.epoch or (seen is not None and seen > head):
                stale.append(channel)
            elif seen is not None:
                positions[channel] = seen
        return positions, stale

    def _dispatch(self, event: Event, subscriptions: list[Subscription]) -> None:
        """Render an event once per language its readers use, then wake them (on the loop).

        Readers woken before the fragments exist would each wait for the render and wake twice;
        with thousands of readers that doubles the cost of every event.
        """
        renders = [self._render_once(event, locale) for locale in {s.locale for s in subscriptions}]
        # Events reach readers in the order they were published, across channels too: a person's
        # own state (their channel) is emitted after the auction's shared one and must land last.
        previous = self._dispatching.get(ANY_CHANNEL)
        if previous is None and all(future.done() for future in renders):
            for subscription in subscriptions:
                subscription.push(event)
            return
        task = asyncio.ensure_future(self._dispatch_later(event, subscriptions, renders, previous))
        self._dispatching[ANY_CHANNEL] = task
        task.add_done_callback(self._dispatched)

    def _dispatched(self, task: asyncio.Task) -> None:
        for channel, latest in list(self._dispatching.items()):
            if latest is task:
                del self._dispatching[channel]

    async def _dispatch_later(self, event, subscriptions, renders, previous) -> None:
        await asyncio.wait(renders)
        if previous is not None:
            await asyncio.wait([previous])  # events reach their readers in publishing order
        for subscription in subscriptions:
            subscription.push(event)

    def _render_once(self, event: Event, locale: str) -> asyncio.Future:
        key = (event.channel, event.id, locale)
        future = self._rendered.get(key)
        if future is None:
            if event.name in renderers_of(self.app):
                future = asyncio.ensure_future(self._render(event, locale))
            else:
                future = asyncio.get_running_loop().create_future()
                future.set_result(sse_message(event.name, json.dumps(event.data, separators=(",", ":"), ensure_ascii=False)))
            self._rendered[key] = future
            if len(self._rendered) > RENDER_CACHE_SIZE:
                self._rendered.popitem(last=False)
        return future

    async def _write(self, send, events: list[Event], positions: dict[str, int], locale: str) -> None:
        chunks: list[bytes] = []
        for event in events:
            last = positions.get(event.channel, 0)
            if event.id <= last:
                continue  # already replayed or sent
            if event.id > last + 1:
                # A gap (the Redis subscription dropped for a moment): fill it from the buffer.
                missed = [e for e in await self.broker.since(event.channel, last) if e.id < event.id]
                for earlier in missed:
                    chunks.append(await self._message(earlier, locale))
                    positions[earlier.channel] = earlier.id
                    chunks.append(f"id: {self.broker.position(positions)}\n\n".encode())
            ready = self._render_once(event, locale)  # rendered before the wake-up, as a rule
            chunks.append(ready.result() if ready.done() else await self._message(event, locale))
            positions[event.channel] = event.id
            chunks.append(f"id: {self.broker.position(positions)}\n\n".encode())
        if chunks:
            await send({"type": "http.response.body", "body": b"".join(chunks), "more_body": True})

    async def _message(self, event: Event, locale: str) -> bytes:
        """The event's `event:`/`data:` lines, made once per event and language for all connections."""
        future = self._render_once(event, locale)
        return future.result() if future.done() else await asyncio.shield(future)

    async def _render(self, event: Event, locale: str) -> bytes:
        try:
            fragments = await asyncio.to_thread(render_event, self.app, event.name, event.data, locale)
        except Exception:
            log.exception("rendering %s #%d on %s failed", event.name, event.id, event.channel)
            return b": render failed\n"
        return b"\n".join(sse_message(name, html) for name, html in fragments or ()) or b": nothing to show\n"

    @staticmethod
    async def _watch_disconnect(receive, subscription: Subscription) -> None:
        while (await receive())["type"] != "http.disconnect":
            pass
        subscription.close()

    async def _refuse(self, scope, send, status: int, message) -> None:
        """A plain-text refusal, in the language the browser asks for (`message` is a lazy string)."""
        accepted = dict(scope.get("headers") or []).get(b"accept-language", b"").decode("latin-1")
        browser = [value for value, _ in parse_accept_header(accepted, LanguageAccept)]
        with self.app.app_context(), force_locale(choose_language(browser=browser)):
            text = str(message)
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"text/plain; charset=utf-8"),
                    (b"cache-control", b"no-store"),
                    (b"x-content-type-options", b"nosniff"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": text.encode() + b"\n"})


def sse_message(name: str, text: str) -> bytes:
    """`event:` and `data:` lines (without the blank line that ends the message)."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return (f"event: {name}\n" + "".join(f"data: {line}\n" for line in lines)).encode()

"""Event broker: ids per channel, a bounded replay buffer, and fan-out to this process's live streams.

Two backends share one interface. `MemoryBroker` keeps everything in this process (the
embedded default). `RedisBroker` numbers events and keeps the replay buffer in Redis, so
several processes see the same ids; one pattern subscription per process fans out to the
local streams (CTFd's design, on asyncio).

`publish` is synchronous and safe from any thread: services commit in the web pool's worker
threads, the bot's and the scheduler's worker threads. Delivery to streams happens on the
event loop the broker was started on.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import logging
import re
import secrets
import threading
from abc import ABC, abstractmethod
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from auction import numbers

log = logging.getLogger("auction.live")

CHANNEL = re.compile(r"^(listings|auction:[1-9][0-9]{0,17}|user:[1-9][0-9]{0,17})$")


def encode_position(epoch: str, ids: dict[str, int]) -> str:
    """One stream id for several channels: `<epoch>~auction:1=17,listings=230`."""
    return epoch + "~" + ",".join(f"{channel}={event_id}" for channel, event_id in ids.items())


def decode_position(text: str) -> tuple[str, dict[str, int]] | None:
    """The epoch and per-channel ids of a stream id; None when it is not one of ours."""
    epoch, sep, rest = (text or "").strip().partition("~")
    if not sep or not epoch:
        return None
    ids: dict[str, int] = {}
    for part in filter(None, rest.split(",")):
        channel, _, value = part.partition("=")
        event_id = numbers.read_whole(value)
        if CHANNEL.match(channel) and event_id is not None:
            ids[channel] = event_id
    return epoch, ids


@dataclass(frozen=True, slots=True)
class Event:
    channel: str
    id: int
    name: str
    data: dict


class Subscription:
    """What one live stream receives: events of its channels, in order per channel."""

    __slots__ = ("channels", "locale", "pending", "closed", "overflowed", "heartbeat_due", "last_write", "_limit", "_waiter")

    def __init__(self, channels: Iterable[str], limit: int, locale: str = "en") -> None:
        self.channels = tuple(channels)
        self.locale = locale
        self.pending: deque[Event] = deque()
        self.closed = False
        self.overflowed = False
        self.heartbeat_due = False
        self.last_write = 0.0
        self._limit = limit
        self._waiter: asyncio.Future | None = None

    def push(self, event: Event) -> None:
        """Queue an event (on the loop); a reader this far behind is dropped and will resume by id."""
        if self.closed:
            return
        if len(self.pending) >= self._limit:
            self.overflowed = True
            self.close()
            return
        self.pending.append(event)
        self._wake()

    def beat(self) -> None:
        """Ask the reader to send a heartbeat (it has been quiet for a while)."""
        self.heartbeat_due = True
        self._wake()

    def close(self) -> None:
        self.closed = True
        self._wake()

    async def wait(self) -> None:
        """Return when there is something to read, a heartbeat is due, or the subscription closed."""
        if self.pending or self.closed or self.heartbeat_due:
            return
        # One future per wait and no timer: heartbeats come from one ticker for all streams.
        waiter = self._waiter = asyncio.get_running_loop().create_future()
        try:
            await waiter
        finally:
            self._waiter = None

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)


class Broker(ABC):
    """The interface both backends share; subscriptions live on the loop the broker started on."""

    backend = "base"

    def __init__(self, replay_size: int = 200, queue_limit: int = 2000) -> None:
        self.replay_size = replay_size
        self.queue_limit = queue_limit
        self.epoch = ""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._subscribers: dict[str, set[Subscription]] = {}
        # The live stream sets this to prepare an event (render it) before its readers wake up.
        self.dispatcher: Callable[[Event, list[Subscription]], None] | None = None

    # -- lifecycle (on the loop) ---------------------------------------------------------------

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()

    async def close(self) -> None:
        for subscription in {s for subs in self._subscribers.values() for s in subs}:
            subscription.close()
        self._subscribers.clear()
        self._loop = None

    @property
    def running(self) -> bool:
        return self._loop is not None

    def describe(self) -> str:
        return self.backend

    # -- publishing (any thread) -----------------------------------------------------------------

    @abstractmethod
    def publish(self, channel: str, name: str, data: dict) -> int:
        """Number the event, keep it for replay, hand it to subscribers; returns its id."""

    @staticmethod
    def check(channel: str, name: str) -> None:
        if not CHANNEL.match(channel) or not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
            raise ValueError(f"bad channel or event name: {channel!r} {name!r}")

    def publish_many(self, events: Iterable[tuple[str, str, dict]]) -> list[int]:
        return [self.publish(channel, name, data) for channel, name, data in events]

    # -- reading (on the loop) -------------------------------------------------------------------

    def subscribe(self, channels: Iterable[str], locale: str = "en") -> Subscription:
        subscription = Subscription(channels, self.queue_limit, locale)
        for channel in subscription.channels:
            self._subscribers.setdefault(channel, set()).add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        subscription.close()
        for channel in subscription.channels:
            subs = self._subscribers.get(channel)
            if subs is not None:
                subs.discard(subscription)
                if not subs:
                    del self._subscribers[channel]

    @abstractmethod
    def current_ids(self, channels: Iterable[str]) -> dict[str, int]:
        """The id of the newest event of each channel (0 when it has none); any thread."""

    @abstractmethod
    async def last_ids(self, channels: Iterable[str]) -> dict[str, int]:
        """`current_ids` for the loop."""

    def position(self, ids: dict[str, int]) -> str:
        return encode_position(self.epoch, ids)

    @abstractmethod
    async def since(self, channel: str, after_id: int) -> list[Event]:
        """The kept events of `channel` newer than `after_id`, oldest first."""

    def _fan_out(self, event: Event) -> None:
        subscriptions = self._subscribers.get(event.channel)
        if not subscriptions:
            return
        if self.dispatcher is not None:
            self.dispatcher(event, list(subscriptions))
            return
        for subscription in subscriptions:
            subscription.push(event)

    @property
    def subscription_count(self) -> int:
        return len({s for subs in self._subscribers.values() for s in subs})


class MemoryBroker(Broker):
    """Everything in this process: ids and replay buffers are lost on restart (the epoch changes)."""

    backend = "memory"
    MAX_BUFFERED_CHANNELS = 5000

    def __init__(self, replay_size: int = 200, queue_limit: int = 2000) -> None:
        super().__init__(replay_size, queue_limit)
        self.epoch = secrets.token_hex(4)
        self._lock = threading.Lock()
        self._last: dict[str, int] = {}
        # Least recently published channels lose their buffer first, so memory stays bounded.
        self._buffers: OrderedDict[str, deque[Event]] = OrderedDict()

    def publish(self, channel: str, name: str, data: dict) -> int:
        self.check(channel, name)
        with self._lock:
            event_id = self._last.get(channel, 0) + 1
            self._last[channel] = event_id
            event = Event(channel, event_id, name, data)
            buffer = self._buffers.get(channel)
            if buffer is None:
                buffer = self._buffers[channel] = deque(maxlen=self.replay_size)
                if len(self._buffers) > self.MAX_BUFFERED_CHANNELS:
                    self._buffers.popitem(last=False)
            else:
                self._buffers.move_to_end(channel)
            buffer.append(event)
            loop = self._loop
            # Scheduled under the lock so that the loop sees each channel's events in id order;
            # in a fresh context, not the committing thread's (its transaction markers would
            # leak into every task and thread the fan-out starts).
            if loop is not None and not loop.is_closed():
                loop.call_soon_threadsafe(self._fan_out, event, context=contextvars.Context())
        return event_id

    def current_ids(self, channels: Iterable[str]) -> dict[str, int]:
        with self._lock:
            return {channel: self._last.get(channel, 0) for channel in channels}

    async def last_ids(self, channels: Iterable[str]) -> dict[str, int]:
        return self.current_ids(channels)

    async def since(self, channel: str, after_id: int) -> list[Event]:
        with self._lock:
            return [event for event in self._buffers.get(channel, ()) if event.id > after_id]


# One round trip, atomic across processes: the id, the replay entry and the notification
# are made together, so every process sees a channel's events in id order.
PUBLISH_SCRIPT = """
local id = redis.call('INCR', KEYS[1])
local entry = id .. ' ' .. ARGV[1] .. ' ' .. ARGV[2]
redis.call('RPUSH', KEYS[2], entry)
redis.call('LTRIM', KEYS[2], -tonumber(ARGV[3]), -1)
redis.call('EXPIRE', KEYS[2], tonumber(ARGV[4]))
redis.call('PUBLISH', KEYS[3], entry)
return id
"""


class RedisBroker(Broker):
    """Ids and replay buffers in Redis; one pattern subscriber per process feeds the local streams."""

    backend = "redis"
    LOG_TTL_SECONDS = 24 * 3600

    def __init__(self, url: str, namespace: str = "auction", replay_size: int = 200, queue_limit: int = 2000) -> None:
        super().__init__(replay_size, queue_limit)
        import redis

        self.url = url
        self.namespace = namespace
        pool = redis.BlockingConnectionPool.from_url(url, decode_responses=True, max_connections=64, timeout=10)
        self._sync = redis.Redis(connection_pool=pool)
        self._script = self._sync.register_script(PUBLISH_SCRIPT)
        self._async = None
        self._listener: asyncio.Task | None = None
        self._delivered: dict[str, int] = {}
        self._connected = asyncio.Event()

    def describe(self) -> str:
        from redis.connection import parse_url

        where = parse_url(self.url)
        return f"redis at {where.get('host', '127.0.0.1')}:{where.get('port', 6379)}/{where.get('db', 0)} ({self.namespace})"

    def _key(self, kind: str, channel: str) -> str:
        return f"{self.namespace}:{kind}:{channel}"

    def _ensure_epoch(self) -> str:
        if not self.epoch:
            key = f"{self.namespace}:epoch"
            self._sync.set(key, secrets.token_hex(4), nx=True)
            self.epoch = self._sync.get(key)
        return self.epoch

    async def start(self) -> None:
        import redis.asyncio

        await super().start()
        # Blocking: a burst of new streams waits for a free connection instead of failing.
        pool = redis.asyncio.BlockingConnectionPool.from_url(self.url, decode_responses=True, max_connections=32, timeout=10)
        self._async = redis.asyncio.Redis.from_pool(pool)
        key = f"{self.namespace}:epoch"
        await self._async.set(key, secrets.token_hex(4), nx=True)
        self.epoch = await self._async.get(key)
        self._connected = asyncio.Event()
        self._listener = asyncio.create_task(self._listen(), name="broker-redis-listener")
        try:
            await asyncio.wait_for(self._connected.wait(), timeout=10)
        except TimeoutError:
            await self.close()
            raise RuntimeError(f"broker: {self.describe()} did not answer within 10 s (BROKER_URL)") from None

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            await asyncio.gather(self._listener, return_exceptions=True)
            self._listener = None
        if self._async is not None:
            await self._async.aclose()
            self._async = None
        await super().close()

    def publish(self, channel: str, name: str, data: dict) -> int:
        self.check(channel, name)
        self._ensure_epoch()
        keys = [self._key("seq", channel), self._key("log", channel), self._key("ev", channel)]
        payload = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
        return int(self._script(keys=keys, args=[name, payload, self.replay_size, self.LOG_TTL_SECONDS]))

    def _parse(self, channel: str, entry: str) -> Event:
        event_id, name, payload = entry.split(" ", 2)
        return Event(channel, int(event_id), name, json.loads(payload))

    async def _listen(self) -> None:
        """The process's one subscriber; after a lost connection it catches up from the buffers."""
        prefix = self._key("ev", "")
        delay = 0.5
        first = True
        while True:
            pubsub = self._async.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.psubscribe(prefix + "*")
                self._connected.set()
                delay = 0.5
                if not first:
                    await self._catch_up()
                first = False
                async for message in pubsub.listen():
                    if message["type"] != "pmessage":
                        continue
                    channel = message["channel"][len(prefix) :]
                    self._deliver(self._parse(channel, message["data"]))
            except asyncio.CancelledError:
                await pubsub.aclose()
                raise
            except Exception as exc:
                log.warning("broker: lost the Redis subscription (%s); retrying in %.1f s", exc, delay)
                await pubsub.aclose()
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10)

    async def _catch_up(self) -> None:
        for channel in list(self._subscribers):
            for event in await self.since(channel, self._delivered.get(channel, 0)):
                self._deliver(event)

    def _deliver(self, event: Event) -> None:
        if event.channel not in self._subscribers or event.id <= self._delivered.get(event.channel, 0):
            return
        self._delivered[event.channel] = event.id
        self._fan_out(event)

    def unsubscribe(self, subscription: Subscription) -> None:
        super().unsubscribe(subscription)
        for channel in subscription.channels:
            if channel not in self._subscribers:
                self._delivered.pop(channel, None)

    def current_ids(self, channels: Iterable[str]) -> dict[str, int]:
        self._ensure_epoch()
        channels = list(channels)
        values = self._sync.mget([self._key("seq", channel) for channel in channels]) if channels else []
        return {channel: int(value or 0) for channel, value in zip(channels, values, strict=True)}

    async def last_ids(self, channels: Iterable[str]) -> dict[str, int]:
        channels = list(channels)
        if not channels:
            return {}
        values = await self._async.mget([self._key("seq", channel) for channel in channels])
        return {channel: int(value or 0) for channel, value in zip(channels, values, strict=True)}

    async def since(self, channel: str, after_id: int) -> list[Event]:
        entries = await self._async.lrange(self._key("log", channel), 0, -1)
        events = [self._parse(channel, entry) for entry in entries]
        return [event for event in events if event.id > after_id]


def create_broker(config: dict) -> Broker:
    """The backend BROKER_URL names: empty for in-process, redis://... for Redis."""
    url = config.get("BROKER_URL", "")
    replay_size = config.get("LIVE_REPLAY_SIZE", 200)
    if not url:
        return MemoryBroker(replay_size=replay_size)
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisBroker(url, namespace=config.get("BROKER_NAMESPACE", "auction"), replay_size=replay_size)
    raise ValueError(f"BROKER_URL must be empty or redis://..., not {url!r}")

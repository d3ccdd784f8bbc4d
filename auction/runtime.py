"""The process: one ASGI app under uvicorn serving pages, the live stream, the bot and the scheduler.

uvicorn runs `Runtime`: GET /events goes to the native asyncio SSE handler, everything else
to Flask in a bounded thread pool (`BufferedWSGI`). The lifespan starts the broker, the bot and
the scheduler on uvicorn's event loop and stops them in reverse order. A live stream never
ends by itself, so `Server` closes the streams before uvicorn waits for open requests;
otherwise Ctrl-C or SIGTERM would hang.
"""

from __future__ import annotations

import asyncio
import contextvars
import io
import logging
import socket
import tempfile
from concurrent.futures import ThreadPoolExecutor
from http.cookies import SimpleCookie

import h11
import uvicorn
from a2wsgi.wsgi import build_environ
from flask import Flask
from uvicorn.protocols.http.h11_impl import H11Protocol

from auction.bot.runtime import bot_runtime
from auction.jobs import create_scheduler
from auction.live.stream import LiveStream

log = logging.getLogger("auction.runtime")


class BufferedWSGI:
    """Flask in a bounded thread pool; a request reaches a thread only once its body is all here.

    The event loop reads the whole request body first, against a deadline
    (`REQUEST_BODY_TIMEOUT` seconds) and the route's size limit, then one thread runs Flask
    and returns the whole response, and the loop sends it. A client that declares a body and
    then stalls costs a socket, never a web thread: after the deadline it gets 408. A body is
    kept in memory up to 1 MB and spooled to a temporary file beyond (a listing's photos).

    The limit is the route's: `SMALL_BODY_LIMIT` bytes (64 KB) for forms without files; a
    view marked with `auction.web.limits.accepts_uploads` takes `MAX_CONTENT_LENGTH`, and
    only from a signed-in person (a signed session cookie). A declared length over the limit
    is refused with 413 before a byte of the body is read; a chunked body is refused as soon
    as it passes the limit. Refusals (400, 408, 413) are rendered by Flask, so they carry the
    security headers and a translated page like every other response, and close the connection.

    Flask's responses here are pages, fragments and photos, never endless streams (the live
    stream is native asyncio).
    """

    MEMORY_LIMIT = 1 << 20

    def __init__(
        self,
        app: Flask,
        workers: int,
        body_limit: int | None = None,
        small_limit: int | None = None,
        timeout: float | None = None,
    ) -> None:
        self.app = app
        self.executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="web")
        self.body_limit = body_limit if body_limit is not None else app.config.get("MAX_CONTENT_LENGTH") or 110 << 20
        self.small_limit = small_limit if small_limit is not None else app.config.get("SMALL_BODY_LIMIT", 64 << 10)
        self.timeout = timeout if timeout is not None else app.config.get("REQUEST_BODY_TIMEOUT", 15)

    def limit_for(self, scope: dict, headers: dict[bytes, bytes]) -> int:
        """The body size this request may send, in bytes: large only for a signed-in person's upload."""
        if scope["method"] in ("GET", "HEAD", "OPTIONS"):
            return self.small_limit
        try:
            endpoint, _ = self.app.url_map.bind("localhost").match(scope["path"], method=scope["method"])
        except Exception:  # not found, wrong method, a redirect: nothing to upload to
            return self.small_limit
        view = self.app.view_functions.get(endpoint)
        if getattr(view, "body_limit", None):
            return view.body_limit
        if not getattr(view, "accepts_uploads", False) or not self._signed_in(headers):
            return self.small_limit
        return self.body_limit

    def _signed_in(self, headers: dict[bytes, bytes]) -> bool:
        name = self.app.config.get("SESSION_COOKIE_NAME", "session")
        cookies = SimpleCookie()
        try:
            cookies.load(headers.get(b"cookie", b"").decode("latin-1"))
            data = self.app.session_interface.get_signing_serializer(self.app).loads(cookies[name].value)
        except Exception:  # no cookie, a forged or an old one
            return False
        return isinstance(data, dict) and "_user_id" in data

    async def __call__(self, scope, receive, send) -> None:
        headers = dict(scope.get("headers") or [])
        limit = self.limit_for(scope, headers)
        declared = headers.get(b"content-length")
        refusal = None
        if declared is not None and not (declared.isascii() and declared.isdigit() and len(declared) < 20):
            refusal = 400
        elif declared is not None and int(declared) > limit:
            refusal = 413  # refused before a byte of the body is read
        body = None
        size = 0
        if refusal is None:
            body = tempfile.SpooledTemporaryFile(max_size=self.MEMORY_LIMIT)  # noqa: SIM115  (closed after the response)
            try:
                size, refusal = await self._read_body(receive, body, limit)
            except ClientLeft:
                body.close()
                return  # the client left before it finished asking
        if refusal is not None:
            if body is not None:
                body.close()
            body = io.BytesIO()
            size = 0
        body.seek(0)
        environ = build_environ(scope, body)
        environ["CONTENT_LENGTH"] = str(size)  # also for a chunked body, now read whole
        environ["wsgi.input_terminated"] = True
        if refusal is not None:
            environ["REQUEST_METHOD"] = "GET" if scope["method"] != "HEAD" else "HEAD"
            environ["auction.refusal"] = refusal
        run = contextvars.copy_context().run
        try:
            status, response_headers, content = await asyncio.get_running_loop().run_in_executor(
                self.executor, run, self._respond, environ
            )
        finally:
            body.close()
        if refusal is not None:
            response_headers.append((b"connection", b"close"))  # the rest of the body is never read
        await send({"type": "http.response.start", "status": status, "headers": response_headers})
        await send({"type": "http.response.body", "body": content})

    async def _read_body(self, receive, body, limit: int) -> tuple[int, int | None]:
        """Read the body into `body` by the deadline; returns (bytes read, refusal status or None)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout
        size = 0
        while True:
            try:
                async with asyncio.timeout_at(deadline):
                    message = await receive()
            except TimeoutError:
                log.info("a request body stalled for %s s: 408", self.timeout)
                return size, 408
            if message["type"] == "http.disconnect":
                raise ClientLeft
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                return size, 413
            body.write(chunk)
            if not message.get("more_body"):
                return size, None

    def _respond(self, environ: dict) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        started: list = []
        body: list[bytes] = []

        def start_response(status: str, headers: list[tuple[str, str]], exc_info=None):
            if exc_info is not None and started:
                raise exc_info[1].with_traceback(exc_info[2])
            started[:] = [int(status.split(" ", 1)[0]), [(name.lower().encode("latin1"), value.encode("latin1")) for name, value in headers]]
            return body.append

        iterable = self.app(environ, start_response)
        try:
            body.extend(iterable)
        finally:
            close = getattr(iterable, "close", None)
            if close is not None:
                close()
        return started[0], started[1], b"".join(body)


class ClientLeft(Exception):
    """The client hung up while sending its request."""


class HeaderDeadline(H11Protocol):
    """uvicorn's HTTP/1.1 protocol with a deadline for a request's headers.

    uvicorn times out an idle keep-alive connection, but a client that sends its headers one
    byte at a time (or stops half way) keeps the socket forever. Here the headers of each
    request must be complete within `timeout` seconds of the connection or of the previous
    response; otherwise the connection is closed.
    """

    timeout: float = 15

    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        self._arm_header_deadline()

    def _arm_header_deadline(self) -> None:
        self._cancel_header_deadline()
        self._header_deadline = self.loop.call_later(self.timeout, self._headers_too_slow)

    def _cancel_header_deadline(self) -> None:
        handle = getattr(self, "_header_deadline", None)
        if handle is not None:
            handle.cancel()
            self._header_deadline = None

    def _headers_too_slow(self) -> None:
        self._header_deadline = None
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            log.info("request headers not complete within %s s: connection closed", self.timeout)
            self.transport.close()

    def handle_events(self) -> None:
        super().handle_events()
        if self.conn.their_state is not h11.IDLE:
            self._cancel_header_deadline()  # the headers are in; the body has its own deadline

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm_header_deadline()

    def connection_lost(self, exc) -> None:
        self._cancel_header_deadline()
        super().connection_lost(exc)


class Runtime:
    """The ASGI application: routes /events to the live stream, the rest to Flask."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.flask = BufferedWSGI(app, workers=app.config["WEB_THREADS"])
        self.stream = LiveStream(app)
        self.bot = None
        self.scheduler = None
        self.jobs = None

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and scope["path"] == "/events":
            await self.stream(scope, receive, with_security_headers(send))
        elif scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        else:
            await self.flask(scope, receive, send)

    async def _lifespan(self, receive, send) -> None:
        message = await receive()
        assert message["type"] == "lifespan.startup"
        try:
            await self.startup()
        except Exception as exc:
            log.exception("start-up failed")
            await self.shutdown()
            await send({"type": "lifespan.startup.failed", "message": str(exc)})
            return
        await send({"type": "lifespan.startup.complete"})
        message = await receive()
        assert message["type"] == "lifespan.shutdown"
        await self.shutdown()
        await send({"type": "lifespan.shutdown.complete"})

    async def startup(self) -> None:
        config = self.app.config
        log.info("web: Flask in %d threads", config["WEB_THREADS"])
        broker = self.app.extensions["broker"]
        await broker.start()
        log.info("broker: %s, %d events kept per channel", broker.describe(), broker.replay_size)
        self.stream.start()
        log.info(
            "live stream: GET /events, heartbeat %d s, up to %d channels per page and %s streams per client",
            config["LIVE_HEARTBEAT_SECONDS"],
            config["LIVE_MAX_CHANNELS"],
            config["LIVE_MAX_CONNECTIONS_PER_CLIENT"] or "unlimited",
        )
        self.bot = bot_runtime(self.app)
        await self.bot.start()  # logs its mode; an unreachable Telegram is retried in the background
        # Without SCHEDULER_ENABLED (tests, or a process that is not the leader) only the jobs on
        # this process's own memory run (jobs.Job.per_process), such as adding up page views.
        self.scheduler, self.jobs = create_scheduler(self.app, per_process_only=not config["SCHEDULER_ENABLED"])
        self.scheduler.start()
        names = ", ".join(job.id for job in self.scheduler.get_jobs())
        if config["SCHEDULER_ENABLED"]:
            log.info("scheduler: APScheduler on the server's event loop, jobs: %s", names)
        else:
            log.info("scheduler: off (SCHEDULER_ENABLED=0) but for this process's own jobs: %s", names)

    def begin_shutdown(self) -> None:
        """Close live streams so the server's graceful shutdown does not wait on them forever."""
        self.stream.close_all()

    async def shutdown(self) -> None:
        self.begin_shutdown()
        if self.bot is not None:
            try:
                await self.bot.stop()
            except Exception:
                log.exception("the bot did not stop cleanly")
            self.bot = None
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=False)
            await self.jobs.drain()
            self.scheduler = None
        await self.app.extensions["broker"].close()
        self.flask.executor.shutdown(wait=True)
        log.info("stopped: streams closed, bot stopped, scheduler stopped, broker closed")


def with_security_headers(send):
    """`send` that adds the pages' security headers to a response that lacks them (the live stream's)."""
    from auction import SECURITY_HEADERS

    async def sending(message) -> None:
        if message["type"] == "http.response.start":
            present = {name.lower() for name, _ in message.get("headers", [])}
            extra = [(name, value) for name, value in SECURITY_HEADERS if name not in present]
            message = {**message, "headers": [*message.get("headers", []), *extra]}
        await send(message)

    return sending


class Server(uvicorn.Server):
    """uvicorn's server that ends the live streams first when it is asked to stop."""

    def __init__(self, config: uvicorn.Config, runtime: Runtime) -> None:
        super().__init__(config)
        self.runtime = runtime

    async def shutdown(self, sockets=None) -> None:
        self.runtime.begin_shutdown()
        await super().shutdown(sockets=sockets)


def build_server(app: Flask, host: str = "127.0.0.1", port: int = 0, **options) -> Server:
    """A uvicorn server running `app` as the product runs it (lifespan on, no access log)."""
    runtime = Runtime(app)
    trusted = app.config.get("FORWARDED_ALLOW_IPS") or ""
    protocol = type("HeaderDeadline", (HeaderDeadline,), {"timeout": app.config.get("REQUEST_BODY_TIMEOUT", 15)})
    options.setdefault("http", protocol)
    # X-Forwarded-For and -Proto are believed only from the proxies named in FORWARDED_ALLOW_IPS
    # (none by default): every per-client limit keys on the address uvicorn puts in the scope.
    options.setdefault("proxy_headers", bool(trusted))
    options.setdefault("forwarded_allow_ips", trusted or "")
    config = uvicorn.Config(
        runtime,
        host=host,
        port=port,
        lifespan="on",
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=10,
        **options,
    )
    return Server(config, runtime)


def bind(host: str = "127.0.0.1", port: int = 0) -> socket.socket:
    """A listening TCP socket; port 0 picks a free one."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(4096)
    return sock

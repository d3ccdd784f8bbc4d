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

import uvicorn
from a2wsgi import WSGIMiddleware
from a2wsgi.wsgi import build_environ
from flask import Flask

from auction.bot.runtime import bot_runtime
from auction.jobs import create_scheduler
from auction.live.stream import LiveStream

log = logging.getLogger("auction.runtime")


class BufferedWSGI:
    """Flask in a bounded thread pool, with one hand-off to the thread and one back per request.

    a2wsgi lets the Flask thread stream: every read of the request body and every piece of
    the response is a blocking round trip to the event loop, and under load each round trip
    waits for the GIL behind the other Flask threads (py-spy on `bench/bids.py`: the threads
    spent about half their time there). Here the loop reads the request body first, the
    thread runs Flask and returns the whole response, and the loop sends it. Flask's
    responses here are pages, fragments and photos, never endless streams (the live stream
    is native asyncio). A body declared over `body_limit` (a listing's photos) keeps a2wsgi's
    streaming path, so an upload is never held in memory whole; a chunked body (no length
    declared; browsers never send one) is read up to the limit and refused with 413 beyond.
    """

    def __init__(self, app: Flask, workers: int, body_limit: int = 1 << 20) -> None:
        self.app = app
        self.streaming = WSGIMiddleware(app, workers=workers)
        self.executor = self.streaming.executor  # one pool bounds both paths
        self.body_limit = body_limit

    async def __call__(self, scope, receive, send) -> None:
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.body_limit):
            await self.streaming(scope, receive, send)
            return
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return  # the client left before it finished asking
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > self.body_limit:
                await send({"type": "http.response.start", "status": 413, "headers": [(b"content-type", b"text/plain")]})
                await send({"type": "http.response.body", "body": b"Request body too large without a Content-Length."})
                return
            if not message.get("more_body"):
                break
        environ = build_environ(scope, io.BytesIO(b"".join(chunks)))
        environ["CONTENT_LENGTH"] = str(size)  # also for a chunked body, now read whole
        environ["wsgi.input_terminated"] = True
        run = contextvars.copy_context().run
        status, response_headers, body = await asyncio.get_running_loop().run_in_executor(self.executor, run, self._respond, environ)
        await send({"type": "http.response.start", "status": status, "headers": response_headers})
        await send({"type": "http.response.body", "body": body})

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
            await self.stream(scope, receive, send)
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
        if config["SCHEDULER_ENABLED"]:
            self.scheduler, self.jobs = create_scheduler(self.app)
            self.scheduler.start()
            names = ", ".join(job.id for job in self.scheduler.get_jobs())
            log.info("scheduler: APScheduler on the server's event loop, jobs: %s", names)
        else:
            log.info("scheduler: off (SCHEDULER_ENABLED=0)")

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

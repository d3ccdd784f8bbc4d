"""The process: one ASGI app under uvicorn serving pages, the live stream, the bot and the scheduler.

uvicorn runs `Runtime`: GET /events goes to the native asyncio SSE handler, everything else
to Flask through a2wsgi's bounded thread pool. The lifespan starts the broker, the bot and
the scheduler on uvicorn's event loop and stops them in reverse order. A live stream never
ends by itself, so `Server` closes the streams before uvicorn waits for open requests;
otherwise Ctrl-C or SIGTERM would hang.
"""

from __future__ import annotations

import logging
import socket

import uvicorn
from a2wsgi import WSGIMiddleware
from flask import Flask

from auction.bot.runtime import BotRuntime
from auction.jobs import create_scheduler
from auction.live.stream import LiveStream

log = logging.getLogger("auction.runtime")


class Runtime:
    """The ASGI application: routes /events to the live stream, the rest to Flask."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.flask = WSGIMiddleware(app, workers=app.config["WEB_THREADS"])
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
        log.info("web: Flask through a2wsgi, %d threads", config["WEB_THREADS"])
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
        self.bot = BotRuntime(self.app)
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

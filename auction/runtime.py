"""The process: one ASGI app under uvicorn serving pages, the live stream, the bot and the scheduler."""

from __future__ import annotations

import asyncio
import logging
import socket

import uvicorn
from a2wsgi import WSGIMiddleware
from flask import Flask

log = logging.getLogger("auction.runtime")


class Runtime:
    """ASGI entry: /events goes to the native SSE handler, everything else to Flask in threads."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.flask = WSGIMiddleware(app, workers=app.config.get("WEB_THREADS", 16))
        self.stream = None
        self.bot = None
        self.scheduler = None

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "http" and scope["path"] == "/events" and self.stream is not None:
            await self.stream(scope, receive, send)
        else:
            await self.flask(scope, receive, send)

    async def _lifespan(self, receive, send) -> None:
        message = await receive()
        assert message["type"] == "lifespan.startup"
        try:
            await self.startup()
        except Exception as exc:
            log.exception("start-up failed")
            await send({"type": "lifespan.startup.failed", "message": str(exc)})
            return
        await send({"type": "lifespan.startup.complete"})
        message = await receive()
        assert message["type"] == "lifespan.shutdown"
        await self.shutdown()
        await send({"type": "lifespan.shutdown.complete"})

    async def startup(self) -> None:
        log.info("web: Flask app through a2wsgi")

    def begin_shutdown(self) -> None:
        """Close live streams so the server's graceful shutdown does not wait on them forever."""

    async def shutdown(self) -> None:
        self.flask.executor.shutdown(wait=True)


class Server(uvicorn.Server):
    """uvicorn's server that ends the live streams first when it is asked to stop."""

    def __init__(self, config: uvicorn.Config, runtime: Runtime) -> None:
        super().__init__(config)
        self.runtime = runtime

    async def shutdown(self, sockets=None) -> None:
        self.runtime.begin_shutdown()
        await super().shutdown(sockets=sockets)


def build_server(app: Flask, sock: socket.socket | None = None, host: str = "127.0.0.1", port: int = 0) -> Server:
    """A uvicorn server for `app`; pass `sock` to serve on an already bound socket."""
    runtime = Runtime(app)
    config = uvicorn.Config(
        runtime,
        host=host,
        port=port,
        lifespan="on",
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=10,
    )
    return Server(config, runtime)


def bind(host: str = "127.0.0.1", port: int = 0) -> socket.socket:
    """A listening TCP socket; port 0 picks a free one."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


__all__ = ["Runtime", "Server", "asyncio", "bind", "build_server"]

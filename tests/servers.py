"""The real production server (auction.runtime under uvicorn) on a random port, for tests over HTTP."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator

import pytest
from flask import Flask

from auction.runtime import bind, build_server


@contextlib.contextmanager
def run_server(app: Flask) -> Iterator[str]:
    """Serve `app` exactly as `python wsgi.py` does (lifespan: broker, bot, scheduler); yields the base URL."""
    sock = bind("127.0.0.1", 0)
    port = sock.getsockname()[1]
    server = build_server(app, port=port)
    failure: list[BaseException] = []

    def serve() -> None:
        try:
            server.run(sockets=[sock])
        except BaseException as exc:  # surfaced in the test thread below
            failure.append(exc)

    thread = threading.Thread(target=serve, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if failure or not thread.is_alive():
            raise RuntimeError(f"the server did not start: {failure[0] if failure else 'see the log'}")
        if time.monotonic() > deadline:
            raise TimeoutError("the server did not start within 15 s")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)
        sock.close()
        if thread.is_alive():
            raise RuntimeError("the server did not shut down within 20 s")


@pytest.fixture
def live_server(app) -> Iterator[str]:
    """The base URL of the real server running the test's `app`."""
    with run_server(app) as base_url:
        yield base_url

"""The real production server (auction.runtime under uvicorn) on a random port, for tests over HTTP."""

from __future__ import annotations

import contextlib
import queue
import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
from flask import Flask

from auction.runtime import bind, build_server


@contextlib.contextmanager
def run_server(app: Flask, port: int = 0) -> Iterator[str]:
    """Serve `app` exactly as `python wsgi.py` does (lifespan: broker, bot, scheduler); yields the base URL.

    Port 0 picks a free port; pass the port of an earlier run to restart "the same" server.
    """
    sock = bind("127.0.0.1", port)
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


class SSEClient:
    """A browser's EventSource, reduced: reads one stream in a thread and parses its messages."""

    def __init__(self, url: str, headers: dict | None = None) -> None:
        self.messages: queue.Queue = queue.Queue()
        self.comments: list[str] = []
        self.retry: int | None = None
        self.last_id = ""
        self._client = httpx.Client(timeout=httpx.Timeout(10, read=30))
        self._stream = self._client.stream("GET", url, headers=headers or {})
        self.response = self._stream.__enter__()
        self._thread = threading.Thread(target=self._read, daemon=True)
        if self.response.status_code == 200:
            self._thread.start()

    def _read(self) -> None:
        fields: dict[str, list[str]] = {}
        try:
            for line in self.response.iter_lines():
                if line == "":
                    if "id" in fields:
                        self.last_id = fields["id"][-1]
                    if "data" in fields:
                        self.messages.put(
                            {"event": fields.get("event", ["message"])[-1], "data": "\n".join(fields["data"]), "id": self.last_id}
                        )
                    fields = {}
                elif line.startswith(":"):
                    self.comments.append(line[1:].strip())
                else:
                    name, _, value = line.partition(":")
                    value = value[1:] if value.startswith(" ") else value
                    if name == "retry":
                        self.retry = int(value)
                    else:
                        fields.setdefault(name, []).append(value)
        except (httpx.HTTPError, RuntimeError, ValueError):
            pass
        self.messages.put(None)  # the stream ended

    def next(self, timeout: float = 5) -> dict | None:
        return self.messages.get(timeout=timeout)

    def close(self) -> None:
        """Hang up like a closed tab: shut the socket down so the reading thread wakes too."""
        stream = self.response.extensions.get("network_stream")
        sock = stream.get_extra_info("socket") if stream is not None else None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        self._client.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


@pytest.fixture
def live_server(app) -> Iterator[str]:
    """The base URL of the real server running the test's `app`."""
    with run_server(app) as base_url:
        yield base_url

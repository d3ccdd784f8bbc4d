"""BufferedWSGI over real HTTP: every body read on the event loop by a deadline, within its route's limit."""

from __future__ import annotations

import hashlib
import socket
import threading
import time

import httpx
import pytest
import uvicorn
from flask import Flask, Response, abort, request

from auction.runtime import BufferedWSGI, HeaderDeadline, bind
from auction.web.limits import body_limit

LIMIT = 1024
LARGE = 3 << 20
WORKERS = 2
TIMEOUT = 1


def echo_app() -> Flask:
    app = Flask("echo")

    @app.before_request
    def refused():
        if request.environ.get("auction.refusal"):
            abort(request.environ["auction.refusal"])

    @app.post("/echo")
    def echo():
        body = request.get_data()
        return {
            "length": len(body),
            "sha256": hashlib.sha256(body).hexdigest(),
            "name": request.args.get("name"),
            "on_disk": bool(getattr(request.environ["wsgi.input"], "_rolled", False)),
        }

    @app.post("/upload")
    @body_limit(LARGE)
    def upload():
        return {"amount": request.form["amount"], "photo": len(request.files["photo"].read()) if "photo" in request.files else 0}

    @app.get("/chunks")
    def chunks():
        response = Response((f"part {n};" for n in range(5)), mimetype="text/plain")
        response.headers["X-Kind"] = "generated"
        response.set_cookie("a", "1")
        response.set_cookie("b", "2")
        return response

    @app.get("/boom")
    def boom():
        raise RuntimeError("a bug in a view")

    @app.get("/ping")
    def ping():
        return "pong"

    return app


@pytest.fixture(scope="module")
def server():
    sock = bind()
    port = sock.getsockname()[1]
    app = BufferedWSGI(echo_app(), workers=WORKERS, body_limit=LARGE, small_limit=LIMIT, timeout=TIMEOUT)
    protocol = type("QuickHeaderDeadline", (HeaderDeadline,), {"timeout": TIMEOUT})
    config = uvicorn.Config(app, lifespan="off", log_config=None, access_log=False, http=protocol)
    instance = uvicorn.Server(config)
    thread = threading.Thread(target=instance.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not instance.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.01)
    yield f"http://127.0.0.1:{port}"
    instance.should_exit = True
    thread.join(timeout=10)
    sock.close()


def _stalled_post(base_url: str, path: str, declared: int) -> socket.socket:
    """A client that declares a body, sends a few bytes of it and then nothing."""
    host, port = base_url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)))
    sock.sendall(
        f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {declared}\r\n\r\namount=1".encode()
    )
    return sock


def _answer(sock: socket.socket, timeout: float) -> bytes:
    sock.settimeout(timeout)
    try:
        return sock.recv(65536)
    except (TimeoutError, ConnectionResetError):
        return b""


def test_a_small_body_is_read_whole_before_flask_runs(server):
    body = b"amount=125&max_amount=300"
    reply = httpx.post(f"{server}/echo?name=small", content=body).json()
    assert reply == {"length": len(body), "sha256": hashlib.sha256(body).hexdigest(), "name": "small", "on_disk": False}


def test_an_upload_route_takes_a_large_body_spooled_to_a_file(server):
    photo = bytes(range(256)) * 6000  # 1.5 MB: over the 1 MB kept in memory
    reply = httpx.post(f"{server}/upload", data={"amount": "7"}, files={"photo": ("p.png", photo, "image/png")})
    assert reply.json() == {"amount": "7", "photo": len(photo)}


def test_a_declared_body_over_the_routes_limit_is_refused_unread(server):
    sock = _stalled_post(server, "/echo", 100 * 1024 * 1024)  # 100 MB declared, a few bytes sent
    started = time.monotonic()
    answer = _answer(sock, 5)
    sock.close()
    assert answer.startswith(b"HTTP/1.1 413")
    assert b"connection: close" in answer.lower()
    assert time.monotonic() - started < TIMEOUT  # not waited for: refused from the headers


def test_a_chunked_body_is_read_whole_up_to_the_limit(server):
    parts = [b"a" * 300, b"b" * 300, b"c" * 300]
    reply = httpx.post(f"{server}/echo", content=iter(parts)).json()  # Transfer-Encoding: chunked
    assert reply["length"] == 900
    assert reply["sha256"] == hashlib.sha256(b"".join(parts)).hexdigest()
    too_long = httpx.post(f"{server}/echo", content=iter([b"x" * 600, b"y" * 600]))
    assert too_long.status_code == 413


@pytest.mark.parametrize("length", [b"12x", b"\xd9\xa3", b"99999999999999999999999"])
def test_an_unreadable_content_length_is_a_400(server, length):
    host, port = server.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as sock:
        sock.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: " + length + b"\r\n\r\n")
        answer = _answer(sock, 5)
    assert answer.startswith((b"HTTP/1.1 400", b""))  # h11 itself may refuse it first
    assert not answer.startswith(b"HTTP/1.1 5")


def test_stalled_bodies_hold_no_web_thread_and_get_408(server):
    sockets = [_stalled_post(server, "/upload", 2_000_000) for _ in range(WORKERS + 2)]
    try:
        time.sleep(0.2)
        started = time.monotonic()
        assert httpx.get(f"{server}/ping", timeout=2).text == "pong"
        assert time.monotonic() - started < 2
        for sock in sockets:
            assert _answer(sock, TIMEOUT + 3).startswith(b"HTTP/1.1 408")
    finally:
        for sock in sockets:
            sock.close()


def test_slow_headers_are_cut_off(server):
    host, port = server.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as sock:
        sock.sendall(b"GET /ping HTTP/1.1\r\nHost: x\r\n")  # and never the blank line
        started = time.monotonic()
        sock.settimeout(TIMEOUT + 3)
        assert sock.recv(100) == b""  # closed by the server
        assert time.monotonic() - started < TIMEOUT + 2


def test_a_generated_response_arrives_whole_with_every_header(server):
    response = httpx.get(f"{server}/chunks")
    assert response.status_code == 200
    assert response.text == "part 0;part 1;part 2;part 3;part 4;"
    assert response.headers["x-kind"] == "generated"
    assert response.headers.get_list("set-cookie") == ["a=1; Path=/", "b=2; Path=/"]


def test_a_failing_view_is_a_500_and_the_server_carries_on(server):
    assert httpx.get(f"{server}/boom").status_code == 500
    assert httpx.post(f"{server}/echo", content=b"still here").json()["length"] == 10

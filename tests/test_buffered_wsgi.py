"""BufferedWSGI over real HTTP: small bodies in one hand-off, large and chunked ones streamed."""

from __future__ import annotations

import hashlib
import threading
import time

import httpx
import pytest
import uvicorn
from flask import Flask, Response, request

from auction.runtime import BufferedWSGI, bind

LIMIT = 1024


def echo_app() -> Flask:
    app = Flask("echo")

    @app.post("/echo")
    def echo():
        body = request.get_data()
        return {
            "length": len(body),
            "sha256": hashlib.sha256(body).hexdigest(),
            "name": request.args.get("name"),
            "stream": type(request.environ["wsgi.input"]).__name__,
        }

    @app.post("/form")
    def form():
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

    return app


@pytest.fixture(scope="module")
def server():
    sock = bind()
    port = sock.getsockname()[1]
    config = uvicorn.Config(BufferedWSGI(echo_app(), workers=2, body_limit=LIMIT), lifespan="off", log_config=None, access_log=False)
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


def test_a_small_body_is_read_whole_before_flask_runs(server):
    body = b"amount=125&max_amount=300"
    reply = httpx.post(f"{server}/echo?name=small", content=body).json()
    assert reply == {"length": len(body), "sha256": hashlib.sha256(body).hexdigest(), "name": "small", "stream": "BytesIO"}
    assert httpx.post(f"{server}/form", data={"amount": "125"}).json() == {"amount": "125", "photo": 0}


def test_a_large_body_is_streamed_not_held_whole(server):
    body = bytes(range(256)) * 800  # 200 KB, over the limit
    reply = httpx.post(f"{server}/echo", content=body).json()
    assert reply["length"] == len(body)
    assert reply["sha256"] == hashlib.sha256(body).hexdigest()
    assert reply["stream"] != "BytesIO"  # a2wsgi's streaming body
    photo = b"\x89PNG" + b"x" * 50_000
    assert httpx.post(f"{server}/form", data={"amount": "7"}, files={"photo": ("p.png", photo, "image/png")}).json() == {"amount": "7", "photo": len(photo)}


def test_a_chunked_body_is_read_whole_up_to_the_limit(server):
    parts = [b"a" * 300, b"b" * 300, b"c" * 300]
    reply = httpx.post(f"{server}/echo", content=iter(parts)).json()  # Transfer-Encoding: chunked
    assert reply["length"] == 900
    assert reply["sha256"] == hashlib.sha256(b"".join(parts)).hexdigest()
    too_long = httpx.post(f"{server}/echo", content=iter([b"x" * 600, b"y" * 600]))
    assert too_long.status_code == 413


def test_a_generated_response_arrives_whole_with_every_header(server):
    response = httpx.get(f"{server}/chunks")
    assert response.status_code == 200
    assert response.text == "part 0;part 1;part 2;part 3;part 4;"
    assert response.headers["x-kind"] == "generated"
    assert response.headers.get_list("set-cookie") == ["a=1; Path=/", "b=2; Path=/"]


def test_a_failing_view_is_a_500_and_the_server_carries_on(server):
    assert httpx.get(f"{server}/boom").status_code == 500
    assert httpx.post(f"{server}/echo", content=b"still here").json()["length"] == 10

"""Photo work is bounded: phone formats, a pixel budget per request, a bounded pool (issue 10 item 2, issue 11 item 6)."""

from __future__ import annotations

import io
import json
import re
import threading
import time
import zlib
from concurrent.futures import ThreadPoolExecutor

import httpx
import pillow_heif
import pytest
from PIL import Image
from sqlalchemy import func, select

from auction.extensions import db
from auction.models import Auction
from auction.services.photos import PhotoPool, PhotoRejected, PhotosBusy, check_pixel_budget, store_photo
from tests.conftest import sign_in
from tests.support.premium_helpers import make_premium
from tests.support.servers import run_server
from tests.web.test_listing_form import listing_fields, post_listing


def huge_png(side: int = 6300) -> bytes:
    """A PNG of side × side pixels in a few KB: one grey row repeated, compressed whole."""
    raw = (b"\x00" + b"\x80\x80\x80" * side) * side
    def chunk(kind: bytes, data: bytes) -> bytes:
        return len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")
    header = side.to_bytes(4, "big") * 2 + bytes([8, 2, 0, 0, 0])
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


def heic_bytes(size=(320, 200)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (20, 120, 220)).save(buffer, "HEIF", quality=70)
    return buffer.getvalue()


def mpo_bytes() -> bytes:
    first, second = Image.new("RGB", (300, 200), (220, 30, 30)), Image.new("RGB", (300, 200), (30, 30, 220))
    buffer = io.BytesIO()
    first.save(buffer, "MPO", save_all=True, append_images=[second])
    return buffer.getvalue()


def test_heic_from_an_iphone_is_accepted(tmp_path):
    assert pillow_heif.is_supported(heic_bytes())
    stored = store_photo(heic_bytes(), static_root=tmp_path)
    with Image.open(tmp_path / stored.large_path) as large:
        assert large.format == "WEBP" and large.size == (320, 200)


def test_an_mpo_keeps_its_first_picture(tmp_path):
    data = mpo_bytes()
    assert Image.open(io.BytesIO(data)).format == "MPO"
    stored = store_photo(data, static_root=tmp_path)
    with Image.open(tmp_path / stored.large_path) as large:
        red, green, blue = large.convert("RGB").getpixel((150, 100))
        assert red > 150 and blue < 100  # the first (red) picture, not the second


def test_the_pixel_budget_is_read_from_the_headers_before_decoding(monkeypatch):
    photos = [huge_png()] * 4  # 4 × 39.7 MP declared

    def decoded(image):
        raise AssertionError("a photo was decoded to count its pixels")

    monkeypatch.setattr(Image.Image, "load", decoded)
    with pytest.raises(PhotoRejected) as refused:
        check_pixel_budget(photos, 120_000_000)
    assert "159 megapixels" in str(refused.value)
    check_pixel_budget(photos[:3], 120_000_000)  # 119 MP: within


def test_a_full_pool_refuses_at_once():
    pool = PhotoPool(workers=1, queue=1)
    release = threading.Event()
    with ThreadPoolExecutor(2) as runners:
        running = [runners.submit(pool.run, release.wait) for _ in range(2)]
        time.sleep(0.2)
        # Both places are taken until `release` is set, after this: waiting for one would never end.
        with pytest.raises(PhotosBusy):
            pool.run(lambda: None)
        release.set()
        assert all(future.result(timeout=5) for future in running)
    assert pool.run(lambda: 7) == 7


def test_a_listing_over_the_budget_is_a_field_error_and_nothing_is_stored(app, make_user):
    client = app.test_client()
    seller = make_user("Seller")
    make_premium(app, seller)  # four photos: more than a free account may add
    sign_in(client, seller)
    response = post_listing(client, [(f"p{n}.png", huge_png()) for n in range(4)])
    assert response.status_code == 422
    assert "megapixels together" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Auction)) == 0


def test_a_heic_listing_goes_through_the_form(app, make_user):
    client = app.test_client()
    sign_in(client, make_user("Seller"))
    response = post_listing(client, [("IMG_0001.HEIC", heic_bytes())])
    assert response.status_code == 303


def _rss_mb() -> float:
    with open("/proc/self/status") as status:
        return int(re.search(r"VmRSS:\s+(\d+)", status.read()).group(1)) / 1024


def test_a_storm_of_maximal_listings_keeps_the_site_up_and_memory_returns(make_app, make_user):
    app = make_app()
    sellers = [make_user(f"Seller {n}") for n in range(4)]
    photos = [huge_png()] * 3  # 119 MP: just within the budget
    with run_server(app) as base_url:
        clients = []
        for seller in sellers:
            flask_client = app.test_client()
            sign_in(flask_client, seller)
            cookie = flask_client.get_cookie("session").value
            form_page = httpx.get(f"{base_url}/auctions/new", cookies={"session": cookie})
            token = json.loads(re.search(r"hx-headers='([^']*)'", form_page.text).group(1))["X-CSRFToken"]
            client = httpx.Client(base_url=base_url, cookies={"session": form_page.cookies.get("session") or cookie}, timeout=120)
            clients.append((client, token))
        httpx.get(f"{base_url}/healthz")
        before = _rss_mb()

        def list_one(pair):
            client, token = pair
            files = [("photos", (f"p{n}.png", data, "image/png")) for n, data in enumerate(photos)]
            return client.post("/auctions/new", data={**listing_fields(), "csrf_token": token}, files=files)

        worst = 0.0
        with ThreadPoolExecutor(4) as storm:
            results = [storm.submit(list_one, pair) for pair in clients]
            while not all(result.done() for result in results):
                started = time.monotonic()
                assert httpx.get(f"{base_url}/healthz", timeout=10).status_code == 200
                worst = max(worst, time.monotonic() - started)
                time.sleep(0.2)
        statuses = sorted(result.result().status_code for result in results)
        after = _rss_mb()
        for client, _ in clients:
            client.close()
    print(f"storm: /healthz worst {worst:.2f} s; RSS {before:.0f} MB before, {after:.0f} MB after; statuses {statuses}")
    assert worst < 2
    assert after - before < 150
    assert 303 in statuses  # the pool worked through what it took
    assert set(statuses) <= {303, 422}  # the rest: a "busy, try again" error on the kept form

"""Web push against a real local push service (an HTTP server on a random port): the browser's
subscription stored from /settings, a real outbid delivered once, signed with VAPID (RFC 8292)
and encrypted with aes128gcm (RFC 8291) so only the test's subscription key can read it; a 410
forgets the browser; preferences and quiet hours hold it back; a restart repeats nothing."""

from __future__ import annotations

import base64
import json
import os
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import http_ece
import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from sqlalchemy import select, update

from auction.extensions import db
from auction.models import OutboxMessage, PushSubscription, utcnow
from auction.services import bidding, notifications, push
from tests.conftest import page, sign_in
from tests.support.bidding_helpers import give_stars, new_auction

SITE = "https://auction.example"
CONTACT = "mailto:ops@auction.example"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class PushService:
    """A push service on 127.0.0.1: keeps each POST (path, headers, body), answers `status`."""

    def __init__(self) -> None:
        self.received: list[tuple[str, dict, bytes]] = []
        self.status = 201
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                service.received.append((self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(service.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Browser:
    """A browser's side of a subscription: its P-256 key pair and auth secret (RFC 8291 §2)."""

    def __init__(self, service: PushService, name: str = "phone") -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.auth = os.urandom(16)
        self.endpoint = f"{service.origin}/push/{name}"
        point = self.key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
        self.json = {"endpoint": self.endpoint, "expirationTime": None, "keys": {"p256dh": b64url(point), "auth": b64url(self.auth)}}

    def read(self, headers: dict, body: bytes) -> dict:
        assert headers["content-encoding"] == "aes128gcm"
        return json.loads(http_ece.decrypt(body, private_key=self.key, auth_secret=self.auth, version="aes128gcm"))


def check_vapid(headers: dict, public_key: str, origin: str) -> dict:
    """RFC 8292: `vapid t=<JWT>, k=<key>`; the JWT is ES256 by that key, aud the push service's origin."""
    scheme, _, params = headers["authorization"].partition(" ")
    assert scheme == "vapid"
    fields = dict(part.strip().split("=", 1) for part in params.split(","))
    assert fields["k"] == public_key
    head, claims, signature = fields["t"].split(".")
    assert json.loads(unb64url(head)) == {"typ": "JWT", "alg": "ES256"}
    raw = unb64url(signature)
    key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(public_key))
    try:
        key.verify(encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big")),
                   f"{head}.{claims}".encode(), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        pytest.fail("the VAPID JWT is not signed by the server's key")
    claims = json.loads(unb64url(claims))
    assert claims["aud"] == origin and claims["sub"] == CONTACT and claims["exp"] > time.time()
    return claims


@pytest.fixture
def service():
    service = PushService()
    yield service
    service.close()


@pytest.fixture
def vapid():
    return push.new_key_pair()


@pytest.fixture
def push_app(make_app, vapid, service):
    return make_app(PUSH_NOTIFICATION_SERVICE_KEY=vapid[0], PUSH_CONTACT=CONTACT, PUSH_SERVICES=f"push.example,{service.origin}",
                    BASE_URL=SITE, DEV_LOGIN=False)


def call(app, fn, *args, **kwargs):
    with app.app_context():
        result = fn(*args, **kwargs)
        db.session.remove()
        return result


def csrf(client) -> str:
    return json.loads(page(client.get("/settings")).body["hx-headers"])["X-CSRFToken"]


def subscribe(client, user_id: int, browser: Browser) -> None:
    """Turn push on from /settings as push.js does: the subscription's JSON with the CSRF header."""
    sign_in(client, user_id)
    response = client.post("/settings/push", json=browser.json, headers={"X-CSRFToken": csrf(client),
                           "User-Agent": "Mozilla/5.0 (Android 14) Gecko Firefox/130.0"})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.json["message"] in ("Push is on for this browser.", "Push в этом браузере включён.")  # the person's language


def outbid(app, seller: int, victim: int, rival: int, title: str = "Lamp") -> int:
    """`rival` outbids `victim` on a new auction (their first-bid badges stay off push: these tests count pushes)."""
    with app.app_context():
        for user_id in (victim, rival):
            notifications.set_preference(user_id, "achievement", "push", False)
        db.session.remove()
    give_stars(app, victim, 1_000)
    give_stars(app, rival, 1_000)
    auction_id = new_auction(app, seller, title=title)
    call(app, bidding.place_bid, auction_id, victim, 100)
    call(app, bidding.place_bid, auction_id, rival, 200)
    return auction_id


def push_rows(app, kind: str | None = None) -> list[OutboxMessage]:
    """The push rows of the outbox, oldest first (of one kind, or all but badges: a first bid earns one)."""
    with app.app_context():
        query = select(OutboxMessage).where(OutboxMessage.channel == "push").order_by(OutboxMessage.id)
        query = query.where(OutboxMessage.kind == kind) if kind else query.where(OutboxMessage.kind != "achievement")
        rows = list(db.session.scalars(query))
        db.session.expunge_all()
        return rows


def test_an_outbid_is_pushed_once_signed_and_encrypted_in_the_persons_language(push_app, make_user, service, vapid):
    seller, alice, bob = make_user("Sam"), make_user("Алиса", language_code="ru"), make_user("Bob")
    browser = Browser(service)
    client = push_app.test_client()
    subscribe(client, alice, browser)
    settings = page(client.get("/settings"))
    assert "Firefox / Android" in settings.select_one("[data-testid=push-browsers]").text
    assert settings.select_one("#push-settings")["data-push-key"] == vapid[1]
    assert "Push" in [th.text for th in settings.select("table.preferences thead th")]

    auction_id = outbid(push_app, seller, alice, bob)
    assert call(push_app, push.send_due_pushes) == 1
    assert call(push_app, push.send_due_pushes) == 0  # sent once
    (path, headers, body), = service.received
    assert path == "/push/phone"
    check_vapid(headers, vapid[1], service.origin)
    assert int(headers["ttl"]) > 0
    message = browser.read(headers, body)
    assert "перебили" in message["body"] and "Lamp" in message["body"]
    assert message["url"] == f"{SITE}/auctions/{auction_id}"
    assert message["tag"] == f"outbid-{auction_id}"
    assert message["title"]  # the kind's name, in Russian too
    assert body.find(b"Lamp") == -1  # encrypted: the push service cannot read it


def test_a_bidding_war_replaces_its_push_instead_of_stacking(push_app, make_user, service):
    seller, alice, bob = make_user("Sam"), make_user("Alice"), make_user("Bob")
    browser = Browser(service)
    subscribe(push_app.test_client(), alice, browser)
    auction_id = outbid(push_app, seller, alice, bob)
    call(push_app, bidding.place_bid, auction_id, alice, 300)
    call(push_app, bidding.place_bid, auction_id, bob, 400)
    call(push_app, bidding.place_bid, auction_id, alice, 500)
    call(push_app, bidding.place_bid, auction_id, bob, 600)
    assert call(push_app, push.send_due_pushes) == 1  # the first at once; the rest wait for the minute's end
    with push_app.app_context():  # the minute passes
        db.session.execute(update(OutboxMessage).where(OutboxMessage.kind == "outbid").values(next_attempt_at=utcnow()))
        db.session.commit()
    assert call(push_app, push.send_due_pushes) == 1
    first, digest = (browser.read(headers, body) for _, headers, body in service.received)
    assert first["tag"] == digest["tag"] == f"outbid-{auction_id}"
    assert "Outbid 3 times" in digest["body"] and "510" in digest["body"]  # proxy bidding: 500 + one step


def test_a_410_forgets_the_browser_and_a_server_error_is_retried(push_app, make_user, service):
    seller, alice, bob = make_user("Sam"), make_user("Alice"), make_user("Bob")
    subscribe(push_app.test_client(), alice, Browser(service))
    service.status = 500
    auction_id = outbid(push_app, seller, alice, bob)
    assert call(push_app, push.send_due_pushes) == 0
    (row,) = push_rows(push_app)
    assert (row.status, row.attempts) == ("pending", 1) and row.next_attempt_at > utcnow()  # backs off, no storm
    assert call(push_app, push.send_due_pushes) == 0 and len(service.received) == 1  # not due yet

    service.status = 410
    with push_app.app_context():
        db.session.execute(update(OutboxMessage).where(OutboxMessage.id == row.id).values(next_attempt_at=utcnow()))
        db.session.commit()
    assert call(push_app, push.send_due_pushes) == 0
    assert push_rows(push_app)[0].status == "failed"
    with push_app.app_context():
        assert db.session.scalar(select(PushSubscription)) is None
    call(push_app, bidding.place_bid, auction_id, alice, 300)
    call(push_app, notifications.notify, alice, "payment_refunded", amount=5, available=0)
    assert len(push_rows(push_app)) == 1  # no browser left: nothing more is queued


def test_a_kind_turned_off_or_quiet_hours_send_nothing(push_app, make_user, service):
    seller, alice, bob = make_user("Sam"), make_user("Alice", timezone="UTC"), make_user("Bob")
    client = push_app.test_client()
    subscribe(client, alice, Browser(service))
    token = csrf(client)
    response = client.post("/settings/notifications", data={"kind": "outbid", "channel": "push", "enabled": "0", "csrf_token": token})
    assert response.status_code == 303
    auction_id = outbid(push_app, seller, alice, bob)
    assert push_rows(push_app) == []

    now = utcnow()
    call(push_app, notifications.set_quiet_hours, alice, (now - timedelta(hours=1)).strftime("%H:%M"), (now + timedelta(hours=2)).strftime("%H:%M"))
    call(push_app, notifications.notify, alice, "auction_won", auction=None, title="Lamp", price=600)
    (held,) = push_rows(push_app)
    assert held.next_attempt_at > now + timedelta(minutes=90)  # waits for the end of quiet hours
    assert call(push_app, push.send_due_pushes) == 0 and service.received == []
    assert auction_id


def test_exactly_once_across_a_restart(push_app, make_app, make_user, service, vapid):
    seller, alice, bob = make_user("Sam"), make_user("Alice"), make_user("Bob")
    subscribe(push_app.test_client(), alice, Browser(service))
    outbid(push_app, seller, alice, bob)
    with push_app.app_context():  # the process dies right after claiming the row, before the request
        row_id = db.session.scalar(select(OutboxMessage.id).where(OutboxMessage.channel == "push", OutboxMessage.kind == "outbid"))
        from auction.services import outbox

        assert outbox.claim_message(row_id, channel="push") is not None
        db.session.remove()
    restarted = make_app(create_schema=False, PUSH_NOTIFICATION_SERVICE_KEY=vapid[0], PUSH_CONTACT=CONTACT, BASE_URL=SITE, DEV_LOGIN=False)
    assert call(restarted, push.send_due_pushes) == 0  # an unknown outcome is never repeated
    call(restarted, notifications.notify, alice, "payment_refunded", amount=5, available=0)
    assert call(restarted, push.send_due_pushes) == 1
    again = make_app(create_schema=False, PUSH_NOTIFICATION_SERVICE_KEY=vapid[0], PUSH_CONTACT=CONTACT, BASE_URL=SITE, DEV_LOGIN=False)
    assert call(again, push.send_due_pushes) == 0
    assert len(service.received) == 1


def test_subscribe_and_unsubscribe_refuse_bad_input_with_a_message(push_app, make_app, make_user, service):
    alice = make_user("Alice")
    client = push_app.test_client()
    sign_in(client, alice)
    token = csrf(client)
    good = Browser(service).json
    bad = [
        None,
        [],
        {"endpoint": good["endpoint"]},
        {**good, "keys": {"p256dh": "not-a-key", "auth": good["keys"]["auth"]}},
        {**good, "keys": {"p256dh": good["keys"]["p256dh"], "auth": b64url(b"short")}},
        {**good, "endpoint": "http://push.example/abc"},  # push services speak https
        {**good, "endpoint": "https://10.0.0.7/push/abc"},  # not a push service: an internal address
        {**good, "endpoint": "https://push.example.evil.org/abc"},
        {**good, "endpoint": "http://127.0.0.1:6379/"},  # another port of this machine
        {**good, "endpoint": "https://" + "x" * 2000 + ".example/"},
        {**good, "keys": {"p256dh": 5, "auth": None}},
    ]
    for body in bad:
        response = client.post("/settings/push", json=body, headers={"X-CSRFToken": token})
        assert response.status_code == 400, body
        assert "push subscription we cannot use" in response.json["error"]
    assert client.post("/settings/push", data="{", content_type="application/json", headers={"X-CSRFToken": token}).status_code == 400
    assert client.post("/settings/push", json=good).status_code == 400  # no CSRF token
    assert client.post("/settings/push/remove", json={}, headers={"X-CSRFToken": token}).status_code == 400

    subdomain = {**good, "endpoint": "https://eu-1.push.example/abc"}  # a listed service's own host
    assert client.post("/settings/push", json=subdomain, headers={"X-CSRFToken": token}).status_code == 200
    assert client.post("/settings/push/remove", json=subdomain, headers={"X-CSRFToken": token}).status_code == 200
    assert client.post("/settings/push", json=good, headers={"X-CSRFToken": token}).status_code == 200
    assert client.post("/settings/push", json=good, headers={"X-CSRFToken": token}).status_code == 200  # again: one row
    with push_app.app_context():
        assert db.session.scalar(select(PushSubscription.user_id)) == alice
        assert notifications.preferences(alice)[0].channels["push"] is True
    removed = client.post("/settings/push/remove", json={"endpoint": good["endpoint"]}, headers={"X-CSRFToken": token})
    assert removed.status_code == 200 and removed.json["message"] == "Push is off for this browser."
    settings = page(client.get("/settings"))
    assert settings.select_one("[data-testid=push-browsers]") is None
    assert "need JavaScript" in settings.select_one("#push-settings noscript").text
    with push_app.app_context():
        assert notifications.preferences(alice)[0].channels["push"] is False  # off again until a browser subscribes

    client.post("/settings/push", json=good, headers={"X-CSRFToken": token})
    for n in range(push.MAX_BROWSERS + 1):  # a person keeps their newest browsers, not an endless list
        other = {**good, "endpoint": f"{service.origin}/push/browser-{n}"}
        assert client.post("/settings/push", json=other, headers={"X-CSRFToken": token}).status_code == 200
    with push_app.app_context():
        endpoints = set(db.session.scalars(select(PushSubscription.endpoint)))
        assert len(endpoints) == push.MAX_BROWSERS and good["endpoint"] not in endpoints
        assert f"{service.origin}/push/browser-{push.MAX_BROWSERS}" in endpoints

    off = make_app(create_schema=False, PUSH_NOTIFICATION_SERVICE_KEY="", BASE_URL=SITE, DEV_LOGIN=False).test_client()
    sign_in(off, alice)
    refused = off.post("/settings/push", json=good, headers={"X-CSRFToken": csrf(off)})
    assert refused.status_code == 409 and "not set up" in refused.json["error"]
    settings = page(off.get("/settings"))
    assert "not set up on this server" in settings.select_one("#push-settings").text
    assert "Push" not in [th.text for th in settings.select("table.preferences thead th")]


def test_the_service_worker_and_the_keys_command(push_app, vapid):
    worker = push_app.test_client().get("/sw.js")
    assert worker.status_code == 200 and worker.headers["Service-Worker-Allowed"] == "/"
    assert "javascript" in worker.headers["Content-Type"]
    assert b"showNotification" in worker.data and b"notificationclick" in worker.data
    icon = worker.data.decode().split('icon: "')[1].split('"')[0]
    assert push_app.test_client().get(icon).headers["Content-Type"] == "image/png"

    output = push_app.test_cli_runner().invoke(args=["push", "keys"]).output
    private = output.split("PUSH_NOTIFICATION_SERVICE_KEY=")[1].split()[0]
    assert push.public_key(private) in output
    assert push.public_key(vapid[0]) == vapid[1]
    assert len(unb64url(vapid[1])) == 65 and urlsplit(SITE).scheme == "https"

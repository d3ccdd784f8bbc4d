"""Web push: browsers a person subscribed, VAPID keys, and sending notifications through the outbox.

A browser subscribes with the Push API (RFC 8030 endpoint, RFC 8291 `p256dh`/`auth` keys);
`subscribe` stores it for the person. `notifications.notify` queues one outbox row (channel
"push") per subscribed browser, honouring the person's preferences, quiet hours and digest
like email; `send_due_pushes` (a scheduler job) encrypts each (`aes128gcm`, RFC 8188) and
POSTs it with a VAPID header (RFC 8292) signed by `PUSH_NOTIFICATION_SERVICE_KEY`, through
pywebpush. A push service answering 404 or 410 has dropped the subscription: it is deleted.
Other refusals back off with the outbox's rule (`outbox.record_failure`, at most
MAX_ATTEMPTS); a request whose outcome is unknown (a timeout after it was sent) is not
repeated. Payload (JSON): {"title", "body", "url", "tag"}; the same `tag` makes a browser
replace an earlier notification (a digest) instead of stacking another.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from flask import current_app
from flask_babel import lazy_gettext as _l
from py_vapid import Vapid
from pywebpush import WebPushException, webpush
from sqlalchemy import delete, func, select

from auction.extensions import db
from auction.models import OutboxMessage, PushSubscription, utcnow
from auction.services import outbox
from auction.services.errors import ServiceError
from auction.services.transaction import OUTBOX_QUEUED, atomic

log = logging.getLogger("auction.push")

GONE = (404, 410)  # RFC 8030 §7.3: the subscription expired or was removed
TTL_SECONDS = 12 * 3600  # how long a push service keeps a message for an offline browser
TIMEOUT_SECONDS = 10
MAX_ENDPOINT = 1024
MAX_LABEL = 80
MAX_BROWSERS = 10  # per person; a new one beyond this replaces their oldest (each notification goes to every one)


class PushOff(ServiceError):
    message = _l("Push notifications are not set up on this server.")
    status = 409


class InvalidSubscription(ServiceError):
    message = _l("This browser sent a push subscription we cannot use. Turn push off and on again, or try another browser.")
    status = 400


def enabled() -> bool:
    """Whether this server can send web push (PUSH_NOTIFICATION_SERVICE_KEY is set)."""
    return bool(current_app.config.get("PUSH_NOTIFICATION_SERVICE_KEY"))


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _raw_public(key: ec.EllipticCurvePublicKey) -> str:
    return _b64url(key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint))


def public_key(private_key: str) -> str:
    """The browser's `applicationServerKey`: the uncompressed P-256 point of the VAPID key, base64url.

    `private_key` is the base64url raw (32-byte) or DER key in PUSH_NOTIFICATION_SERVICE_KEY.
    Raises ValueError for a key that does not parse.
    """
    try:
        return _raw_public(Vapid.from_string(private_key).public_key)
    except Exception as error:  # py_vapid raises several kinds for a malformed key
        raise ValueError("PUSH_NOTIFICATION_SERVICE_KEY is not a VAPID private key (see `flask push keys`)") from error


def new_key_pair() -> tuple[str, str]:
    """A fresh VAPID key pair: (private key for .env, public key), both base64url (RFC 8292 §3.2)."""
    key = ec.generate_private_key(ec.SECP256R1())
    raw = key.private_numbers().private_value.to_bytes(32, "big")
    return _b64url(raw), _raw_public(key.public_key())


def push_services(setting: str) -> tuple[str, ...]:
    """PUSH_SERVICES as a tuple: host names (a subdomain matches too) or whole origins."""
    return tuple(part.strip().lower().rstrip("/") for part in setting.split(",") if part.strip())


def _valid_endpoint(endpoint: str, services: tuple[str, ...]) -> bool:
    """An endpoint of a known push service: the server POSTs to it, so no address of the
    person's choosing (an internal host) is accepted. `services` lists https host names (and
    their subdomains) or whole origins (`http://127.0.0.1:8089`, a push service for tests)."""
    parts = urlsplit(endpoint)
    if not parts.hostname or len(endpoint) > MAX_ENDPOINT or parts.username or parts.password or parts.scheme not in ("https", "http"):
        return False
    origin = f"{parts.scheme}://{parts.netloc}".lower()
    host = parts.hostname.lower()
    for service in services:
        if "://" in service:
            if origin == service:
                return True
        elif parts.scheme == "https" and (host == service or host.endswith("." + service)):
            return True
    return False


def _valid_keys(p256dh: str, auth: str) -> bool:
    try:
        point, secret = _b64url_decode(p256dh), _b64url_decode(auth)
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
    except (binascii.Error, ValueError, TypeError):
        return False
    return len(point) == 65 and len(secret) == 16


def browser_label(user_agent: str | None) -> str:
    """A short name for a browser from its User-Agent ("Firefox on Android")."""
    agent = user_agent or ""
    browser = next((name for token, name in (("Edg/", "Edge"), ("OPR/", "Opera"), ("Firefox/", "Firefox"), ("Chrome/", "Chrome"),
                                             ("Safari/", "Safari")) if token in agent), "")
    system = next((name for token, name in (("Android", "Android"), ("iPhone", "iOS"), ("iPad", "iOS"), ("Windows", "Windows"),
                                            ("Mac OS X", "macOS"), ("Linux", "Linux")) if token in agent), "")
    return " / ".join(part for part in (browser, system) if part)[:MAX_LABEL]


@atomic
def subscribe(user_id: int, endpoint: str, p256dh: str, auth: str, user_agent: str | None = None) -> int:
    """Store a browser's push subscription for `user_id`; returns its id.

    The same endpoint again (the page re-sent it, or another account signs in on that browser)
    updates the one row: a browser belongs to whoever subscribed it last. A person keeps their
    MAX_BROWSERS newest browsers. Raises PushOff when
    the server has no VAPID key and InvalidSubscription for an endpoint that is not one of
    PUSH_SERVICES, or keys that are not a P-256 point and a 16-byte secret.
    """
    if not enabled():
        raise PushOff()
    endpoint, p256dh, auth = (str(value or "").strip() for value in (endpoint, p256dh, auth))
    services = push_services(current_app.config.get("PUSH_SERVICES", ""))
    if not _valid_endpoint(endpoint, services) or not _valid_keys(p256dh, auth):
        raise InvalidSubscription()
    row = db.session.scalar(select(PushSubscription).where(PushSubscription.endpoint == endpoint))
    if row is None:
        row = PushSubscription(endpoint=endpoint, created_at=utcnow())
        db.session.add(row)
    row.user_id, row.p256dh, row.auth, row.label = user_id, p256dh, auth, browser_label(user_agent)
    db.session.flush()
    kept = select(PushSubscription.id).where(PushSubscription.user_id == user_id).order_by(PushSubscription.id.desc()).limit(MAX_BROWSERS)
    db.session.execute(delete(PushSubscription).where(PushSubscription.user_id == user_id, PushSubscription.id.not_in(kept.scalar_subquery())))
    return row.id


@atomic
def unsubscribe(user_id: int, endpoint: str) -> bool:
    """Forget the person's subscription for `endpoint`; returns whether there was one."""
    result = db.session.execute(
        delete(PushSubscription).where(PushSubscription.user_id == user_id, PushSubscription.endpoint == str(endpoint or "").strip())
    )
    return bool(result.rowcount)


@dataclass(frozen=True)
class BrowserView:
    id: int
    label: str
    created_at: datetime


def browsers(user_id: int) -> list[BrowserView]:
    """The person's subscribed browsers, oldest first (for /settings)."""
    rows = db.session.scalars(select(PushSubscription).where(PushSubscription.user_id == user_id).order_by(PushSubscription.id))
    return [BrowserView(row.id, row.label, row.created_at) for row in rows]


def has_browser(user_id: int) -> bool:
    """Whether the person subscribed at least one browser (push defaults on only then)."""
    return bool(db.session.scalar(select(func.count(PushSubscription.id)).where(PushSubscription.user_id == user_id)))


def subscription_ids(user_id: int) -> list[int]:
    return list(db.session.scalars(select(PushSubscription.id).where(PushSubscription.user_id == user_id).order_by(PushSubscription.id)))


def queue_push(user_id: int, subscription_id: int, kind: str, message: dict, dedupe_key: str, not_before: datetime | None = None) -> None:
    """Write (or, while it waits, refresh) one push row for one browser in the current transaction.

    `message` is the payload {"title", "body", "url", "tag"}; a pending row with the same
    `dedupe_key` (a digest still inside its minute) gets the newer message instead.
    """
    pending = db.session.scalar(select(OutboxMessage).where(OutboxMessage.dedupe_key == dedupe_key))
    payload = {"subscription_id": subscription_id, **message}
    if pending is not None:
        if pending.status == "pending":
            pending.payload = payload
        return
    now = utcnow()
    db.session.add(OutboxMessage(
        channel="push", user_id=user_id, chat_id=None, kind=kind, payload=payload, dedupe_key=dedupe_key,
        status="pending", attempts=0, next_attempt_at=max(not_before or now, now),
    ))
    db.session.flush()
    db.session.info[OUTBOX_QUEUED] = True


# -- sending ---------------------------------------------------------------------------------


def due_push_ids(limit: int = 50) -> list[int]:
    query = (
        select(OutboxMessage.id)
        .where(OutboxMessage.channel == "push", OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= utcnow())
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
    )
    return list(db.session.scalars(query))


@atomic
def _forget(subscription_id: int) -> None:
    db.session.execute(delete(PushSubscription).where(PushSubscription.id == subscription_id))


def _subscription_info(subscription_id: int) -> dict | None:
    row = db.session.get(PushSubscription, subscription_id)
    if row is None:
        return None
    info = {"endpoint": row.endpoint, "keys": {"p256dh": row.p256dh, "auth": row.auth}}
    db.session.rollback()  # end the read before the request
    return info


def send_due_pushes(limit: int = 50) -> int:
    """Send the push rows whose time has come; returns how many push services accepted.

    A scheduler job. Each row is claimed (`sent`, unconfirmed) before its request, so a crash
    never repeats it. 404/410 delete the browser's subscription; a refusal or a connection
    that never opened backs off (`outbox.record_failure`); a timeout after sending is not
    repeated. Nothing is claimed when the VAPID key is missing or malformed.
    """
    config = current_app.config
    if not config.get("PUSH_NOTIFICATION_SERVICE_KEY"):
        return 0
    try:
        vapid = Vapid.from_string(config["PUSH_NOTIFICATION_SERVICE_KEY"])
    except Exception as error:  # a malformed key: say so, and keep every row for a fixed config
        log.error("push: PUSH_NOTIFICATION_SERVICE_KEY does not parse: %s", error)
        return 0
    contact = config.get("PUSH_CONTACT") or config.get("BASE_URL", "")  # RFC 8292 §2.1: a mailto: or https: contact
    due = due_push_ids(limit)
    db.session.rollback()
    sent = 0
    for message_id in due:
        claimed = outbox.claim_message(message_id, channel="push")
        if claimed is None:
            continue
        subscription_id = claimed.payload.get("subscription_id")
        info = _subscription_info(subscription_id)
        if info is None:
            outbox.fail_message(message_id, "the browser unsubscribed")
            continue
        data = json.dumps({key: claimed.payload.get(key) for key in ("title", "body", "url", "tag")}, ensure_ascii=False)
        try:
            webpush(info, data=data, vapid_private_key=vapid, vapid_claims={"sub": contact},
                    ttl=TTL_SECONDS, timeout=TIMEOUT_SECONDS)
        except WebPushException as error:
            status = error.response.status_code if error.response is not None else None
            if status in GONE:
                _forget(subscription_id)
                outbox.fail_message(message_id, f"{status}: the push service dropped the subscription")
            else:
                outbox.record_failure(message_id, f"{status}: {error}")
        except requests.ConnectionError as error:  # never reached the push service (or it hung up before answering)
            outbox.record_failure(message_id, f"cannot reach the push service: {error}")
        except requests.RequestException as error:
            outbox.fail_message(message_id, f"outcome unknown: {error}")
        else:
            outbox.mark_delivered(message_id)
            sent += 1
    return sent

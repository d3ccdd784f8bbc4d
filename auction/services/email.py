"""Email: a confirmed address per person, notifications by SMTP through the outbox, one-click unsubscribe.

An address is added unconfirmed and a signed link (itsdangerous, EMAIL_CONFIRM_HOURS) is mailed
to it; only a confirmed address gets notifications. Every notification email carries RFC 8058
`List-Unsubscribe` / `List-Unsubscribe-Post: List-Unsubscribe=One-Click` headers and a link that
turn that kind's emails off. Rows wait in the outbox (channel "email") and `send_due_emails`
(a scheduler job) sends them AT MOST ONCE, like Telegram rows: claimed before the SMTP
transaction, retried only when the server provably did not take the message.
"""

from __future__ import annotations

import contextlib
import logging
import re
import smtplib
import ssl
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

from flask import current_app
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select

from auction.extensions import db
from auction.models import NotificationSettings, OutboxMessage, User, utcnow
from auction.services import outbox
from auction.services.errors import ServiceError
from auction.services.insert_once import insert_once
from auction.services.transaction import OUTBOX_QUEUED, atomic

log = logging.getLogger("auction.email")

ADDRESS = re.compile(r"^[^@\s<>\"',;]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?)+$")
SMTP_TIMEOUT_SECONDS = 20


class InvalidAddress(ServiceError):
    message = _l("That does not look like an email address.")


class BadLink(ServiceError):
    message = _l("This link is not valid. Ask for a new one from the settings page.")


class ExpiredLink(ServiceError):
    message = _l("This link has expired. Ask for a new one from the settings page.")


class EmailOff(ServiceError):
    message = _l("Email is not set up on this server.")
    status = 409


def enabled() -> bool:
    """Whether this server can send email (SMTP_URL is set)."""
    return bool(current_app.config.get("SMTP_URL"))


def _serializer(salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt)


def site_url(path: str, **query) -> str:
    base = current_app.config.get("BASE_URL", "").rstrip("/")
    return f"{base}{path}" + (f"?{urlencode(query)}" if query else "")


def unsubscribe_url(user_id: int, kind: str) -> str:
    """The signed one-click link that turns `kind` emails off for `user_id` (it never expires)."""
    return site_url("/unsubscribe", token=_serializer("unsubscribe").dumps({"u": user_id, "k": kind}))


def read_unsubscribe(token: str) -> tuple[int, str]:
    """(user id, kind) from an unsubscribe token; raises BadLink."""
    try:
        data = _serializer("unsubscribe").loads(token)
        return int(data["u"]), str(data["k"])
    except (BadSignature, KeyError, TypeError, ValueError):
        raise BadLink() from None


@dataclass(frozen=True)
class EmailState:
    address: str | None
    confirmed: bool


def email_state(user_id: int) -> EmailState:
    settings = db.session.get(NotificationSettings, user_id)
    if settings is None or not settings.email:
        return EmailState(None, False)
    return EmailState(settings.email, settings.email_confirmed_at is not None)


def confirmed(settings: NotificationSettings | None) -> str | None:
    """The confirmed address in a person's settings row (None when absent or not confirmed)."""
    return settings.email if settings is not None and settings.email_confirmed_at is not None else None


def _message_payload(user: User, to: str, template: str, subject: str, unsubscribe: str | None = None, **context) -> dict:
    """Subject, plain text and HTML from one template pair, in the recipient's language."""
    lang = outbox.recipient_locale(user)
    env = current_app.jinja_env  # rendered directly: jobs have no request for context processors
    with force_locale(lang):
        subject = str(subject)
        text = env.get_template(f"emails/{template}.txt").render(subject=subject, unsubscribe=unsubscribe, lang=lang, **context)
        html = env.get_template(f"emails/{template}.html").render(subject=subject, unsubscribe=unsubscribe, lang=lang, **context)
    headers = {}
    if unsubscribe:
        headers = {"List-Unsubscribe": f"<{unsubscribe}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
    return {"to": to, "subject": subject, "text": text, "html": html, "headers": headers}


def queue_email(user_id: int, kind: str, payload: dict, dedupe_key: str | None, not_before=None) -> int | None:
    """Write an email row to the outbox in the current transaction (None when the key was used,
    by this or a concurrent transaction: ON CONFLICT DO NOTHING)."""
    values = outbox.message_row("email", user_id, None, kind, payload, dedupe_key, not_before)
    row_id = db.session.scalar(insert_once(OutboxMessage, "dedupe_key").values(**values).returning(OutboxMessage.id))
    if row_id is not None:
        db.session.info[OUTBOX_QUEUED] = True
    return row_id


def notification_payload(user: User, to: str, kind: str, label, text, url: str | None) -> dict:
    """The email for one notification of `kind` (named by the lazy `label`): its text as subject and body, a link, the unsubscribe."""
    with force_locale(outbox.recipient_locale(user)):
        label = str(label)
        body = str(text)
    return _message_payload(
        user, to, "notification", subject=body if len(body) <= 120 else label, unsubscribe=unsubscribe_url(user.id, kind),
        text=body, label=label, url=site_url(url) if url else site_url("/notifications"), settings_url=site_url("/settings"),
    )


@atomic
def request_confirmation(user_id: int, address: str) -> str:
    """Store `address` unconfirmed and mail it a confirmation link; returns the address.

    Raises InvalidAddress for something that is not an address and EmailOff when SMTP is not set up.
    """
    address = (address or "").strip()
    if len(address) > 254 or not ADDRESS.match(address):
        raise InvalidAddress()
    if not enabled():
        raise EmailOff()
    user = db.session.get(User, user_id)
    settings = db.session.get(NotificationSettings, user_id) or NotificationSettings(user_id=user_id, reminder_minutes="60,10")
    settings.email, settings.email_confirmed_at = address, None
    db.session.add(settings)
    token = _serializer("email-confirm").dumps({"u": user_id, "e": address})
    hours = current_app.config.get("EMAIL_CONFIRM_HOURS", 48)
    with force_locale(outbox.recipient_locale(user)):
        subject = str(_l("Confirm your email address for Bot-Auction"))
    payload = _message_payload(user, address, "confirm", subject, link=site_url("/settings/email/confirm", token=token), hours=hours)
    queue_email(user_id, "email_confirm", payload, dedupe_key=None)
    return address


@atomic
def confirm(token: str) -> int:
    """Confirm the address a link was sent to; returns the user id. Raises BadLink or ExpiredLink."""
    hours = current_app.config.get("EMAIL_CONFIRM_HOURS", 48)
    try:
        data = _serializer("email-confirm").loads(token, max_age=int(timedelta(hours=hours).total_seconds()))
        user_id, address = int(data["u"]), str(data["e"])
    except SignatureExpired:
        raise ExpiredLink() from None
    except (BadSignature, KeyError, TypeError, ValueError):
        raise BadLink() from None
    settings = db.session.get(NotificationSettings, user_id)
    if settings is None or settings.email != address:
        raise BadLink()  # the person changed the address since: only the newest link counts
    if settings.email_confirmed_at is None:
        settings.email_confirmed_at = utcnow()
    return user_id


@atomic
def remove_address(user_id: int) -> None:
    """Forget the person's address; no more emails."""
    settings = db.session.get(NotificationSettings, user_id)
    if settings is not None:
        settings.email, settings.email_confirmed_at = None, None


# -- sending ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    username: str | None
    password: str | None
    tls: bool  # smtps:// (TLS from the first byte)
    starttls: bool


def smtp_server(url: str, api_key: str | None = None) -> SmtpServer:
    """Read `smtp://user:pass@host:587?starttls=1` (or smtps://); `api_key` is the password when the URL has none."""
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ValueError("SMTP_URL must look like smtp://user:password@host:587?starttls=1")
    query = parse_qs(parts.query)
    tls = parts.scheme == "smtps"
    username = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password else (api_key or None)
    return SmtpServer(
        host=parts.hostname,
        port=parts.port or (465 if tls else 587),
        username=username,
        password=password if username else None,
        tls=tls,
        starttls=query.get("starttls", ["0"])[0] in ("1", "true", "yes"),
    )


def _email_message(payload: dict, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = payload["to"]
    message["Subject"] = payload["subject"]
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2].strip(">") or None)
    for name, value in (payload.get("headers") or {}).items():
        message[name] = value
    message.set_content(payload["text"])
    message.add_alternative(payload["html"], subtype="html")
    return message


def _connect(server: SmtpServer) -> smtplib.SMTP:
    if server.tls:
        client = smtplib.SMTP_SSL(server.host, server.port, timeout=SMTP_TIMEOUT_SECONDS, context=ssl.create_default_context())
    else:
        client = smtplib.SMTP(server.host, server.port, timeout=SMTP_TIMEOUT_SECONDS)
    if server.starttls:
        client.starttls(context=ssl.create_default_context())
    if server.username:
        client.login(server.username, server.password or "")
    return client


def due_email_ids(limit: int = 50) -> list[int]:
    query = (
        select(OutboxMessage.id)
        .where(OutboxMessage.channel == "email", OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= utcnow())
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
    )
    return list(db.session.scalars(query))


def send_due_emails(limit: int = 50) -> int:
    """Send the email rows whose time has come over one SMTP connection; returns how many went out.

    A scheduler job. A row is claimed (`sent`, unconfirmed) before its SMTP transaction: a crash
    mid-send never repeats it. A failure to connect, or a refusal, provably sent nothing and is
    retried with the outbox's back-off; anything after the data went out is not retried.
    """
    config = current_app.config
    if not config.get("SMTP_URL"):
        return 0
    due = due_email_ids(limit)
    db.session.rollback()  # end the read before the writes
    if not due:
        return 0
    server = smtp_server(config["SMTP_URL"], config.get("EMAIL_SERVICE_API_KEY"))
    sender = config.get("MAIL_FROM") or f"Bot-Auction <noreply@{server.host}>"
    try:
        client = _connect(server)
    except (OSError, smtplib.SMTPException) as error:
        log.warning("email: cannot reach %s:%s: %s", server.host, server.port, error)
        return 0  # nothing claimed: the rows wait for the next run
    sent = 0
    try:
        for message_id in due:
            claimed = outbox.claim_message(message_id, channel="email")
            if claimed is None:
                continue
            try:
                client.send_message(_email_message(claimed.payload, sender))
            except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused) as error:
                outbox.record_failure(message_id, f"refused: {error}")
            except (OSError, smtplib.SMTPException) as error:
                outbox.fail_message(message_id, f"outcome unknown: {error}")
                break  # the connection is in an unknown state
            else:
                outbox.mark_delivered(message_id)
                sent += 1
    finally:
        with contextlib.suppress(OSError, smtplib.SMTPException):
            client.quit()
    return sent


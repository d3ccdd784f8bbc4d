"""Email notifications against a real local SMTP server (aiosmtpd on a random port): confirmation
by a signed link, a real outbid mailed once in the person's language with RFC 8058 one-click
unsubscribe, nothing to an unconfirmed address, and an SMTP outage that loses nothing."""

from __future__ import annotations

import email
import email.policy
import socket
from urllib.parse import parse_qs, urlsplit

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from auction.extensions import db
from auction.models import OutboxMessage
from auction.services import bidding, notifications
from auction.services import email as mail
from tests.conftest import page, sign_in
from tests.support.bidding_helpers import give_stars, new_auction

SITE = "http://auction.example"


class Inbox:
    """aiosmtpd handler: keeps every message it accepts."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    inbox.url = f"smtp://127.0.0.1:{controller.port}"
    yield inbox
    controller.stop()


@pytest.fixture
def mail_app(make_app, smtp):
    return make_app(SMTP_URL=smtp.url, MAIL_FROM="Bot-Auction <noreply@auction.example>", BASE_URL=SITE, DEV_LOGIN=False)


def call(app, fn, *args, **kwargs):
    with app.app_context():
        result = fn(*args, **kwargs)
        db.session.remove()
        return result


def link_in(message, prefix: str) -> str:
    text = message.get_body(("plain",)).get_content()
    return next(word for word in text.split() if word.startswith(prefix))


def confirmed(app, client, user_id: int, smtp, address: str) -> None:
    """Add the address on /settings and open the link from the email, as a person would."""
    sign_in(client, user_id)
    token = page(client.get("/settings")).body["hx-headers"].split('"')[3]
    response = client.post("/settings/email", data={"email": address, "csrf_token": token})
    assert response.status_code == 303, response.headers.get("Location")
    assert call(app, mail.send_due_emails) == 1
    link = link_in(smtp.messages[-1], f"{SITE}/settings/email/confirm")
    path = urlsplit(link)
    confirm_page = page(client.get(f"{path.path}?{path.query}"))
    with app.app_context():
        assert mail.email_state(user_id).confirmed is False  # opening the link alone changes nothing
    form = confirm_page.select_one("main form")
    response = client.post(form["action"], data={i["name"]: i["value"] for i in form.select("input")})
    assert response.status_code == 303
    with app.app_context():
        assert mail.email_state(user_id).confirmed is True


def test_an_outbid_is_mailed_once_in_russian_with_one_click_unsubscribe(mail_app, make_user, smtp):
    seller, alice = make_user("Sam"), make_user("Алиса", language_code="ru", telegram_id=None)
    bob = make_user("Bob")
    give_stars(mail_app, alice, 1_000)
    give_stars(mail_app, bob, 1_000)
    client = mail_app.test_client()
    confirmed(mail_app, client, alice, smtp, "alice@example.org")
    assert smtp.messages[0]["To"] == "alice@example.org"
    assert "Подтвердите" in smtp.messages[0]["Subject"]

    auction_id = new_auction(mail_app, seller, title="Lamp")
    call(mail_app, bidding.place_bid, auction_id, alice, 100)
    call(mail_app, bidding.place_bid, auction_id, bob, 200)
    assert call(mail_app, mail.send_due_emails) == 1
    assert call(mail_app, mail.send_due_emails) == 0  # sent once
    message = smtp.messages[-1]
    assert message["From"] == "Bot-Auction <noreply@auction.example>"
    assert "перебили" in message["Subject"] and "Lamp" in message["Subject"]
    assert "перебили" in message.get_body(("html",)).get_content()
    assert f"{SITE}/auctions/{auction_id}" in message.get_body(("plain",)).get_content()
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe = message["List-Unsubscribe"].strip("<>")
    assert unsubscribe.startswith(f"{SITE}/unsubscribe?token=")

    # RFC 8058: the mail client POSTs to that address with no cookie and no CSRF token.
    path = urlsplit(unsubscribe)
    anonymous = mail_app.test_client()
    response = anonymous.post(f"{path.path}?{path.query}", data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200 and page(response).select_one("[data-testid=unsubscribed]")
    with mail_app.app_context():
        assert "email" not in notifications.enabled_channels(alice, "outbid")
        assert "email" in notifications.enabled_channels(alice, "auction_won")
    call(mail_app, bidding.place_bid, auction_id, alice, 300)
    call(mail_app, bidding.place_bid, auction_id, bob, 400)
    assert call(mail_app, mail.send_due_emails) == 0  # no more outbid emails
    token = parse_qs(path.query)["token"][0]
    # The signature's next-to-last character changed (the last one's low bits are padding in base64).
    forged = token[:-2] + ("y" if token[-2] == "x" else "x") + token[-1]
    assert anonymous.post("/unsubscribe", data={"token": forged}).status_code == 400


def test_nothing_goes_to_an_unconfirmed_address_and_bad_input_is_refused(mail_app, make_user, smtp):
    seller, alice, bob = make_user("Sam"), make_user("Alice"), make_user("Bob")
    give_stars(mail_app, alice, 1_000)
    give_stars(mail_app, bob, 1_000)
    client = mail_app.test_client()
    sign_in(client, alice)
    token = page(client.get("/settings")).body["hx-headers"].split('"')[3]
    wrong = page(client.post("/settings/email", data={"email": "not an address"}, headers={"HX-Request": "true", "X-CSRFToken": token}))
    assert "does not look like an email address" in wrong.select_one("[role=alert]").text
    assert wrong.select_one("input[name=email]")["value"] == "not an address"
    client.post("/settings/email", data={"email": "alice@example.org", "csrf_token": token})
    auction_id = new_auction(mail_app, seller)
    call(mail_app, bidding.place_bid, auction_id, alice, 100)
    call(mail_app, bidding.place_bid, auction_id, bob, 200)
    assert call(mail_app, mail.send_due_emails) == 1  # only the confirmation link
    assert "Confirm" in smtp.messages[0]["Subject"]
    assert client.post("/settings/email/confirm", data={"token": "garbage", "csrf_token": token}).status_code == 400


def test_an_smtp_outage_loses_nothing_and_repeats_nothing(make_app, make_user, smtp):
    closed_port = free_port()
    app = make_app(SMTP_URL=f"smtp://127.0.0.1:{closed_port}", BASE_URL=SITE, DEV_LOGIN=False)
    alice = make_user("Alice")
    with app.app_context():
        from auction.models import NotificationSettings, utcnow

        db.session.add(NotificationSettings(user_id=alice, reminder_minutes="60,10", email="a@example.org", email_confirmed_at=utcnow()))
        db.session.commit()
    call(app, notifications.notify, alice, "payment_refunded", amount=50, available=0)
    assert call(app, mail.send_due_emails) == 0  # the server is down: the row waits, unclaimed
    with app.app_context():
        row = db.session.scalar(select(OutboxMessage).where(OutboxMessage.channel == "email"))
        assert (row.status, row.attempts) == ("pending", 0)
    app.config["SMTP_URL"] = smtp.url  # the server is back (the process restarted with it)
    assert call(app, mail.send_due_emails) == 1
    assert call(app, mail.send_due_emails) == 0
    assert len(smtp.messages) == 1 and "refunded" in smtp.messages[0]["Subject"]


def test_smtp_url_forms():
    server = mail.smtp_server("smtp://apikey@mail.example:2525?starttls=1", api_key="secret")
    assert (server.host, server.port, server.username, server.password, server.starttls, server.tls) == (
        "mail.example", 2525, "apikey", "secret", True, False,
    )
    assert mail.smtp_server("smtps://u:p%40ss@mail.example").port == 465
    assert mail.smtp_server("smtps://u:p%40ss@mail.example").password == "p@ss"
    with pytest.raises(ValueError):
        mail.smtp_server("http://mail.example")

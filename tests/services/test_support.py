"""Customer support: requests on the web and in the bot, relayed to the support chat and answered from it."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from auction.extensions import db
from auction.models import OutboxMessage, SupportTicket
from auction.services import payments, support
from tests.conftest import csrf_token, page, sign_in
from tests.support.fake_telegram import bot_config, run_bot

SUPPORT_CHAT = -100_555_000_111
SITE = "https://auction.example"


def test_web_request_is_relayed_answered_and_closed(make_app, make_user):
    app = make_app(SUPPORT_CHAT_ID=str(SUPPORT_CHAT))
    person = make_user("Pia", telegram_id=600_100_001, username="pia")
    admin = make_user("Ada", is_admin=True)
    client = app.test_client()
    sign_in(client, person)
    token = csrf_token(client, "/support")

    response = client.post("/support", data={"csrf_token": token, "subject": "", "body": "My payout is late"})
    assert response.status_code == 422
    html = page(response)
    assert "Write a subject" in html.select_one("[role=alert]").get_text()
    assert html.select_one("#support-body").get_text() == "My payout is late"  # nothing typed is lost

    response = client.post("/support", data={"csrf_token": token, "subject": "Payout", "body": "My payout is late"})
    assert response.status_code == 302
    ticket_url = response.headers["Location"]
    html = page(client.get(ticket_url))
    assert "Waiting for support" in html.get_text() and "My payout is late" in html.select_one(".support-thread").get_text()
    with app.app_context():
        relay = db.session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "support_relay"))
        assert relay.chat_id == SUPPORT_CHAT and relay.user_id is None
        assert relay.payload["text"].startswith("Ticket #") and "Pia (@pia)" in relay.payload["text"]
        ticket_id = db.session.scalar(select(SupportTicket.id))

    admin_client = app.test_client()
    sign_in(admin_client, admin)
    listing = page(admin_client.get("/admin/support"))
    assert f"#{ticket_id} Payout" in listing.select_one(f"#ticket-{ticket_id}").get_text()
    admin_token = csrf_token(admin_client, "/admin/support")
    admin_client.post(f"/admin/support/{ticket_id}/answer", data={"csrf_token": admin_token, "body": "Sent today."})
    html = page(client.get(ticket_url))
    assert "Waiting for your reply" in html.get_text()
    assert "Sent today." in html.select(".support-message.from-staff")[0].get_text()
    with app.app_context():
        told = db.session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "support_answer"))
        assert "Sent today." in told.payload["text"] and told.user_id == person

    # Another person cannot read or write on it.
    stranger = app.test_client()
    sign_in(stranger, make_user("Sly"))
    assert stranger.get(ticket_url).status_code == 404
    assert stranger.post(ticket_url, data={"csrf_token": csrf_token(stranger, "/"), "body": "hi"}).status_code == 404

    client.post(f"{ticket_url}/close", data={"csrf_token": token})
    html = page(client.get(ticket_url))
    assert "Closed" in html.get_text() and not html.select_one("textarea")
    with app.app_context(), pytest.raises(support.TicketClosed):
        support.post_message(person, ticket_id, "again", None)


def test_bot_support_round_trip_through_the_support_chat(make_app, make_user, fake_telegram):
    admin_tg = fake_telegram.user("Ada")
    app = make_app(**bot_config(fake_telegram, BASE_URL=SITE, SUPPORT_CHAT_ID=str(SUPPORT_CHAT),
                                ADMIN_TELEGRAM_IDS=frozenset({admin_tg["id"]})))
    alice = fake_telegram.user("Alice", language_code="ru")
    mallory = fake_telegram.user("Mallory")
    group = {"id": SUPPORT_CHAT, "type": "supergroup", "title": "Support"}
    with run_bot(app):
        fake_telegram.inject_message(alice, "/support")
        assert "/support" in fake_telegram.wait_for_call("sendMessage", lambda p: str(p["chat_id"]) == str(alice["id"]))["text"]

        mark = fake_telegram.mark()
        fake_telegram.inject_message(alice, "/support Выплата не пришла\nЖду с понедельника")
        opened = fake_telegram.wait_for_call("sendMessage", lambda p: str(p["chat_id"]) == str(alice["id"]), since=mark)
        assert "Ваше обращение №1 отправлено" in opened["text"]
        relay = fake_telegram.wait_for_call("sendMessage", lambda p: str(p["chat_id"]) == str(SUPPORT_CHAT), since=mark)
        assert relay["text"].startswith("Ticket #1 · Alice") and "Subject: Выплата не пришла" in relay["text"]
        relayed = fake_telegram.last_message(SUPPORT_CHAT)

        # Not an admin: refused, the person hears nothing.
        mark = fake_telegram.mark()
        fake_telegram.inject_message(mallory, "Send me your Stars", chat=group, reply_to_message=relayed)
        refused = fake_telegram.wait_for_call("sendMessage", lambda p: str(p["chat_id"]) == str(SUPPORT_CHAT), since=mark)
        assert "Only admins" in refused["text"]

        mark = fake_telegram.mark()
        fake_telegram.inject_message(admin_tg, "Отправили сегодня, проверьте.", chat=group, reply_to_message=relayed)
        answer = fake_telegram.wait_for_call("sendMessage", lambda p: str(p["chat_id"]) == str(alice["id"]), since=mark)
        assert "Поддержка ответила" in answer["text"] and "Отправили сегодня, проверьте." in answer["text"]
        assert answer["reply_markup"]["inline_keyboard"][0][0]["url"] == f"{SITE}/support/1"
        ack = fake_telegram.wait_for_call("sendMessage", lambda p: str(p["chat_id"]) == str(SUPPORT_CHAT), since=mark)
        assert "#1" in ack["text"]
        assert not [c for c in fake_telegram.calls("sendMessage") if str(c.get("chat_id")) == str(mallory["id"])]
    with app.app_context():
        ticket = db.session.get(SupportTicket, 1)
        assert ticket.status == "answered"
        assert [(m.from_staff, m.body) for m in ticket.messages] == [
            (False, "Выплата не пришла\nЖду с понедельника"), (True, "Отправили сегодня, проверьте."),
        ]


def test_paysupport_relays_the_request_with_the_payment(make_app, make_user, fake_telegram):
    app = make_app(**bot_config(fake_telegram, BASE_URL=SITE, SUPPORT_CHAT_ID=str(SUPPORT_CHAT)))
    alice = fake_telegram.user("Alice")
    user_id = make_user("Alice", telegram_id=alice["id"])
    with app.app_context():
        purchase = payments.start_purchase(user_id, 70, "bot")
        payments.complete_payment(alice["id"], purchase.payload, 70, "XTR", "charge-support-1", "")
    with run_bot(app):
        mark = fake_telegram.mark()
        fake_telegram.inject_message(alice, "/paysupport I was charged twice")
        relay = fake_telegram.wait_for_call("sendMessage", lambda p: str(p["chat_id"]) == str(SUPPORT_CHAT), since=mark)
    assert "Payment #1: 70 XTR, paid, charge charge-support-1" in relay["text"]
    assert "I was charged twice" in relay["text"]

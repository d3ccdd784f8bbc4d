"""Notifications through the running bot (fake Bot API over real HTTP): a real outbid reaches
Telegram once with its buttons; a restart in the middle of sending loses nothing and repeats
nothing; a row held by quiet hours or a digest is not sent before its time."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from auction.extensions import db
from auction.models import OutboxMessage, utcnow
from auction.services import bidding, notifications, outbox
from tests.support.bidding_helpers import give_stars, new_auction
from tests.support.fake_telegram import bot_config, run_bot

SITE = "https://auction.example"


@pytest.fixture
def bot_app(make_app, fake_telegram):
    return make_app(**bot_config(fake_telegram, BASE_URL=SITE))


def sent_to(fake, telegram_id: int) -> list[dict]:
    return [call for call in fake.calls("sendMessage") if call["chat_id"] == telegram_id]


def test_a_restart_mid_sending_loses_nothing_and_repeats_nothing(bot_app, fake_telegram, make_user):
    alice_tg, bob_tg = fake_telegram.user("Alice"), fake_telegram.user("Bob")
    seller = make_user("Sam")
    alice = make_user("Alice", telegram_id=alice_tg["id"])
    bob = make_user("Bob", telegram_id=bob_tg["id"])
    give_stars(bot_app, alice, 1_000)
    give_stars(bot_app, bob, 1_000)
    lamp = new_auction(bot_app, seller, title="Lamp")
    vase = new_auction(bot_app, seller, title="Vase")
    with bot_app.app_context():
        bidding.place_bid(lamp, alice, 100)
        bidding.place_bid(lamp, bob, 200)  # Alice outbid on the lamp
        bidding.place_bid(vase, alice, 100)
        bidding.place_bid(vase, bob, 200)  # and on the vase
        # Alice's outbid notices (her first-bid badge is a message of its own, sent later).
        rows = list(db.session.scalars(
            select(OutboxMessage.id).where(OutboxMessage.user_id == alice, OutboxMessage.kind == "outbid").order_by(OutboxMessage.id)
        ))
        # The process died while sending the first: claimed, never confirmed.
        assert outbox.claim_message(rows[0]) is not None
        db.session.remove()
    with run_bot(bot_app):  # the restart
        fake_telegram.wait_for_call("sendMessage", lambda p: p["chat_id"] == alice_tg["id"] and "Vase" in p["text"])
    with run_bot(bot_app):  # and another: nothing is sent again
        fake_telegram.wait_for_call("getUpdates", since=fake_telegram.mark())
    outbid = [call for call in sent_to(fake_telegram, alice_tg["id"]) if "outbid" in call["text"]]
    assert [call["text"] for call in outbid] == ["You have been outbid on “Vase”: the price is now 105 ⭐."]  # the lamp's was in flight: lost, not repeated
    first = outbid[0]
    assert first["reply_markup"]["inline_keyboard"][0][0] == {"text": "Bid 110 ⭐", "callback_data": f"bid:{vase}:110"}
    with bot_app.app_context():
        assert db.session.scalar(select(OutboxMessage.status).where(OutboxMessage.id == rows[0])) == "sent"


def test_held_rows_wait_for_their_time(bot_app, fake_telegram, make_user):
    alice_tg = fake_telegram.user("Alice")
    alice = make_user("Alice", telegram_id=alice_tg["id"])
    now = utcnow()
    with bot_app.app_context():
        notifications.set_quiet_hours(alice, (now - timedelta(hours=1)).strftime("%H:%M"), (now + timedelta(hours=1)).strftime("%H:%M"))
        notifications.notify(alice, "payment_refunded", amount=50, available=0)
        db.session.remove()
    with run_bot(bot_app):
        fake_telegram.wait_for_call("getUpdates", since=fake_telegram.mark())
        fake_telegram.wait_for_call("getUpdates", since=fake_telegram.mark())
        assert sent_to(fake_telegram, alice_tg["id"]) == []  # quiet hours
        with bot_app.app_context():  # the quiet hours end
            db.session.execute(update(OutboxMessage).values(next_attempt_at=utcnow()))
            db.session.commit()
        fake_telegram.wait_for_call("sendMessage", lambda p: p["chat_id"] == alice_tg["id"], timeout=10)
    assert len(sent_to(fake_telegram, alice_tg["id"])) == 1

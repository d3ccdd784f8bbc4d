"""/profile, /achievements and the one-tap rating buttons, through the fake Bot API over real HTTP."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from auction.extensions import db
from auction.models import Rating, User
from auction.services import bidding, lifecycle
from tests.support.bidding_helpers import end_now, give_stars, new_auction
from tests.support.fake_telegram import bot_config, run_bot

SITE = "https://auction.example"


@pytest.fixture
def bot_app(make_app, fake_telegram):
    return make_app(**bot_config(fake_telegram, BASE_URL=SITE))


def to(user):
    return lambda p: str(p.get("chat_id")) == str(user["id"])


def user_id_of(app, telegram_user) -> int:
    from auction.services.users import TelegramProfile, upsert_telegram_user

    with app.app_context():
        user = upsert_telegram_user(TelegramProfile(telegram_id=telegram_user["id"], first_name=telegram_user["first_name"],
                                                    last_name=None, username=None, language_code=telegram_user.get("language_code", "en")))
        db.session.commit()
        return user.id


def sold(app, seller_id, buyer_id, price=50) -> int:
    auction_id = new_auction(app, seller_id, start_price=price, title="Leica M3")
    with app.app_context():
        bidding.place_bid(auction_id, buyer_id, price)
    end_now(app, auction_id)
    with app.app_context():
        lifecycle.close_auction(auction_id)
    return auction_id


def test_profile_and_achievements_commands(bot_app, fake_telegram):
    alice = fake_telegram.user("Alice", language_code="en")
    seller = fake_telegram.user("Sam", language_code="en")
    alice_id, seller_id = user_id_of(bot_app, alice), user_id_of(bot_app, seller)
    give_stars(bot_app, alice_id, 500)
    sold(bot_app, seller_id, alice_id)
    with run_bot(bot_app):
        mark = fake_telegram.mark()
        fake_telegram.inject_message(alice, "/profile")
        reply = fake_telegram.wait_for_call("sendMessage", lambda p: to(alice)(p) and "Badges" in p["text"], since=mark)
        mark = fake_telegram.mark()
        fake_telegram.inject_message(alice, "/achievements")
        badges = fake_telegram.wait_for_call("sendMessage", lambda p: to(alice)(p) and "Your badges" in p["text"], since=mark)
    assert reply["text"].startswith("Alice\n")
    assert reply["reply_markup"]["inline_keyboard"] == [[{"text": "Open your profile", "url": f"{SITE}/users/{alice_id}"}]]
    assert "🏆 First win — ✅" in badges["text"] and "🥇 10 wins — 1/10" in badges["text"]


def test_rating_button_rates_once_and_a_non_party_is_refused(bot_app, fake_telegram):
    alice = fake_telegram.user("Alice", language_code="en")
    seller = fake_telegram.user("Sam", language_code="ru")
    mallory = fake_telegram.user("Mallory", language_code="en")
    alice_id, seller_id = user_id_of(bot_app, alice), user_id_of(bot_app, seller)
    user_id_of(bot_app, mallory)
    give_stars(bot_app, alice_id, 500)
    auction_id = sold(bot_app, seller_id, alice_id)
    with run_bot(bot_app):
        query = fake_telegram.inject_callback_query(alice, f"rate:{auction_id}:5")["callback_query"]
        answer = fake_telegram.wait_for_call("answerCallbackQuery", lambda p: p["callback_query_id"] == query["id"])
        query = fake_telegram.inject_callback_query(mallory, f"rate:{auction_id}:1")["callback_query"]
        refused = fake_telegram.wait_for_call("answerCallbackQuery", lambda p: p["callback_query_id"] == query["id"])
        query = fake_telegram.inject_callback_query(seller, f"rate:{auction_id}:4")["callback_query"]
        seller_answer = fake_telegram.wait_for_call("answerCallbackQuery", lambda p: p["callback_query_id"] == query["id"])
    assert answer["text"].startswith("Thank you: you rated ★★★★★")
    assert refused["text"] == "Only the buyer and the seller of a settled sale can rate it."
    assert seller_answer["text"].startswith("Спасибо")
    with bot_app.app_context():
        rows = db.session.execute(select(Rating.rater_id, Rating.score).order_by(Rating.id)).all()
        assert [tuple(r) for r in rows] == [(alice_id, 5), (seller_id, 4)]
        assert db.session.scalar(select(User.id).where(User.first_name == "Mallory")) is not None

"""auction.stars, auction.numbers and auction.i18n: the one reading and writing of Stars, ids and languages."""

from __future__ import annotations

import pytest
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from auction import numbers, stars
from auction.extensions import db
from auction.i18n import LANGUAGES, choose_language
from auction.live.broker import decode_position
from auction.models import OutboxMessage
from auction.services import outbox, payments
from auction.services.errors import ServiceError
from auction.services.users import load_session_user, set_locale

NBSP, NNBSP, THIN = "\u00a0", "\u202f", "\u2009"

READ = [
    # what the site, the bot, the wallet and /buy_stars all accept
    ("1000", 1000),
    ("  1000  ", 1000),
    ("1 000", 1000),
    ("1,000", 1000),
    ("1'000", 1000),
    ("1\u2019000", 1000),
    (f"1{NBSP}000", 1000),  # how Russian pages print it
    (f"1{NNBSP}000", 1000),
    (f"1{THIN}000", 1000),
    ("1000 ⭐", 1000),
    ("1000⭐", 1000),
    ("1 000 ⭐\ufe0f", 1000),
    ("1,234,567", 1234567),
    ("0", 0),
    ("007", 7),
    ("999999999999", 999_999_999_999),  # twelve digits: the most read
    ("", None),
    ("   ", None),
]

REFUSED = [
    "abc", "12.5", "1.000", "1,5", "1,00", "10 00", "1 0000", "-5", "+5", "1e3", "0x10", "⭐", "⭐ 100 ⭐",
    "²", "١", "٣٠", "１２", "1٣", "৩", "1\x000",  # non-ASCII digits (str.isdigit() takes them) and a NUL
    "1000000000000",  # thirteen digits
    "9" * 40,  # over the length cap
    "1" + " " * 40 + "000",
]


@pytest.mark.parametrize(("text", "value"), READ)
def test_read_accepts_every_way_the_site_and_people_write_stars(text, value):
    assert stars.read(text) == value


@pytest.mark.parametrize("text", REFUSED)
def test_read_refuses_anything_else_with_one_translated_error(app, text):
    with pytest.raises(stars.InvalidStars) as refused:
        stars.read(text)
    with app.test_request_context(), force_locale("en"):
        assert str(refused.value) == "Enter a whole number of Stars."
    with app.test_request_context(), force_locale("ru"):
        assert str(refused.value) == "Введите целое число звёзд."


def test_parse_refuses_blank_text():
    with pytest.raises(stars.InvalidStars):
        stars.parse("  ")
    assert stars.parse("1 000 ⭐") == 1000


@pytest.mark.parametrize(
    ("amount", "english", "russian"),
    [(5, "5", "5"), (1000, "1,000", f"1{NBSP}000"), (1234567, "1,234,567", f"1{NBSP}234{NBSP}567"), (0, "0", "0")],
)
def test_format_groups_in_the_active_language_and_reads_back(app, amount, english, russian):
    with app.test_request_context():
        with force_locale("en"):
            assert stars.format(amount) == english
            assert stars.with_sign(amount) == f"{english} ⭐"
            assert str(stars.Amount(amount)) == english
        with force_locale("ru"):
            assert stars.format(amount) == russian
            assert str(stars.Amount(amount)) == russian
    assert stars.read(english) == stars.read(russian) == amount  # what the site prints, it reads


def test_format_outside_any_app_is_english():
    assert stars.format(12345) == "12,345"


def test_service_errors_group_their_numbers_in_the_readers_language(app):
    error = payments.InvalidAmount(min=1, max=10_000)
    with app.test_request_context():
        with force_locale("en"):
            assert str(error) == "Enter a whole number of Stars between 1 and 10,000."
        with force_locale("ru"):
            assert str(error) == f"Введите целое число звёзд от 1 до 10{NBSP}000."
    assert isinstance(error, ServiceError)


def test_a_lazy_amount_in_a_notice_is_grouped_in_the_recipients_language(app, make_user):
    english, russian = make_user("Alice"), make_user("Борис")
    with app.app_context():
        set_locale(russian, "ru")
        for user_id in (english, russian):
            outbox.enqueue_telegram(user_id, "test", _l("You won “%(title)s” for %(price)s ⭐.", title="Lamp", price=stars.Amount(12500)))
        texts = dict(db.session.execute(select(OutboxMessage.user_id, OutboxMessage.payload)).all())
    assert texts[english]["text"] == "You won “Lamp” for 12,500 ⭐."
    assert texts[russian]["text"] == f"Вы выиграли «Lamp» за 12{NBSP}500 ⭐."


@pytest.mark.parametrize("bad", ["1", "1 000", "²", "٣٠", "12.5", "99999999999999999999", "10001", ""])
def test_buy_amounts_go_through_the_one_reader(app, bad):
    with app.app_context():
        if bad == "1 000":
            assert payments.parse_amount(bad) == 1000
        elif bad == "1":
            assert payments.parse_amount(bad) == 1
        else:
            with pytest.raises(payments.InvalidAmount):
                payments.parse_amount(bad)


@pytest.mark.parametrize(
    ("text", "value"),
    [("1", 1), ("2147483647", 2**31 - 1), ("2147483648", None), ("3000000000", None), ("0", None), ("", None),
     ("٣", None), ("²", None), ("-1", None), (" 1", None), ("99999999999999999999999", None), (None, None)],
)
def test_record_ids_are_ascii_digits_within_the_database_range(text, value):
    assert numbers.read_id(text) == value


def test_stream_positions_read_only_ascii_digits():
    assert decode_position("ab12~auction:1=17,listings=230") == ("ab12", {"auction:1": 17, "listings": 230})
    assert decode_position("ab12~auction:1=١٧,listings=²") == ("ab12", {})
    assert decode_position("ab12~auction:٣=1") == ("ab12", {})
    assert decode_position("ab12~auction:1=" + "9" * 40) == ("ab12", {})


def test_a_login_cookie_with_non_ascii_digits_or_a_huge_id_is_nobody(app, make_user):
    user_id = make_user("Alice")
    with app.app_context():
        assert load_session_user(f"{user_id}:1") is not None
        for forged in ("١:1", f"{user_id}:١", "3000000000:1", "99999999999999999999:1", f"{user_id}:{'9' * 30}"):
            assert load_session_user(forged) is None


@pytest.mark.parametrize(
    ("chosen", "telegram", "session", "browser", "language"),
    [
        ("ru", "en", "en", ["en"], "ru"),  # the person's own choice wins
        (None, "ru-RU", "en", ["en"], "ru"),  # then Telegram's app language
        ("xx", "de", "ru", ["en"], "ru"),  # then the session's
        (None, None, None, ["de-DE", "ru;q=0.8", "en"], "ru"),  # then the browser's first supported
        (None, "rus", None, None, "en"),  # not a language code we speak
        (None, None, None, None, "en"),
    ],
)
def test_one_rule_chooses_the_language(chosen, telegram, session, browser, language):
    browser = [code.split(";")[0] for code in browser or []]
    assert choose_language(chosen, telegram, session, browser) == language


def test_the_site_and_config_list_the_same_languages(app):
    assert app.config["LANGUAGES"] == LANGUAGES == ("en", "ru")


@pytest.mark.parametrize("path", ["/auctions/٣", "/auctions/²", "/auctions/2147483648", "/auctions/99999999999999999999999", "/auctions/0"])
def test_urls_read_only_ascii_ids_within_the_database_range(client, path):
    assert client.get(path).status_code == 404


def test_wallet_and_listing_form_read_only_ascii_digits(user_client):
    from tests.conftest import csrf_token, page

    assert user_client.get("/wallet?invoice=99999999999999999999&page=٣").status_code == 200
    token = csrf_token(user_client, "/auctions/new")
    response = user_client.post(
        "/auctions/new",
        data={"title": "Lamp", "start_price": "1 000", "duration_value": "٣", "duration_unit": "days", "kind": "english",
              "category_id": "١", "csrf_token": token},
    )
    assert response.status_code in (200, 422)
    text = page(response).get_text()
    assert "Choose a category from the list." in text
    assert "Enter a whole number." in text


def test_an_outbid_notice_groups_the_price_in_the_recipients_language(app, make_user):
    from auction.services import bidding
    from tests.support.bidding_helpers import give_stars, new_auction

    seller, boris, alice = make_user("Seller"), make_user("Борис", language_code="ru"), make_user("Alice")
    auction_id = new_auction(app, seller, start_price=1000)
    give_stars(app, boris, 5000)
    give_stars(app, alice, 5000)
    with app.app_context():
        bidding.place_bid(auction_id, boris, 1000)
        bidding.place_bid(auction_id, alice, 2000)  # Boris is outbid: the price is now 1,025 (one increment above him)
        notice = db.session.scalar(select(OutboxMessage.payload).where(OutboxMessage.user_id == boris, OutboxMessage.kind == "outbid"))
    assert f"1{NBSP}025 ⭐" in notice["text"]

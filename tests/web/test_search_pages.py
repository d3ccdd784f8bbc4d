"""The search page (full page and htmx fragment, plain form, bad input), saved searches and their alerts, bot /search."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from auction.extensions import db
from auction.models import Auction, OutboxMessage, SavedSearch, utcnow
from auction.services import saved_searches
from auction.services.search import parse_request
from tests.conftest import csrf_token, page, sign_in
from tests.support.bidding_helpers import new_auction
from tests.support.fake_telegram import bot_config, run_bot

SITE = "https://auction.example"


def card_titles(response) -> list[str]:
    return [a.get_text(strip=True) for a in page(response).select(".auction-card .card-title a")]


@pytest.fixture
def listed(app, make_user):
    seller = make_user("Seller")
    now = utcnow()
    for n in range(30):
        new_auction(app, seller, title=f"Dragon egg {n:02d}", ends_at=now + timedelta(hours=1, minutes=n))
    new_auction(app, seller, title="Golden sword", start_price=500)
    return seller


def test_the_search_page_full_and_as_a_fragment(client, listed):
    full = client.get("/search?q=dragon&sort=ending")
    assert full.status_code == 200
    html = page(full)
    assert html.select_one("#search-form input[name=q]")["value"] == "dragon"
    assert html.select_one("#search-results") is not None and html.select_one(".site-header") is not None
    assert card_titles(full) == [f"Dragon egg {n:02d}" for n in range(24)]
    assert html.select_one('a[rel="next"]')["href"] == "/search?q=dragon&sort=ending&page=2"
    fragment = client.get("/search?q=dragon&category=&kind=&status=live&sort=ending&page=2", headers={"HX-Request": "true"})
    assert fragment.headers["HX-Push-Url"] == "/search?q=dragon&sort=ending&page=2"
    assert "HX-Request" in fragment.headers["Vary"]
    fragment_html = page(fragment)
    assert fragment_html.select_one(".site-header") is None and fragment_html.select_one("#search-results") is not None
    assert card_titles(fragment) == [f"Dragon egg {n:02d}" for n in range(24, 30)]
    assert fragment_html.select_one('a[rel="prev"]') is not None and fragment_html.select_one('a[rel="next"]') is None
    # Cards are live like the home page's: each swaps its own event on the `listings` channel.
    assert "listings" in html.select_one("#live")["sse-connect"]
    assert html.select_one(".auction-card .card-live")["sse-swap"].startswith("auction-card-")


def test_the_header_has_a_search_box_on_every_page(client, listed):
    form = page(client.get("/")).select_one("form.nav-search")
    assert form["action"] == "/search" and form["method"] == "get"
    assert card_titles(client.get("/search?q=golden")) == ["Golden sword"]


@pytest.mark.parametrize("query", ['"', "*", "-", "(", "NEAR", "' OR 1=1 --", "%00", "x" * 10_000])
def test_hostile_words_and_values_never_break_the_page(client, listed, query):
    for url in (f"/search?q={query}", f"/search?q={query}&min_price={query}&page={query}&sort={query}&seller={query}"):
        assert client.get(url).status_code == 200
        assert client.get(url, headers={"HX-Request": "true"}).status_code == 200


def test_a_bad_price_is_named_in_the_visitors_language_and_the_rest_still_applies(client, listed):
    response = client.get("/search?q=sword&min_price=lots", headers={"Accept-Language": "ru"})
    assert page(response).select_one("#min-price-error").get_text(strip=True) == "Введите целое число звёзд, например 100."
    assert card_titles(response) == ["Golden sword"]


def test_saving_listing_and_deleting_searches(app, client, listed, make_user):
    alice = make_user("Alice")
    guest_save = client.post("/search/saved", data={"query": "q=dragon", "csrf_token": csrf_token(client)})
    assert guest_save.status_code == 302 and "/login" in guest_save.headers["Location"]
    sign_in(client, alice)
    token = csrf_token(client, "/search")
    assert client.post("/search/saved", data={"query": "q=dragon"}).status_code == 400  # no CSRF token
    saved = client.post("/search/saved", data={"query": "q=dragon&max_price=100&page=3", "csrf_token": token}, headers={"HX-Request": "true"})
    assert "Search saved" in saved.get_data(as_text=True)
    links = page(saved).select("#saved-searches li a")
    assert [(a.get_text(strip=True), a["href"]) for a in links] == [("“dragon” · up to 100 ⭐", "/search?q=dragon&max_price=100")]
    empty = client.post("/search/saved", data={"query": "", "csrf_token": token}, headers={"HX-Request": "true"})
    assert "Type some words or choose a filter first." in empty.get_data(as_text=True)
    with app.app_context():
        saved_id = db.session.scalar(select(SavedSearch.id))
    bob = make_user("Bob")
    other = app.test_client()
    sign_in(other, bob)
    assert other.post(f"/search/saved/{saved_id}/delete", data={"csrf_token": csrf_token(other)}).status_code == 404
    gone = client.post(f"/search/saved/{saved_id}/delete", data={"csrf_token": token})
    assert gone.status_code == 302
    assert page(client.get(gone.headers["Location"])).select("#saved-searches li") == []


def alerts(app) -> list[dict]:
    with app.app_context():
        return [row.payload for row in db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "saved_search_alert").order_by(OutboxMessage.id))]


def test_a_new_matching_auction_alerts_once_an_hour_in_the_persons_language(app, make_user):
    seller = make_user("Seller")
    boris = make_user("Борис", language_code="ru")
    new_auction(app, seller, title="Old dragon", created_at=utcnow() - timedelta(hours=1))
    with app.app_context():
        saved_searches.save_search(boris, parse_request({"q": "dragon"}))
    t0 = utcnow()
    with app.app_context():
        assert saved_searches.alert_saved_searches(t0 + timedelta(minutes=1)) == 0  # nothing new since saving
    first = new_auction(app, seller, title="Blue dragon", created_at=t0 + timedelta(minutes=2))
    new_auction(app, seller, title="Blue sword", created_at=t0 + timedelta(minutes=2))
    with app.app_context():
        assert saved_searches.alert_saved_searches(t0 + timedelta(minutes=3)) == 1
    [message] = alerts(app)
    assert message["text"].startswith("1 новый аукцион по сохранённому поиску “dragon”:")
    assert "Blue dragon" in message["text"] and "Blue sword" not in message["text"]
    assert message["buttons"][0] == [{"text": "Открыть аукцион", "callback_data": f"card:{first}"}]
    # Two more within the hour: no message yet, nothing lost.
    new_auction(app, seller, title="Red dragon", created_at=t0 + timedelta(minutes=10))
    new_auction(app, seller, title="Green dragon", created_at=t0 + timedelta(minutes=20))
    with app.app_context():
        assert saved_searches.alert_saved_searches(t0 + timedelta(minutes=30)) == 0
        assert saved_searches.alert_saved_searches(t0 + timedelta(minutes=62)) == 0
        assert saved_searches.alert_saved_searches(t0 + timedelta(minutes=64)) == 1
    second = alerts(app)[1]["text"]
    assert second.startswith("2 новых аукциона") and "Red dragon" in second and "Green dragon" in second and "Blue dragon" not in second
    with app.app_context():
        assert saved_searches.alert_saved_searches(t0 + timedelta(minutes=200)) == 0  # nothing new


def test_a_scheduled_auction_alerts_when_it_opens_and_own_listings_never_do(app, make_user):
    seller = make_user("Seller")
    alice = make_user("Alice")
    with app.app_context():
        saved_searches.save_search(alice, parse_request({"q": "lamp"}))
    t0 = utcnow()
    new_auction(app, alice, title="My own lamp", created_at=t0 + timedelta(minutes=1))
    later = new_auction(app, seller, title="Lamp later", status="scheduled", created_at=t0 + timedelta(minutes=1),
                starts_at=t0 + timedelta(minutes=30), ends_at=t0 + timedelta(hours=2))
    with app.app_context():
        assert saved_searches.alert_saved_searches(t0 + timedelta(minutes=5)) == 0  # not open yet (the search wants live ones)
        db.session.get(Auction, later).status = "live"  # what the opening job does at its start time
        db.session.commit()
        assert saved_searches.alert_saved_searches(t0 + timedelta(minutes=35)) == 1
    assert "Lamp later" in alerts(app)[0]["text"] and "My own lamp" not in alerts(app)[0]["text"]


@pytest.fixture
def bot_app(make_app, fake_telegram):
    return make_app(**bot_config(fake_telegram, BASE_URL=SITE))


@pytest.mark.parametrize("language, heading, more", [("en", "Open auctions matching “dragon”:", "More on the site"),
                                                     ("ru", "Открытые аукционы по запросу «dragon»:", "Ещё на сайте")])
def test_bot_search_answers_with_five_cards_and_a_link(bot_app, fake_telegram, make_user, language, heading, more):
    seller = make_user("Seller")
    for n in range(7):
        new_auction(bot_app, seller, title=f"Dragon {n}", start_price=10 + n)
    new_auction(bot_app, seller, title="Sword")
    person = fake_telegram.user("Chen", language_code=language)
    with run_bot(bot_app):
        fake_telegram.inject_message(person, "/search dragon")
        reply = fake_telegram.wait_for_call("sendMessage", lambda p: p["chat_id"] == person["id"])
        fake_telegram.inject_message(person, "/search")
        hint = fake_telegram.wait_for_call("sendMessage", lambda p: p["chat_id"] == person["id"] and "/search " in p["text"] and "•" not in p["text"])
    assert reply["text"].splitlines()[0] == heading
    rows = reply["reply_markup"]["inline_keyboard"]
    assert len(rows) == 6 and all(row[0]["callback_data"].startswith("card:") for row in rows[:5])
    assert rows[5] == [{"text": more, "url": f"{SITE}/search?q=dragon"}]
    assert hint["text"] == {"en": "Write what you are looking for after the command, for example: /search dragon",
                            "ru": "Напишите после команды, что вы ищете, например: /search дракон"}[language]
    with bot_app.app_context():
        assert db.session.scalar(select(Auction.title).where(Auction.id == int(rows[0][0]["callback_data"][5:]))).startswith("Dragon")

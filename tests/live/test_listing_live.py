"""The home page grid, live: cards follow bids, extensions, Dutch steps and the close; new auctions are offered."""

from __future__ import annotations

import io
import json
import time
from contextlib import contextmanager
from datetime import datetime, timedelta

import httpx
from bs4 import BeautifulSoup
from PIL import Image

from auction.extensions import db
from auction.live.renderers import render_event, renderers_of
from auction.models import Category, utcnow
from auction.services import bidding, lifecycle
from auction.services.listings import ListingDraft, create_listing
from auction.services.transaction import add_event_sink, remove_event_sink
from tests.conftest import page
from tests.live.test_auction_live import signed_in
from tests.support.bidding_helpers import end_now, give_stars, new_auction
from tests.support.servers import SSEClient, run_server


def call(app, fn, *args, **kwargs):
    with app.app_context():
        try:
            return fn(*args, **kwargs)
        finally:
            db.session.remove()


@contextmanager
def listings_events(app):
    """The events services publish on the `listings` channel while the block runs."""
    published: list[tuple[str, dict]] = []

    def sink(events):
        published.extend((name, data) for channel, name, data in events if channel == "listings")

    add_event_sink(app, sink)
    try:
        yield published
    finally:
        remove_event_sink(app, sink)


def pushed(app, events: list[tuple[str, dict]], locale: str = "en") -> dict[str, BeautifulSoup]:
    """What an open home page receives for `events`, by SSE event name (the last one wins, as on a page)."""
    seen: dict[str, BeautifulSoup] = {}
    for name, data in events:
        for target, html in render_event(app, name, data, locale) or []:
            seen[target] = BeautifulSoup(html, "html.parser")
    return seen


def add_category(app, slug: str, name_en: str, name_ru: str) -> int:
    with app.app_context():
        category = Category(slug=slug, name_en=name_en, name_ru=name_ru)
        db.session.add(category)
        db.session.commit()
        return category.id


def test_the_grid_follows_the_listings_channel_card_by_card(app, client, people):
    seller, _, _ = people
    auction_id = new_auction(app, seller, title="Pocket watch")
    html = page(client.get("/"))
    assert "listings" in html.select_one("#live")["sse-connect"]
    card = html.select_one(f"#auction-card-{auction_id}")
    live = card.select_one(f"[sse-swap=auction-card-{auction_id}]")
    assert "10 ⭐" in live.get_text() and "0 bids" in live.get_text()
    assert live.select_one("time[data-countdown]") is not None
    assert html.select_one("[sse-swap=listings-new]")["hx-swap"] == "beforeend"
    assert html.select_one(".new-listings").has_attr("hidden")


def test_a_bid_updates_the_cards_price_and_bid_count_in_each_language(app, people):
    seller, alice, bob = people
    auction_id = new_auction(app, seller, title="Pocket watch")
    with listings_events(app) as events:
        call(app, bidding.place_bid, auction_id, alice, 40)
        call(app, bidding.place_bid, auction_id, bob, 25)
    english = pushed(app, events)
    assert list(english) == [f"auction-card-{auction_id}"]
    text = english[f"auction-card-{auction_id}"].get_text(" ", strip=True)
    assert "26 ⭐" in text and "3 bids" in text  # the proxy answer counts as a bid
    russian = pushed(app, events, "ru")[f"auction-card-{auction_id}"].get_text(" ", strip=True)
    assert "26 ⭐" in russian and "3 ставки" in russian and "Окончание" in russian


def test_an_anti_sniping_extension_moves_the_cards_countdown(app, people):
    seller, alice, _ = people
    auction_id = new_auction(app, seller, ends_at=utcnow() + timedelta(seconds=30))
    with listings_events(app) as events:
        result = call(app, bidding.place_bid, auction_id, alice, 10)
    assert result.extended
    time_tag = pushed(app, events)[f"auction-card-{auction_id}"].select_one("time[data-countdown]")
    assert datetime.fromisoformat(time_tag["datetime"]) == result.ends_at
    assert result.ends_at > utcnow() + timedelta(seconds=100)


def test_a_dutch_price_step_updates_the_cards_price(app, people):
    seller, _, _ = people
    auction_id = new_auction(
        app, seller, kind="dutch", start_price=500, dutch_floor=100, dutch_step=50, dutch_interval_seconds=60,
        starts_at=utcnow() - timedelta(seconds=125),
    )
    with listings_events(app) as events:
        assert call(app, lifecycle.announce_dutch_steps) == [auction_id]
    text = pushed(app, events)[f"auction-card-{auction_id}"].get_text(" ", strip=True)
    assert "400 ⭐" in text and "Price now" in text


def test_the_close_shows_the_outcome_on_the_card(app, people):
    seller, alice, _ = people
    sold = new_auction(app, seller, title="Lamp")
    unsold = new_auction(app, seller, title="Chair")
    cancelled = new_auction(app, seller, title="Rug")
    call(app, bidding.place_bid, sold, alice, 30)
    end_now(app, sold)
    end_now(app, unsold)
    with listings_events(app) as events:
        call(app, lifecycle.close_auction, sold)
        call(app, lifecycle.close_auction, unsold)
        call(app, lifecycle.cancel_auction, cancelled, seller)
    cards = pushed(app, events)
    sold_card = cards[f"auction-card-{sold}"]
    assert "Sold for" in sold_card.get_text() and "10 ⭐" in sold_card.get_text()
    assert sold_card.select_one("time[data-countdown]") is None
    assert "Ended without a sale" in cards[f"auction-card-{unsold}"].get_text()
    assert "Cancelled" in cards[f"auction-card-{cancelled}"].get_text()
    russian = pushed(app, events, "ru")
    assert "Продано за" in russian[f"auction-card-{sold}"].get_text()
    assert "Аукцион завершён" in russian[f"auction-card-{unsold}"].get_text()


def test_a_new_live_auction_is_announced_with_its_category_and_a_scheduled_one_waits(app, people):
    seller, _, _ = people
    watches = add_category(app, "watches", "Watches", "Часы")
    photo = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 80, 40)).save(photo, "PNG")
    draft = dict(description="Ticks.", start_price=10, duration=timedelta(days=1), category_id=watches, photos=[photo.getvalue()])
    with listings_events(app) as events:
        live_id = call(app, create_listing, seller, ListingDraft(title="Pocket watch", **draft))
    marker = pushed(app, events)["listings-new"].select_one("[data-auction]")
    assert (marker["data-auction"], marker["data-category"]) == (str(live_id), "watches")

    with listings_events(app) as events:
        later = ListingDraft(title="Wrist watch", starts_at=utcnow() + timedelta(hours=1), **draft)
        call(app, create_listing, seller, later)
    assert [name for name, _ in events] == ["auction_created"]
    assert pushed(app, events) == {}


def test_a_scheduled_auction_is_announced_when_it_opens_by_the_job_or_by_a_first_bid(app, people):
    seller, alice, _ = people
    start = utcnow() - timedelta(seconds=1)
    by_job = new_auction(app, seller, status="scheduled", starts_at=start)
    with listings_events(app) as events:
        assert call(app, lifecycle.open_scheduled_auctions) == [by_job]
    cards = pushed(app, events)
    assert cards["listings-new"].select_one("[data-auction]")["data-auction"] == str(by_job)
    assert "Ends in" in cards[f"auction-card-{by_job}"].select_one("time")["data-format"]  # no longer "Opens in"

    by_bid = new_auction(app, seller, status="scheduled", starts_at=start)
    with listings_events(app) as events:
        call(app, bidding.place_bid, by_bid, alice, 15)
    # The opening re-renders the card, then the bid does.
    assert [name for name, _ in events] == ["auction_created", "price_changed", "price_changed"]
    cards = pushed(app, events)
    assert cards["listings-new"].select_one("[data-auction]")["data-auction"] == str(by_bid)
    assert "1 bid" in cards[f"auction-card-{by_bid}"].get_text()


def test_category_pills_filter_the_grid_with_and_without_htmx(app, client, people):
    seller, _, _ = people
    watches = add_category(app, "watches", "Watches", "Часы")
    lamps = add_category(app, "lamps", "Lamps", "Лампы")
    watch = new_auction(app, seller, title="Pocket watch", category_id=watches)
    lamp = new_auction(app, seller, title="Desk lamp", category_id=lamps)

    everything = page(client.get("/"))
    pills = {a.get_text(strip=True): a for a in everything.select(".category-pills a")}
    assert list(pills) == ["All", "Watches", "Lamps"]
    assert pills["All"]["aria-current"] == "page"
    assert pills["Watches"]["href"] == "/?category=watches"
    assert {f"auction-card-{watch}", f"auction-card-{lamp}"} <= {li["id"] for li in everything.select(".auction-card")}

    plain = page(client.get("/?category=watches"))  # a plain link, no JavaScript
    assert [li["id"] for li in plain.select(".auction-card")] == [f"auction-card-{watch}"]
    assert plain.select_one(".category-pills [aria-current]").get_text(strip=True) == "Watches"
    assert plain.title.get_text().startswith("Watches")

    response = client.get("/?category=lamps", headers={"HX-Request": "true"})
    fragment = page(response)
    assert fragment.find("html") is None and fragment.select_one("#listing")["data-category"] == "lamps"
    assert [li["id"] for li in fragment.select(".auction-card")] == [f"auction-card-{lamp}"]
    assert "HX-Request" in response.headers["Vary"]
    restored = page(client.get("/?category=lamps", headers={"HX-Request": "true", "HX-History-Restore-Request": "true"}))
    assert restored.find("html") is not None

    client.post("/locale", data={"locale": "ru", "csrf_token": json.loads(everything.body["hx-headers"])["X-CSRFToken"]})
    russian = page(client.get("/?category=watches"))
    assert [a.get_text(strip=True) for a in russian.select(".category-pills a")] == ["Все", "Часы", "Лампы"]
    assert client.get("/?category=nothing-here").status_code == 404


def test_an_empty_category_says_so(app, client):
    add_category(app, "watches", "Watches", "Часы")
    assert "No auctions are running in this category" in page(client.get("/?category=watches")).get_text()


def test_a_bid_over_http_reaches_open_home_pages_within_a_second_rendered_once_per_language(app, make_user, monkeypatch):
    seller = make_user("Sam")
    alice = make_user("Alice", is_demo=True)  # signs in through the dev login
    give_stars(app, alice, 500)
    auction_id = new_auction(app, seller, title="Pocket watch")
    calls: list[str] = []
    card_renderer = renderers_of(app)["price_changed"]

    def counted(app, data, locale):
        calls.append(locale)
        return card_renderer(app, data, locale)

    monkeypatch.setitem(renderers_of(app), "price_changed", counted)

    with run_server(app) as base_url:
        visitor = httpx.Client(base_url=base_url, timeout=10)
        home = BeautifulSoup(visitor.get("/").text, "html.parser")
        stream_url = base_url + home.select_one("[sse-connect]")["sse-connect"]
        assert home.select_one(f"[sse-swap=auction-card-{auction_id}]") is not None
        streams = [SSEClient(stream_url, headers={"Accept-Language": lang}) for lang in ("en", "en", "ru")]
        try:
            for stream in streams:
                deadline = time.monotonic() + 5
                while "connected" not in stream.comments:
                    assert time.monotonic() < deadline, "the stream did not open"
                    time.sleep(0.01)
            browser = signed_in(base_url, alice)
            token = json.loads(BeautifulSoup(browser.get(f"/auctions/{auction_id}").text, "html.parser").body["hx-headers"])["X-CSRFToken"]
            response = browser.post(
                f"/auctions/{auction_id}/bids", data={"amount": "40"}, headers={"HX-Request": "true", "X-CSRFToken": token}
            )
            assert "highest bidder" in response.text
            received = []
            for stream in streams:
                message = stream.next(timeout=2)
                assert message is not None, "the stream ended"
                received.append(message)
            assert {m["event"] for m in received} == {f"auction-card-{auction_id}"}
            english, again, russian = (BeautifulSoup(m["data"], "html.parser").get_text(" ", strip=True) for m in received)
            assert english == again and "10 ⭐" in english and "1 bid" in english
            assert "1 ставка" in russian
            assert sorted(calls) == ["en", "ru"]
            browser.close()
        finally:
            for stream in streams:
                stream.close()
            visitor.close()

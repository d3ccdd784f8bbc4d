"""Watching on the site: the Watch / Watching toggle, the watchers count, the watchlist page, and the photo gallery."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import render_template
from flask_babel import force_locale

from auction.extensions import db
from auction.live.renderers import render_event
from auction.models import utcnow
from auction.services import watchlist
from auction.services.demo import demo_photo
from auction.services.listings import ListingDraft, create_listing
from tests.conftest import csrf_token, page, sign_in
from tests.support.bidding_helpers import end_now, new_auction

HX = {"HX-Request": "true"}


@pytest.fixture
def people(make_user):
    return {"seller": make_user("Sam"), "alice": make_user("Alice"), "boris": make_user("Boris", language_code="ru")}


def press(client, auction_id: int, verb: str, htmx: bool):
    token = csrf_token(client, f"/auctions/{auction_id}")
    if htmx:
        return client.post(f"/auctions/{auction_id}/{verb}", headers={**HX, "X-CSRFToken": token})
    return client.post(f"/auctions/{auction_id}/{verb}", data={"csrf_token": token})


def watchers_text(client, auction_id: int) -> str:
    return page(client.get(f"/auctions/{auction_id}")).select_one(".watchers").get_text(strip=True)


def watch_button(client, auction_id: int):
    return page(client.get(f"/auctions/{auction_id}")).select_one(".watch-toggle button")


def test_watch_and_stop_with_htmx_swap_the_button(app, client, people):
    auction_id = new_auction(app, people["seller"])
    sign_in(client, people["alice"])
    assert watch_button(client, auction_id).get_text(" ", strip=True) == "☆ Watch"

    response = press(client, auction_id, "watch", htmx=True)
    assert response.status_code == 200
    fragment = page(response)
    assert fragment.select_one(".watch-toggle")["id"] == f"auction-{auction_id}-watch"
    assert fragment.button.get_text(" ", strip=True) == "Watching ✓ (stop)"
    assert fragment.form["hx-post"] == f"/auctions/{auction_id}/unwatch"
    assert fragment.find("a", string="Your watchlist")["href"] == "/watchlist"
    assert watchers_text(client, auction_id) == "1 person is watching"
    assert watch_button(client, auction_id).get_text(" ", strip=True) == "Watching ✓ (stop)"

    fragment = page(press(client, auction_id, "unwatch", htmx=True))
    assert fragment.button.get_text(" ", strip=True) == "☆ Watch"
    assert watchers_text(client, auction_id) == "Nobody is watching yet"


def test_watch_without_javascript_is_a_form_and_a_redirect(app, client, people):
    auction_id = new_auction(app, people["seller"])
    sign_in(client, people["alice"])
    form = page(client.get(f"/auctions/{auction_id}")).select_one(".watch-toggle form")
    assert form["method"] == "post" and form["action"] == f"/auctions/{auction_id}/watch"
    assert form.find("input", attrs={"name": "csrf_token"})

    response = press(client, auction_id, "watch", htmx=False)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/auctions/{auction_id}")
    doc = page(client.get(f"/auctions/{auction_id}"))
    assert "Added to your watchlist." in doc.get_text()
    assert doc.select_one(".watch-toggle form")["action"] == f"/auctions/{auction_id}/unwatch"

    assert press(client, auction_id, "unwatch", htmx=False).status_code == 303
    assert "Removed from your watchlist." in page(client.get(f"/auctions/{auction_id}")).get_text()
    with app.app_context():
        assert not watchlist.is_watching(people["alice"], auction_id)


def test_a_form_without_its_token_is_refused(app, client, people):
    auction_id = new_auction(app, people["seller"])
    app.config["WTF_CSRF_ENABLED"] = True
    sign_in(client, people["alice"])
    assert client.post(f"/auctions/{auction_id}/watch").status_code == 400
    with app.app_context():
        assert watchlist.watchers_count(auction_id) == 0


def test_the_seller_cannot_watch_their_own_auction(app, client, people):
    auction_id = new_auction(app, people["seller"])
    sign_in(client, people["seller"])
    assert page(client.get(f"/auctions/{auction_id}")).select_one(".watch-toggle button") is None
    assert press(client, auction_id, "watch", htmx=True).status_code == 403
    assert press(client, auction_id, "watch", htmx=False).status_code == 403
    with app.app_context():
        assert watchlist.watchers_count(auction_id) == 0
        with pytest.raises(watchlist.OwnAuction):
            watchlist.watch(people["seller"], auction_id)


def test_a_visitor_is_sent_to_sign_in(app, client, people):
    auction_id = new_auction(app, people["seller"])
    link = page(client.get(f"/auctions/{auction_id}")).find("a", string="Sign in to watch")
    assert link["href"] == f"/login?next=/auctions/{auction_id}"
    response = press(client, auction_id, "watch", htmx=False)
    assert response.status_code == 302 and f"/login?next=/auctions/{auction_id}" in response.headers["Location"]
    response = press(client, auction_id, "watch", htmx=True)
    assert response.status_code == 204 and response.headers["HX-Redirect"] == f"/login?next=/auctions/{auction_id}"
    with app.app_context():
        assert watchlist.watchers_count(auction_id) == 0


def test_an_ended_auction_offers_no_watch_button_and_refuses_a_late_press(app, client, people):
    auction_id = new_auction(app, people["seller"])
    sign_in(client, people["alice"])
    end_now(app, auction_id)
    fragment = page(press(client, auction_id, "watch", htmx=True))
    assert fragment.select_one("[role=alert]").get_text(strip=True) == "This auction is over; there is nothing left to watch."
    with app.app_context():
        assert watchlist.watchers_count(auction_id) == 0


@pytest.mark.parametrize(
    ("watchers", "english", "russian"),
    [
        (0, "Nobody is watching yet", "Пока никто не следит"),
        (1, "1 person is watching", "1 человек следит"),
        (2, "2 people are watching", "2 человека следят"),
    ],
)
def test_the_count_reads_well_in_english_and_russian(app, client, make_user, people, watchers, english, russian):
    auction_id = new_auction(app, people["seller"])
    with app.app_context():
        for n in range(watchers):
            watchlist.watch(make_user(f"Watcher {n}"), auction_id)
    assert watchers_text(client, auction_id) == english
    sign_in(client, people["boris"])  # Telegram says Russian
    assert watchers_text(client, auction_id) == russian
    # The live fragment other open pages receive on `watchers_changed` says the same.
    for locale, text in (("ru", russian), ("en", english)):
        assert render_event(app, "watchers_changed", {"auction_id": auction_id}, locale) == [(f"auction-{auction_id}-watchers", text)]


def test_russian_plural_forms(app):
    expected = {5: "5 человек следят", 11: "11 человек следят", 21: "21 человек следит", 22: "22 человека следят"}
    with app.test_request_context(), force_locale("ru"):
        for n, text in expected.items():
            assert render_template("auctions/_watchers.html", watchers=n) == text


def test_watching_announces_the_count_to_open_pages(app, client, people, monkeypatch):
    auction_id = new_auction(app, people["seller"])
    sign_in(client, people["alice"])
    seen = []
    original = watchlist.emit

    def spy(channel, name, data):
        seen.append((channel, name, data))
        return original(channel, name, data)

    monkeypatch.setattr(watchlist, "emit", spy)
    press(client, auction_id, "watch", htmx=True)
    press(client, auction_id, "unwatch", htmx=True)
    assert seen == [(f"auction:{auction_id}", "watchers_changed", {"auction_id": auction_id})] * 2


def test_the_watchlist_page_lists_open_watched_auctions(app, client, people):
    alice = people["alice"]
    sooner = new_auction(app, people["seller"], title="Pocket watch")
    later = new_auction(app, people["seller"], title="Grandfather clock", ends_at=utcnow() + timedelta(hours=5))
    new_auction(app, people["seller"], title="Not watched")
    with app.app_context():
        watchlist.watch(alice, later)
        watchlist.watch(alice, sooner)
    assert client.get("/watchlist").status_code == 302  # visitors sign in first
    sign_in(client, alice)
    titles = [a.get_text(strip=True) for a in page(client.get("/watchlist")).select(".card-title a")]
    assert titles == ["Pocket watch", "Grandfather clock"]

    sign_in(client, people["boris"])
    assert "Вы пока ни за чем не следите." in page(client.get("/watchlist")).get_text()


# --- the gallery ---------------------------------------------------------------------------


def auction_with_photos(app, seller: int, count: int) -> int:
    draft = ListingDraft(title="Chess set", description="Wooden.", start_price=10, duration=timedelta(hours=3),
                         photos=[demo_photo("Chess", seed) for seed in range(count)])
    with app.app_context():
        auction_id = create_listing(seller, draft)
        db.session.remove()
        return auction_id


def test_every_photo_is_reachable_by_a_link(app, client, people):
    auction_id = auction_with_photos(app, people["seller"], 3)
    doc = page(client.get(f"/auctions/{auction_id}"))
    slides = doc.select(".gallery-strip > li")
    assert [s["id"] for s in slides] == ["photo-1", "photo-2", "photo-3"]
    assert [s.select_one(".gallery-count").get_text(strip=True) for s in slides] == ["1 / 3", "2 / 3", "3 / 3"]
    thumbs = doc.select(".gallery-thumbs a")
    assert [a["href"] for a in thumbs] == ["#photo-1", "#photo-2", "#photo-3"]
    # Each thumbnail is the small picture of the photo it leads to, named for screen readers.
    for thumb, slide in zip(thumbs, slides, strict=True):
        assert thumb.img["src"].endswith("-thumb.webp") and thumb.img["src"] != slide.img["src"]
    assert thumbs[1].img["alt"] == "photo 2 of 3"
    assert doc.find("script", src="/static/js/gallery.js")


def test_a_single_photo_needs_no_thumbnails(app, client, people):
    auction_id = auction_with_photos(app, people["seller"], 1)
    doc = page(client.get(f"/auctions/{auction_id}"))
    assert len(doc.select(".gallery-strip > li")) == 1
    assert doc.select(".gallery-thumbs") == [] and doc.select(".gallery-count") == []

"""The watchlist service: watch, unwatch, counts, a user's list, and presses arriving at once."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from auction.extensions import db
from auction.models import utcnow
from auction.services import watchlist
from auction.services.errors import NotFound
from tests.conftest import page
from tests.support.bidding_helpers import end_now, new_auction


@pytest.fixture
def people(app, make_user):
    return make_user("Seller"), make_user("Alice"), make_user("Boris")


def test_watch_unwatch_and_count(app, people):
    seller, alice, boris = people
    auction_id = new_auction(app, seller)
    with app.app_context():
        assert watchlist.watch(alice, auction_id) is True
        assert watchlist.watch(alice, auction_id) is False  # already on the list: nothing changes
        assert watchlist.watch(boris, auction_id) is True
        assert watchlist.is_watching(alice, auction_id) and watchlist.is_watching(boris, auction_id)
        assert not watchlist.is_watching(None, auction_id)
        assert watchlist.watchers_count(auction_id) == 2

        assert watchlist.unwatch(alice, auction_id) is True
        assert watchlist.unwatch(alice, auction_id) is False
        assert not watchlist.is_watching(alice, auction_id)
        assert watchlist.watchers_count(auction_id) == 1


def test_the_auction_page_counts_watchers(app, client, people):
    seller, alice, boris = people
    auction_id = new_auction(app, seller)
    with app.app_context():
        watchlist.watch(alice, auction_id)
        watchlist.watch(boris, auction_id)
    text = page(client.get(f"/auctions/{auction_id}")).select_one(".watchers").get_text(strip=True)
    assert text == "2 people are watching"


def test_only_open_auctions_can_be_watched(app, people):
    seller, alice, _ = people
    ended = new_auction(app, seller)
    end_now(app, ended)
    canceled = new_auction(app, seller, status="canceled")
    scheduled = new_auction(app, seller, status="scheduled", starts_at=utcnow() + timedelta(hours=1),
                            ends_at=utcnow() + timedelta(hours=2))
    with app.app_context():
        for auction_id in (ended, canceled):
            with pytest.raises(watchlist.AuctionOver) as refused:
                watchlist.watch(alice, auction_id)
            assert str(refused.value) == "This auction is over; there is nothing left to watch."
        with pytest.raises(NotFound):
            watchlist.watch(alice, 987_654)
        assert watchlist.watch(alice, scheduled) is True
        assert watchlist.watchers_count(ended) == 0


def test_watched_auctions_soonest_end_first_and_closed_ones_on_request(app, people):
    seller, alice, boris = people
    now = utcnow()
    later = new_auction(app, seller, title="Later", ends_at=now + timedelta(hours=5))
    sooner = new_auction(app, seller, title="Sooner", ends_at=now + timedelta(minutes=30))
    finished = new_auction(app, seller, title="Finished")
    not_mine = new_auction(app, seller, title="Boris's")
    with app.app_context():
        for auction_id in (later, sooner, finished):
            watchlist.watch(alice, auction_id)
        watchlist.watch(boris, not_mine)
    end_now(app, finished)
    with app.app_context():
        assert [a.title for a in watchlist.watched_auctions(alice)] == ["Sooner", "Later"]
        assert [a.title for a in watchlist.watched_auctions(alice, include_closed=True)] == ["Finished", "Sooner", "Later"]
        assert watchlist.watched_auctions(seller) == []


def test_presses_at_once_add_one_entry(app, people):
    seller, alice, _ = people
    auction_id = new_auction(app, seller)
    results: list[bool] = []
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def press() -> None:
        with app.app_context():
            try:
                start.wait()
                results.append(watchlist.watch(alice, auction_id))
            except BaseException as error:  # collected and reported by the test, not lost in a thread
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=press) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert sorted(results) == [False] * 7 + [True]
    with app.app_context():
        assert watchlist.watchers_count(auction_id) == 1

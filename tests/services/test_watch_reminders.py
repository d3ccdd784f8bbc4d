"""Watchers and bidders are reminded before an auction ends: once per lead time (60 and 10 min by default)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from auction.extensions import db
from auction.jobs import JOBS
from auction.models import Auction, OutboxMessage, utcnow
from auction.services import lifecycle, watchlist
from tests.support.bidding_helpers import new_auction


def ends_in(app, auction_id: int, delta: timedelta) -> None:
    with app.app_context():
        db.session.execute(update(Auction).where(Auction.id == auction_id).values(ends_at=utcnow() + delta))
        db.session.commit()


def reminders(app) -> list[tuple[int, str]]:
    with app.app_context():
        rows = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "ending_soon").order_by(OutboxMessage.id))
        return [(row.user_id, row.payload["text"]) for row in rows]


def test_watchers_are_reminded_once_in_their_language(app, make_user):
    seller = make_user("Sam")
    anna, boris, carl = make_user("Anna"), make_user("Борис", language_code="ru"), make_user("Carl")
    soon = new_auction(app, seller, title="Brass telescope", listed=True)
    later = new_auction(app, seller, title="Oak chess set", listed=True)
    ends_in(app, soon, timedelta(minutes=10))
    ends_in(app, later, timedelta(hours=2))
    with app.app_context():
        for user, auction_id in ((anna, soon), (boris, soon), (carl, later)):
            watchlist.watch(user, auction_id)
        assert watchlist.remind_ending_soon() == 2
        assert watchlist.remind_ending_soon() == 0  # the job runs every 30 s: once is enough

    sent = reminders(app)
    assert [user for user, _ in sent] == [anna, boris]
    assert sent[0][1] == "“Brass telescope” ends in less than 10 min. Current price: 10 ⭐."
    assert sent[1][1].startswith("«Brass telescope»")  # Boris reads Russian

    # An anti-sniping extension moves the end, but nobody is told twice; Carl's turn comes later.
    ends_in(app, soon, timedelta(minutes=12))
    with app.app_context():
        assert watchlist.remind_ending_soon() == 0
        assert watchlist.remind_ending_soon(now=utcnow() + timedelta(hours=1, minutes=50)) == 1
    assert [user for user, _ in reminders(app)] == [anna, boris, carl]


def test_closed_auctions_and_unwatched_ones_send_nothing(app, make_user):
    seller, anna = make_user("Sam"), make_user("Anna")
    auction_id = new_auction(app, seller, listed=True)
    ends_in(app, auction_id, timedelta(minutes=5))
    with app.app_context():
        watchlist.watch(anna, auction_id)
        watchlist.unwatch(anna, auction_id)
        assert watchlist.remind_ending_soon() == 0
        watchlist.watch(anna, auction_id)
        lifecycle.cancel_auction(auction_id, seller)
        assert watchlist.remind_ending_soon() == 0
    assert reminders(app) == []


def test_the_reminder_job_is_scheduled():
    assert any(job.run is watchlist.remind_ending_soon for job in JOBS)

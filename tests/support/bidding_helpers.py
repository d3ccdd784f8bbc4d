"""Shared set-up for bidding tests: auctions inserted directly, Stars from the sandbox."""

from __future__ import annotations

from datetime import timedelta
from functools import cache

import pytest
from sqlalchemy import select

from auction.extensions import db
from auction.models import Auction, Bid, Hold, utcnow
from auction.services import ledger
from auction.services.demo import demo_photo
from auction.services.listings import ListingDraft, create_listing
from auction.services.transaction import atomic


def new_auction(app, seller_id: int, title: str | None = None, start_price: int | None = None, *, listed: bool = False, **fields) -> int:
    """An auction for a test; returns its id.

    By default a live English auction inserted directly (start 10, one hour left unless `fields`
    say otherwise). With `listed`, a live English auction created through the listing service
    with one generated photo, as a seller would list it (only `title` and `start_price` apply).
    """
    if listed:
        with app.app_context():
            return create_listing(
                seller_id,
                ListingDraft(title=title or "Brass telescope", description="For the tests.", start_price=10 if start_price is None else start_price,
                             duration=timedelta(hours=1), photos=[_photo()]),
            )
    now = utcnow()
    values = {
        "title": "Vintage camera" if title is None else title,
        "description": "Works.",
        "kind": "english",
        "status": "live",
        "start_price": 10 if start_price is None else start_price,
        "starts_at": now - timedelta(minutes=1),
        "ends_at": now + timedelta(hours=1),
    }
    values.update(fields)
    values.setdefault("current_price", values["start_price"])
    values.setdefault("fee_percent", app.config["PLATFORM_FEE_PERCENT"])
    with app.app_context():
        auction = Auction(seller_id=seller_id, **values)
        db.session.add(auction)
        db.session.commit()
        return auction.id


@cache
def _photo() -> bytes:
    return demo_photo("Ledger", 3)


def give_stars(app, user_id: int, amount: int) -> None:
    with app.app_context():
        ledger.credit_sandbox(user_id, amount)
        db.session.remove()


def balances(app, user_id: int) -> tuple[int, int]:
    with app.app_context():
        found = ledger.balances(user_id)
        db.session.remove()
        return found.available, found.held


def end_now(app, auction_id: int) -> None:
    """Move the end into the past, as the clock would (a write transaction of its own: a running
    server may be writing too, and a read upgraded to a write would fail on SQLite)."""

    @atomic
    def move_the_end() -> None:
        auction = db.session.get(Auction, auction_id)
        auction.ends_at = utcnow() - timedelta(seconds=1)
        auction.starts_at = min(auction.starts_at, auction.ends_at - timedelta(minutes=1))

    with app.app_context():
        move_the_end()
        db.session.remove()


def auction_row(app, auction_id: int) -> Auction:
    with app.app_context():
        auction = db.session.get(Auction, auction_id)
        db.session.expunge(auction)
        return auction


def active_holds(app, auction_id: int) -> dict[int, int]:
    with app.app_context():
        rows = db.session.execute(
            select(Hold.user_id, Hold.amount).where(Hold.auction_id == auction_id, Hold.status == "active")
        ).all()
        return dict(rows)


def bid_rows(app, auction_id: int) -> list[tuple[int, int, str]]:
    with app.app_context():
        rows = db.session.execute(
            select(Bid.bidder_id, Bid.amount, Bid.kind).where(Bid.auction_id == auction_id).order_by(Bid.id)
        ).all()
        return [tuple(r) for r in rows]


@pytest.fixture
def people(app, make_user):
    """A seller and two bidders, Alice and Bob, with 1,000 Stars each: (seller, alice, bob)."""
    seller = make_user("Sam")
    alice = make_user("Alice")
    bob = make_user("Bob")
    for user in (alice, bob):
        give_stars(app, user, 1_000)
    return seller, alice, bob

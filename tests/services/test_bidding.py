"""Bidding transactions on a real database: holds, proxy bids, every auction type, closing."""

from __future__ import annotations

from datetime import timedelta

import pytest

from auction.extensions import db
from auction.models import Auction, utcnow
from auction.services import bidding, errors, lifecycle
from auction.services.errors import Forbidden
from auction.services.ledger import InsufficientFunds
from tests.support.bidding_helpers import (
    active_holds,
    auction_row,
    balances,
    bid_rows,
    end_now,
    give_stars,
    new_auction,
)
from tests.support.invariants import assert_ledger_clean


def call(app, fn, *args, **kwargs):
    with app.app_context():
        try:
            return fn(*args, **kwargs)
        finally:
            db.session.remove()


def test_proxy_bidding_holds_the_leaders_maximum_and_releases_the_outbid(app, people):
    seller, alice, bob = people
    auction_id = new_auction(app, seller)

    first = call(app, bidding.place_bid, auction_id, alice, 100)
    assert (first.leading, first.price, first.min_next) == (True, 10, 11)
    assert balances(app, alice) == (900, 100)

    second = call(app, bidding.place_bid, auction_id, bob, 80)
    assert (second.leading, second.price) == (False, 81)
    assert balances(app, bob) == (1_000, 0)  # outbid at once: nothing held

    third = call(app, bidding.place_bid, auction_id, bob, 150)
    assert (third.leading, third.price) == (True, 105)
    assert balances(app, alice) == (1_000, 0)  # released at once
    assert balances(app, bob) == (850, 150)
    assert active_holds(app, auction_id) == {bob: 150}
    assert auction_row(app, auction_id).bid_count == 4
    assert_ledger_clean(app)


def test_refusals_change_nothing(app, people, make_user):
    seller, alice, bob = people
    auction_id = new_auction(app, seller)
    call(app, bidding.place_bid, auction_id, alice, 50)

    with pytest.raises(errors.BidTooLow) as info:
        call(app, bidding.place_bid, auction_id, bob, 10)
    assert "11" in str(info.value)
    with pytest.raises(errors.OwnAuction):
        call(app, bidding.place_bid, auction_id, seller, 500)
    with pytest.raises(InsufficientFunds):
        call(app, bidding.place_bid, auction_id, bob, 5_000)
    suspended = make_user("Sue", is_suspended=True)
    give_stars(app, suspended, 100)
    with pytest.raises(errors.BidderSuspended):
        call(app, bidding.place_bid, auction_id, suspended, 60)

    row = auction_row(app, auction_id)
    assert (row.current_price, row.leading_bidder_id, row.bid_count) == (10, alice, 1)
    assert balances(app, bob) == (1_000, 0)
    assert_ledger_clean(app)


def test_a_low_offer_gets_the_reason_that_matters_most(app, people, make_user):
    # Stale offers are refused before the write transaction; the other rules still win.
    seller, alice, bob = people
    auction_id = new_auction(app, seller)
    call(app, bidding.place_bid, auction_id, alice, 50)
    suspended = make_user("Sue", is_suspended=True)
    give_stars(app, suspended, 100)
    with pytest.raises(errors.BidderSuspended):
        call(app, bidding.place_bid, auction_id, suspended, 5)
    with pytest.raises(errors.OwnAuction):
        call(app, bidding.place_bid, auction_id, seller, 5)
    with pytest.raises(errors.BidTooLow) as info:
        call(app, bidding.place_bid, auction_id, alice, 5)  # the leader lowering their maximum
    assert "50" in str(info.value) and "51" in str(info.value)
    end_now(app, auction_id)
    with pytest.raises(errors.AuctionClosed):
        call(app, bidding.place_bid, auction_id, bob, 5)
    assert balances(app, bob) == (1_000, 0)
    assert_ledger_clean(app)


def test_no_bid_after_the_end_by_the_server_clock(app, people):
    seller, alice, _ = people
    auction_id = new_auction(app, seller)
    end_now(app, auction_id)  # the closing job has not run yet
    with pytest.raises(errors.AuctionClosed):
        call(app, bidding.place_bid, auction_id, alice, 50)
    assert balances(app, alice) == (1_000, 0)


def test_anti_sniping_extends_the_end(app, people):
    seller, alice, _ = people
    auction_id = new_auction(app, seller, ends_at=utcnow() + timedelta(seconds=30))
    result = call(app, bidding.place_bid, auction_id, alice, 20)
    assert result.extended
    assert result.ends_at >= utcnow() + timedelta(seconds=110)
    calm = new_auction(app, seller)
    assert not call(app, bidding.place_bid, calm, alice, 20).extended


def test_close_pays_the_seller_less_the_fee_and_releases_the_rest(app, people):
    seller, alice, bob = people
    auction_id = new_auction(app, seller)
    call(app, bidding.place_bid, auction_id, alice, 100)
    call(app, bidding.place_bid, auction_id, bob, 300)   # bob leads at 105
    end_now(app, auction_id)

    result = call(app, lifecycle.close_auction, auction_id)
    assert (result.winner_id, result.price) == (bob, 105)
    assert balances(app, bob) == (1_000 - 105, 0)
    assert balances(app, alice) == (1_000, 0)
    assert balances(app, seller) == (105 - 5, 0)  # 5 % fee
    assert call(app, lifecycle.close_auction, auction_id) is None  # idempotent
    assert balances(app, seller) == (100, 0)
    assert auction_row(app, auction_id).status == "ended"
    assert_ledger_clean(app)


def test_close_without_reaching_the_reserve_is_no_sale(app, people):
    seller, alice, _ = people
    auction_id = new_auction(app, seller, reserve_price=500)
    call(app, bidding.place_bid, auction_id, alice, 300)
    end_now(app, auction_id)
    result = call(app, lifecycle.close_auction, auction_id)
    assert (result.winner_id, result.price) == (None, None)
    assert balances(app, alice) == (1_000, 0)
    assert balances(app, seller) == (0, 0)
    assert_ledger_clean(app)


def test_closing_job_closes_every_overdue_auction(app, people):
    seller, alice, _ = people
    due = [new_auction(app, seller) for _ in range(3)]
    running = new_auction(app, seller)
    call(app, bidding.place_bid, due[0], alice, 40)
    for auction_id in due:
        end_now(app, auction_id)
    closed = call(app, lifecycle.close_due_auctions)
    assert sorted(r.auction_id for r in closed) == sorted(due)
    assert auction_row(app, running).status == "live"
    assert call(app, lifecycle.close_due_auctions) == []
    assert balances(app, seller) == (10, 0)  # 10 less a fee that rounds to 0
    assert_ledger_clean(app)


def test_one_auction_failing_to_close_does_not_hold_up_the_others(app, people, monkeypatch):
    seller, alice, _ = people
    due = [new_auction(app, seller) for _ in range(3)]
    for auction_id in due:
        call(app, bidding.place_bid, auction_id, alice, 40)
        end_now(app, auction_id)
    real_close = lifecycle.close_auction

    def close_except_the_first(auction_id):
        if auction_id == due[0]:
            raise RuntimeError("simulated failure")
        return real_close(auction_id)

    monkeypatch.setattr(lifecycle, "close_auction", close_except_the_first)
    closed = call(app, lifecycle.close_due_auctions)
    assert sorted(r.auction_id for r in closed) == due[1:]
    assert auction_row(app, due[0]).status == "live"
    monkeypatch.setattr(lifecycle, "close_auction", real_close)
    assert [r.auction_id for r in call(app, lifecycle.close_due_auctions)] == [due[0]]
    assert active_holds(app, due[0]) == {}
    assert_ledger_clean(app)


def test_buy_now_is_an_english_auction_feature(app, people):
    seller, alice, bob = people
    auction_id = new_auction(app, seller, kind="sealed_first", start_price=50, reserve_price=100, buy_now_price=300)
    call(app, bidding.place_bid, auction_id, alice, 200)
    with pytest.raises(errors.NotAvailable):
        call(app, lifecycle.buy_now, auction_id, bob)
    assert active_holds(app, auction_id) == {alice: 200}
    assert auction_row(app, auction_id).status == "live"
    assert_ledger_clean(app)


def test_scheduled_auction_opens_at_its_start(app, people):
    seller, alice, _ = people
    later = new_auction(app, seller, status="scheduled", starts_at=utcnow() + timedelta(hours=1), ends_at=utcnow() + timedelta(hours=2))
    with pytest.raises(errors.AuctionNotStarted):
        call(app, bidding.place_bid, later, alice, 20)
    due = new_auction(app, seller, status="scheduled", starts_at=utcnow() - timedelta(seconds=1))
    assert call(app, lifecycle.open_scheduled_auctions) == [due]
    assert auction_row(app, due).status == "live"
    assert auction_row(app, later).status == "scheduled"


def test_buy_now_until_the_first_bid(app, people):
    seller, alice, bob = people
    auction_id = new_auction(app, seller, buy_now_price=200)
    result = call(app, lifecycle.buy_now, auction_id, alice)
    assert (result.winner_id, result.price) == (alice, 200)
    assert balances(app, alice) == (800, 0)
    assert balances(app, seller) == (190, 0)
    with pytest.raises(errors.AuctionClosed):
        call(app, bidding.place_bid, auction_id, bob, 50)

    other = new_auction(app, seller, buy_now_price=200)
    call(app, bidding.place_bid, other, bob, 50)
    with pytest.raises(errors.NotAvailable):
        call(app, lifecycle.buy_now, other, alice)
    assert_ledger_clean(app)


def test_buy_now_with_reserve_releases_the_leaders_hold(app, people):
    seller, alice, bob = people
    auction_id = new_auction(app, seller, reserve_price=150, buy_now_price=300)
    call(app, bidding.place_bid, auction_id, bob, 100)  # reserve not met: buy now stays
    call(app, lifecycle.buy_now, auction_id, alice)
    assert balances(app, bob) == (1_000, 0)
    assert balances(app, alice) == (700, 0)
    assert_ledger_clean(app)


def test_dutch_accept_pays_the_clock_price(app, people):
    seller, alice, bob = people
    auction_id = new_auction(
        app, seller, kind="dutch", start_price=500, dutch_floor=100, dutch_step=50, dutch_interval_seconds=60,
        starts_at=utcnow() - timedelta(seconds=130),
    )
    with pytest.raises(errors.NotAvailable):
        call(app, bidding.place_bid, auction_id, alice, 500)
    result = call(app, lifecycle.accept_dutch, auction_id, alice)
    assert (result.winner_id, result.price) == (alice, 400)
    assert balances(app, alice) == (600, 0)
    with pytest.raises(errors.AuctionClosed):
        call(app, lifecycle.accept_dutch, auction_id, bob)
    assert_ledger_clean(app)


@pytest.mark.parametrize(("kind", "price"), [("sealed_first", 300), ("sealed_second", 200)])
def test_sealed_bids_hold_amounts_and_settle(app, people, make_user, kind, price):
    seller, alice, bob = people
    carol = make_user("Carol")
    give_stars(app, carol, 1_000)
    auction_id = new_auction(app, seller, kind=kind, start_price=50)
    call(app, bidding.place_bid, auction_id, alice, 100)
    call(app, bidding.place_bid, auction_id, alice, 300)  # raised
    with pytest.raises(errors.BidTooLow):
        call(app, bidding.place_bid, auction_id, alice, 200)  # never lowered
    call(app, bidding.place_bid, auction_id, bob, 200)
    call(app, bidding.place_bid, auction_id, carol, 150)
    assert active_holds(app, auction_id) == {alice: 300, bob: 200, carol: 150}
    row = auction_row(app, auction_id)
    assert (row.bid_count, row.current_price) == (3, 50)  # amounts stay hidden

    end_now(app, auction_id)
    result = call(app, lifecycle.close_auction, auction_id)
    assert (result.winner_id, result.price) == (alice, price)
    assert balances(app, alice) == (1_000 - price, 0)
    assert balances(app, bob) == (1_000, 0)
    assert balances(app, carol) == (1_000, 0)
    assert_ledger_clean(app)


def test_cancel_by_seller_before_first_bid_and_by_admin_any_time(app, people, make_user):
    seller, alice, _ = people
    admin = make_user("Ada", is_admin=True)
    quiet = new_auction(app, seller)
    assert call(app, lifecycle.cancel_auction, quiet, seller).status == "canceled"

    busy = new_auction(app, seller)
    call(app, bidding.place_bid, busy, alice, 60)
    with pytest.raises(errors.CannotCancel):
        call(app, lifecycle.cancel_auction, busy, seller)
    with pytest.raises(Forbidden):
        call(app, lifecycle.cancel_auction, busy, alice)
    call(app, lifecycle.cancel_auction, busy, admin)
    assert balances(app, alice) == (1_000, 0)
    assert auction_row(app, busy).status == "canceled"
    assert bid_rows(app, busy) == [(alice, 10, "proxy")]
    assert_ledger_clean(app)


def test_history_records_automatic_bids(app, people):
    seller, alice, bob = people
    auction_id = new_auction(app, seller)
    call(app, bidding.place_bid, auction_id, alice, 100)
    call(app, bidding.place_bid, auction_id, bob, 80)
    assert bid_rows(app, auction_id) == [(alice, 10, "proxy"), (bob, 80, "bid"), (alice, 81, "proxy")]
    with app.app_context():
        assert db.session.get(Auction, auction_id).current_price == 81


def test_outbid_winner_seller_and_losers_are_told_in_their_language(app, people, make_user):
    seller, alice, bob = people
    carol = make_user("Carol", language_code="ru")
    give_stars(app, carol, 1_000)
    auction_id = new_auction(app, seller, title="Lamp")
    call(app, bidding.place_bid, auction_id, alice, 100)
    call(app, bidding.place_bid, auction_id, carol, 120)  # alice is outbid
    call(app, bidding.place_bid, auction_id, bob, 200)    # carol is outbid
    end_now(app, auction_id)
    call(app, lifecycle.close_auction, auction_id)
    call(app, lifecycle.close_auction, auction_id)  # told once, however often the job runs

    with app.app_context():
        from sqlalchemy import select

        from auction.models import OutboxMessage

        sent = [(m.user_id, m.kind, m.payload["text"]) for m in db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))]
    sent = [row for row in sent if row[1] not in ("achievement", "rate_request")]  # the people side's own messages
    assert (alice, "outbid", "You have been outbid on “Lamp”: the price is now 105 ⭐.") in sent
    assert (bob, "auction_won", "You won “Lamp” for 125 ⭐.") in sent
    assert (seller, "auction_sold", "“Lamp” sold for 125 ⭐. You receive 119 ⭐ after the platform fee.") in sent
    assert (alice, "auction_lost", "“Lamp” has ended; another bidder won it.") in sent
    assert [kind for user, kind, _ in sent if user == carol] == ["outbid", "auction_lost"]
    assert [t for u, k, t in sent if u == carol][0] == "Вашу ставку на «Lamp» перебили: цена теперь 125 ⭐."


def test_dutch_price_steps_are_published_once_each(app, people):
    seller, alice, _ = people
    published = []

    def sink(events):
        published.extend(e for e in events if e[1] == "dutch_price")

    from auction.services.transaction import add_event_sink, remove_event_sink

    add_event_sink(app, sink)
    try:
        auction_id = new_auction(
            app, seller, kind="dutch", start_price=500, dutch_floor=100, dutch_step=50, dutch_interval_seconds=60,
            starts_at=utcnow() - timedelta(seconds=125),
        )
        assert call(app, lifecycle.announce_dutch_steps) == [auction_id]
        assert call(app, lifecycle.announce_dutch_steps) == []  # nothing new until the next drop
    finally:
        remove_event_sink(app, sink)
    assert [(c, d["price"]) for c, _, d in published] == [(f"auction:{auction_id}", 400)]
    assert auction_row(app, auction_id).current_price == 400
    assert call(app, lifecycle.accept_dutch, auction_id, alice).price == 400

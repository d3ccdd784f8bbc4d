"""Many bidders at once on the same auctions: one leader, exact holds, every accepted bid recorded."""

from __future__ import annotations

import random
import threading
from datetime import timedelta

from sqlalchemy import func, select

from auction.extensions import db
from auction.models import Auction, Bid, Hold, utcnow
from auction.services import auction_lock, bidding, lifecycle
from auction.services.errors import ServiceError
from tests.support.bidding_helpers import give_stars, new_auction
from tests.support.invariants import assert_ledger_clean

THREADS = 24
BIDS_PER_THREAD = 8


def test_concurrent_bidders_never_break_the_books(app, make_user):
    seller = make_user("Sam")
    bidders = [make_user(f"Bidder{i}") for i in range(THREADS)]
    for user in bidders:
        give_stars(app, user, 5_000)
    english = [new_auction(app, seller) for _ in range(2)]
    sealed = new_auction(app, seller, kind="sealed_second", start_price=5)
    # Ends while the threads are still bidding; no extension, so late bids must be refused.
    closing = new_auction(app, seller, ends_at=utcnow() + timedelta(seconds=1.5), snipe_window_seconds=0)
    targets = [*english, sealed, closing]

    accepted: list[tuple[int, int]] = []
    unexpected: list[BaseException] = []
    lock = threading.Lock()
    start = threading.Barrier(THREADS + 1)

    def bidder(user_id: int, seed: int) -> None:
        rng = random.Random(seed)
        start.wait()
        with app.app_context():
            try:
                for _ in range(BIDS_PER_THREAD):
                    auction_id = rng.choice(targets)
                    try:
                        bidding.place_bid(auction_id, user_id, rng.randint(10, 2_000))
                    except ServiceError:
                        continue  # too low, closed, not enough Stars: refused cleanly
                    with lock:
                        accepted.append((auction_id, user_id))
            except BaseException as exc:  # noqa: BLE001 - reported below
                unexpected.append(exc)
            finally:
                db.session.remove()

    def closer() -> None:
        with app.app_context():
            try:
                for _ in range(30):
                    lifecycle.close_due_auctions()
                    threading.Event().wait(0.1)
            except BaseException as exc:  # noqa: BLE001
                unexpected.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=bidder, args=(user, i)) for i, user in enumerate(bidders)]
    threads.append(threading.Thread(target=closer))
    for thread in threads:
        thread.start()
    start.wait()
    for thread in threads:
        thread.join(timeout=120)
    assert not unexpected, unexpected
    assert len(accepted) >= THREADS, accepted

    with app.app_context():
        for auction_id in english:
            auction = db.session.get(Auction, auction_id)
            holds = dict(db.session.execute(
                select(Hold.user_id, Hold.amount).where(Hold.auction_id == auction_id, Hold.status == "active")
            ).all())
            # Exactly one leader, and only the leader's maximum is held.
            assert holds == {auction.leading_bidder_id: auction_lock.leader_max(auction)}
            mine = [a for a in accepted if a[0] == auction_id]
            recorded = db.session.scalar(
                select(func.count()).where(Bid.auction_id == auction_id, Bid.is_automatic.is_(False))
            )
            assert recorded == len(mine)

        bidders_sealed = {u for a, u in accepted if a == sealed}
        holds = dict(db.session.execute(
            select(Hold.user_id, Hold.amount).where(Hold.auction_id == sealed, Hold.status == "active")
        ).all())
        sealed_bids = dict(db.session.execute(select(Bid.bidder_id, Bid.amount).where(Bid.auction_id == sealed)).all())
        assert set(holds) == bidders_sealed and holds == sealed_bids

        late = db.session.get(Auction, closing)
        assert late.status == "ended"
        assert db.session.scalar(
            select(func.count()).where(Bid.auction_id == closing, Bid.created_at >= late.ends_at)
        ) == 0
        assert db.session.scalar(select(func.count()).where(Hold.auction_id == closing, Hold.status == "active")) == 0
        db.session.remove()
    assert_ledger_clean(app)

"""The event broker, in-process and on a real Redis: ids, replay, fan-out, publishing only after commit."""

from __future__ import annotations

import asyncio
import threading

import pytest

from auction.extensions import db
from auction.live.broker import MemoryBroker, RedisBroker, create_broker, decode_position, encode_position
from auction.services.ledger import credit_sandbox
from auction.services.transaction import atomic, emit
from tests.support.bidding_helpers import new_auction

REDIS_URL = "redis://127.0.0.1:6379/15"


@pytest.fixture(params=["memory", "redis"])
def broker_config(request, redis_namespace) -> dict:
    if request.param == "memory":
        return {"BROKER_URL": ""}
    return {"BROKER_URL": REDIS_URL, "BROKER_NAMESPACE": redis_namespace}


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, timeout=20))


def test_the_backend_follows_broker_url(redis_namespace):
    assert isinstance(create_broker({"BROKER_URL": ""}), MemoryBroker)
    assert isinstance(create_broker({"BROKER_URL": REDIS_URL, "BROKER_NAMESPACE": redis_namespace}), RedisBroker)
    with pytest.raises(ValueError):
        create_broker({"BROKER_URL": "amqp://127.0.0.1"})


def test_ids_increase_per_channel_and_the_buffer_replays_the_newest(broker_config):
    broker = create_broker({**broker_config, "LIVE_REPLAY_SIZE": 5})

    async def scenario():
        await broker.start()
        try:
            ids = [broker.publish("auction:7", "bid_placed", {"price": price}) for price in range(10, 18)]
            other = broker.publish("auction:8", "bid_placed", {"price": 1})
            assert ids == list(range(1, 9))
            assert other == 1
            assert await broker.last_ids(["auction:7", "auction:8", "listings"]) == {
                "auction:7": 8,
                "auction:8": 1,
                "listings": 0,
            }
            kept = await broker.since("auction:7", 0)
            assert [e.id for e in kept] == [4, 5, 6, 7, 8]  # only the last five are kept
            assert [e.data["price"] for e in await broker.since("auction:7", 6)] == [16, 17]
            assert await broker.since("auction:7", 8) == []
        finally:
            await broker.close()

    run(scenario())


def test_publishing_from_many_threads_delivers_every_event_in_id_order(broker_config):
    broker = create_broker({**broker_config, "LIVE_REPLAY_SIZE": 1000})
    threads, per_thread = 8, 40

    async def scenario():
        await broker.start()
        subscription = broker.subscribe(["auction:1", "listings"])
        returned: list[int] = []
        lock = threading.Lock()

        def publisher(n: int) -> None:
            for i in range(per_thread):
                event_id = broker.publish("auction:1", "bid_placed", {"thread": n, "i": i})
                with lock:
                    returned.append(event_id)

        workers = [threading.Thread(target=publisher, args=(n,)) for n in range(threads)]
        try:
            for worker in workers:
                worker.start()
            received = []
            while len(received) < threads * per_thread:
                await asyncio.wait_for(subscription.wait(), 5)  # a timeout here: an event went missing
                received.extend(subscription.pending)
                subscription.pending.clear()
            for worker in workers:
                worker.join()
            assert sorted(returned) == list(range(1, threads * per_thread + 1))
            assert [e.id for e in received] == list(range(1, threads * per_thread + 1))
            # Each thread's own events keep the order it published them in.
            for n in range(threads):
                assert [e.data["i"] for e in received if e.data["thread"] == n] == list(range(per_thread))
        finally:
            for worker in workers:
                worker.join()
            await broker.close()

    run(scenario())


def test_a_subscriber_far_behind_is_dropped_instead_of_growing_without_bound():
    broker = MemoryBroker(queue_limit=3)

    async def scenario():
        await broker.start()
        subscription = broker.subscribe(["listings"])
        for n in range(5):
            broker.publish("listings", "auction_created", {"auction_id": n})
        await asyncio.sleep(0.05)
        assert subscription.closed and subscription.overflowed
        # Its page reconnects with Last-Event-ID; everything is still in the buffer.
        assert len(await broker.since("listings", 0)) == 5
        await broker.close()

    run(scenario())


def test_redis_shares_ids_and_events_between_processes(redis_namespace):
    config = {"BROKER_URL": REDIS_URL, "BROKER_NAMESPACE": redis_namespace}
    first, second = create_broker(config), create_broker(config)

    async def scenario():
        await first.start()
        await second.start()
        try:
            assert first.epoch == second.epoch
            watching = second.subscribe(["auction:3"])
            assert first.publish("auction:3", "bid_placed", {"price": 5}) == 1
            assert second.publish("auction:3", "bid_placed", {"price": 6}) == 2
            received = []
            while len(received) < 2:
                await asyncio.wait_for(watching.wait(), 5)  # a timeout: the other process's event never came
                received.extend(watching.pending)
                watching.pending.clear()
            assert [(e.id, e.data["price"]) for e in received] == [(1, 5), (2, 6)]
        finally:
            await first.close()
            await second.close()

    run(scenario())


def test_the_stream_position_round_trips_and_rejects_foreign_text():
    position = encode_position("ab12", {"auction:1": 17, "listings": 230, "user:5": 3})
    assert position == "ab12~auction:1=17,listings=230,user:5=3"
    assert decode_position(position) == ("ab12", {"auction:1": 17, "listings": 230, "user:5": 3})
    assert decode_position("42") is None
    assert decode_position("ab12~evil=3,auction:x=1,listings=-1") == ("ab12", {})


def test_committed_events_reach_the_broker_and_rolled_back_ones_never_do(make_app, make_user, broker_config):
    app = make_app(**broker_config)
    broker = app.extensions["broker"]
    seller = make_user("Sam")

    auction_id = new_auction(app, seller, listed=True)
    with app.app_context():
        credit_sandbox(seller, 50)
    assert broker.current_ids(["listings", f"user:{seller}"]) == {"listings": 1, f"user:{seller}": 1}

    @atomic
    def list_then_fail() -> None:
        emit("listings", "auction_created", {"auction_id": auction_id})
        credit_sandbox(seller, 50)  # joins this transaction, so its balance event waits for our commit
        raise RuntimeError("the payment provider said no")

    with app.app_context(), pytest.raises(RuntimeError):
        list_then_fail()
    assert broker.current_ids(["listings", f"user:{seller}"]) == {"listings": 1, f"user:{seller}": 1}

    async def replayed():
        await broker.start()
        try:
            return await broker.since("listings", 0), await broker.since(f"user:{seller}", 0)
        finally:
            await broker.close()

    listings, balance = run(replayed())
    assert [(e.name, e.data) for e in listings] == [("auction_created", {"auction_id": auction_id})]
    assert balance[0].name == "balance_changed" and balance[0].data["available"] == 50
    with app.app_context():
        db.session.remove()

"""The live contract is registered explicitly by create_app (`register_live`), per app, never at import."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

from auction.extensions import db
from auction.live import publish_committed, renderers_of
from auction.services import bidding
from auction.services.transaction import add_event_sink, commit_hooks
from tests.support.bidding_helpers import new_auction

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _bid(app, auction_id: int, user_id: int, amount: int):
    with app.app_context():
        try:
            return bidding.place_bid(auction_id, user_id, amount)
        finally:
            db.session.remove()


def test_importing_the_package_registers_nothing_until_an_app_is_created(tmp_path):
    script = textwrap.dedent(
        """
        from sqlalchemy import event
        from sqlalchemy.engine import Engine
        from sqlalchemy.orm import Session

        import auction.web.live_fragments, auction.web.wallet, auction.web.notifications, auction.bot.dispatcher
        from auction import create_app, database
        from auction.services import achievements, notifications, saved_searches, transaction

        listeners = [(Session, "after_commit", transaction._after_commit), (Session, "after_rollback", transaction._after_rollback),
                     (Session, "after_transaction_end", transaction._forget_locks),
                     (Engine, "connect", database._configure_sqlite), (Engine, "begin", database._begin_sqlite)]
        print("imported", [event.contains(*listener) for listener in listeners])
        print("kinds imported", [key in notifications.KINDS for key in ("achievement", "saved_search_alert")])
        app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite:///%s", "SECRET_KEY": "x", "BOT_MODE": "off"})
        print("created", [event.contains(*listener) for listener in listeners])
        print("kinds created", [key in notifications.KINDS for key in ("achievement", "saved_search_alert")])
        """
        % (tmp_path / "fresh.db")
    )
    env = {**os.environ, "BOT_MODE": "off"}
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "imported [False, False, False, False, False]" in result.stdout
    assert "created [True, True, True, True, True]" in result.stdout
    # A feature's own notification kinds join the kinds table from create_app, not at import.
    assert "kinds imported [False, False]" in result.stdout
    assert "kinds created [True, True]" in result.stdout


def test_each_app_gets_its_own_renderers_and_sinks_and_a_second_app_doubles_nothing(app, make_app, people):
    seller, alice, _ = people
    first = app
    second = make_app(create_schema=False)
    for app in (first, second):
        assert commit_hooks(app).sinks == [publish_committed]  # once, however many apps were built
        assert {"bid_placed", "auction_viewer", "balance_changed", "notification_created"} <= set(renderers_of(app))
    assert commit_hooks(first) is not commit_hooks(second)
    assert renderers_of(first) is not renderers_of(second)

    seen_first: list[tuple[str, str, dict]] = []
    seen_second: list[tuple[str, str, dict]] = []
    add_event_sink(first, seen_first.extend)
    add_event_sink(first, seen_first.extend)  # added twice: still told once
    add_event_sink(second, seen_second.extend)
    auction_id = new_auction(first, seller)
    seen_first.clear()
    _bid(first, auction_id, alice, 40)
    bids = [data for channel, name, data in seen_first if name == "bid_placed"]
    assert len(bids) == 1 and bids[0]["auction_id"] == auction_id  # one listener per process, one sink call per commit
    assert seen_second == []  # the other app's sinks hear only its own commits


def test_an_app_without_the_live_runtime_still_publishes_to_its_broker(app, people):
    """No server, no bot, no scheduler running: a committed bid still reaches the app's broker."""
    seller, alice, _ = people
    auction_id = new_auction(app, seller)
    broker = app.extensions["broker"]
    before = broker.current_ids([f"auction:{auction_id}"])
    result = _bid(app, auction_id, alice, 40)
    assert result.leading
    after = broker.current_ids([f"auction:{auction_id}"])
    assert after[f"auction:{auction_id}"] > before.get(f"auction:{auction_id}", 0)

"""Events leave a transaction only at its real commit, never when a SAVEPOINT inside it ends.

Found by the browser test of an auction closing: the outbox's savepoint released the close's
events before the commit, so every open page rendered the auction as still live.
"""

from __future__ import annotations

from sqlalchemy import select

from auction.extensions import db
from auction.models import User
from auction.services.transaction import add_event_sink, atomic, emit, remove_event_sink


def test_events_wait_for_the_commit_past_a_released_or_rolled_back_savepoint(app, make_user):
    user_id = make_user("Ada")
    seen: list[tuple[str, str, dict, str]] = []

    def sink(events) -> None:
        # What a page rendered at this moment would read, on a connection of its own.
        with db.engine.connect() as conn:
            name = conn.scalar(select(User.first_name).where(User.id == user_id))
        seen.extend((channel, event, data, name) for channel, event, data in events)

    @atomic
    def rename(savepoint_fails: bool) -> None:
        db.session.get(User, user_id).first_name = "Ada Lovelace"
        emit(f"user:{user_id}", "renamed", {"user_id": user_id})
        try:
            with db.session.begin_nested():
                db.session.add(User(first_name="Twin", telegram_id=None))
                if savepoint_fails:
                    raise RuntimeError("the twin loses")
        except RuntimeError:
            pass
        assert seen == []  # neither the released nor the rolled-back savepoint let anything out

    add_event_sink(app, sink)
    try:
        with app.app_context():
            rename(savepoint_fails=False)
            assert seen == [(f"user:{user_id}", "renamed", {"user_id": user_id}, "Ada Lovelace")]
            seen.clear()
            rename(savepoint_fails=True)
            assert [event for _, event, _, _ in seen] == ["renamed"]
    finally:
        remove_event_sink(app, sink)

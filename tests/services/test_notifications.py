"""Notifications: every kind from a real scenario reaches each enabled channel once, preferences,
quiet hours, the digest of a bidding war, reminders by a controllable clock."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from auction.extensions import db
from auction.live.renderers import render_event
from auction.models import Auction, Notification, OutboxMessage, utcnow
from auction.services import bidding, lifecycle, notifications, watchlist
from tests.support.bidding_helpers import end_now, give_stars, new_auction


@pytest.fixture
def trio(app, make_user):
    seller, alice, bob = make_user("Sam"), make_user("Alice"), make_user("Bob")
    give_stars(app, alice, 10_000)
    give_stars(app, bob, 10_000)
    # Badges (tests/web/test_people.py) would join these counts: a first bid earns one. They are off here.
    with app.app_context():
        for user_id in (seller, alice, bob):
            for channel in notifications.CHANNELS:
                notifications.set_preference(user_id, "achievement", channel, False)
        db.session.remove()
    return seller, alice, bob


def call(app, fn, *args, **kwargs):
    with app.app_context():
        result = fn(*args, **kwargs)
        db.session.remove()
        return result


def web_rows(app, user_id: int, kind: str | None = None) -> list[tuple[str, int, str]]:
    """(kind, count, text) of the person's shown notifications, oldest first."""
    with app.app_context():
        query = select(Notification).where(Notification.user_id == user_id, Notification.shown.is_(True)).order_by(Notification.id)
        rows = [(r.kind, r.count, str(notifications.text_of(r))) for r in db.session.scalars(query)]
        db.session.remove()
    return [row for row in rows if kind is None or row[0] == kind]


def telegram_rows(app, user_id: int, kind: str | None = None) -> list[OutboxMessage]:
    with app.app_context():
        query = select(OutboxMessage).where(OutboxMessage.user_id == user_id).order_by(OutboxMessage.id)
        rows = list(db.session.scalars(query))
        db.session.expunge_all()
        db.session.remove()
    # Rating requests (tests/web/test_people.py) follow every sale; these tests are about the others.
    rows = [row for row in rows if row.kind != "rate_request"]
    return [row for row in rows if kind is None or row.kind == kind]


def test_a_real_outbid_reaches_telegram_and_the_centre_once_with_bid_and_open_buttons(app, trio):
    seller, alice, bob = trio
    auction_id = new_auction(app, seller, title="Lamp")
    call(app, bidding.place_bid, auction_id, alice, 100)
    call(app, bidding.place_bid, auction_id, bob, 200)

    assert web_rows(app, alice) == [("outbid", 1, "You have been outbid on “Lamp”: the price is now 105 ⭐.")]
    [message] = telegram_rows(app, alice)
    assert message.kind == "outbid" and message.status == "pending"
    [[bid, open_]] = message.payload["buttons"]
    assert bid == {"text": "Bid 110 ⭐", "callback_data": f"bid:{auction_id}:110"}
    assert open_["text"] == "Open" and open_["url"].endswith(f"/auctions/{auction_id}")
    # The seller hears about each new bid (merged within the minute); Bob, who leads, hears nothing.
    assert web_rows(app, seller, "new_bid") == [("new_bid", 2, "2 new bids on your “Lamp”, price now 105 ⭐.")]
    assert web_rows(app, bob) == []


def test_the_leader_hears_when_their_maximum_answers(app, trio):
    seller, alice, bob = trio
    auction_id = new_auction(app, seller, title="Lamp")
    call(app, bidding.place_bid, auction_id, alice, 500)
    call(app, bidding.place_bid, auction_id, bob, 50)  # Alice's maximum answers at once
    assert web_rows(app, alice) == [("lead_again", 1, "Someone bid on “Lamp”; your maximum answered and you still lead at 51 ⭐.")]
    assert [r.kind for r in telegram_rows(app, alice)] == ["lead_again"]
    assert web_rows(app, bob) == []  # the bid page itself tells Bob he was outbid at once


def test_a_disabled_channel_gets_nothing_and_the_others_still_do(app, trio):
    seller, alice, bob = trio
    call(app, notifications.set_preference, alice, "outbid", "telegram", False)
    call(app, notifications.set_preference, bob, "outbid", "web", False)
    auction_id = new_auction(app, seller)
    call(app, bidding.place_bid, auction_id, alice, 100)
    call(app, bidding.place_bid, auction_id, bob, 200)
    call(app, bidding.place_bid, auction_id, alice, 300)

    assert [k for k, _, _ in web_rows(app, alice)] == ["outbid"]
    assert telegram_rows(app, alice, "outbid") == []
    assert web_rows(app, bob, "outbid") == []
    assert len(telegram_rows(app, bob, "outbid")) == 1
    with app.app_context():
        assert notifications.unread_count(bob) == 0


def test_a_person_without_telegram_still_learns_on_the_site(app, trio, make_user):
    seller, alice, _ = trio
    demo = make_user("Demo", telegram_id=None, is_demo=True)
    give_stars(app, demo, 1_000)
    auction_id = new_auction(app, seller, title="Lamp")
    call(app, bidding.place_bid, auction_id, demo, 100)
    call(app, bidding.place_bid, auction_id, alice, 200)
    end_now(app, auction_id)
    call(app, lifecycle.close_auction, auction_id)
    # The badge for a first bid reaches the site too, now that badges are a notification kind.
    assert [k for k, _, _ in web_rows(app, demo)] == ["achievement", "outbid", "auction_lost"]
    assert telegram_rows(app, demo) == []


def test_closing_tells_winner_seller_and_loser_once_each(app, trio):
    seller, alice, bob = trio
    auction_id = new_auction(app, seller, title="Lamp")
    call(app, bidding.place_bid, auction_id, alice, 100)
    call(app, bidding.place_bid, auction_id, bob, 200)
    end_now(app, auction_id)
    call(app, lifecycle.close_auction, auction_id)
    call(app, lifecycle.close_auction, auction_id)
    assert web_rows(app, bob, "auction_won") == [("auction_won", 1, "You won “Lamp” for 105 ⭐.")]
    assert len(telegram_rows(app, bob, "auction_won")) == 1
    assert len(web_rows(app, seller, "auction_sold")) == 1 and len(telegram_rows(app, seller, "auction_sold")) == 1
    assert len(web_rows(app, alice, "auction_lost")) == 1 and len(telegram_rows(app, alice, "auction_lost")) == 1


def test_an_unsold_auction_tells_the_seller(app, trio):
    seller, _, _ = trio
    auction_id = new_auction(app, seller, title="Lamp")
    end_now(app, auction_id)
    call(app, lifecycle.close_auction, auction_id)
    assert web_rows(app, seller) == [("auction_unsold", 1, "“Lamp” ended without a sale.")]


def test_reserve_met_once_and_extension_to_leader_and_watchers(app, trio, make_user):
    seller, alice, bob = trio
    carol = make_user("Carol")
    now = utcnow()
    auction_id = new_auction(
        app, seller, title="Lamp", reserve_price=150, ends_at=now + timedelta(seconds=30),
        snipe_window_seconds=300, snipe_extension_seconds=120,
    )
    call(app, watchlist.watch, carol, auction_id)
    call(app, bidding.place_bid, auction_id, alice, 200)  # reaches the reserve, extends the end
    call(app, bidding.place_bid, auction_id, bob, 300)    # extends again
    assert [k for k, _, _ in web_rows(app, seller, "reserve_met")] == ["reserve_met"]
    assert len(web_rows(app, alice, "reserve_met")) == 1
    assert web_rows(app, carol, "auction_extended")[0][1] == 2  # two extensions merged into one
    first, digest = telegram_rows(app, carol, "auction_extended")  # the first at once, the rest as one digest
    assert digest.next_attempt_at > utcnow() + timedelta(seconds=30) and "extended 2 times" in digest.payload["text"]


def test_an_extension_reads_in_each_readers_own_zone_and_language(app, trio, make_user):
    """A time in a notification is the reader's: Moscow reads Moscow time, in Russian, everywhere it is shown."""
    seller, alice, _ = trio
    moscow = make_user("Дарья", language_code="ru", timezone="Europe/Moscow")
    tokyo = make_user("Ken", timezone="Asia/Tokyo")
    auction_id = new_auction(app, seller, title="Lamp", ends_at=utcnow() + timedelta(seconds=30),
                             snipe_window_seconds=300, snipe_extension_seconds=120)
    for watcher in (moscow, tokyo):
        call(app, watchlist.watch, watcher, auction_id)
    call(app, bidding.place_bid, auction_id, alice, 20)
    with app.app_context():
        ends = db.session.get(Auction, auction_id).ends_at
    from zoneinfo import ZoneInfo

    in_moscow = ends.astimezone(ZoneInfo("Europe/Moscow")).strftime("%H:%M")
    in_tokyo = ends.astimezone(ZoneInfo("Asia/Tokyo")).strftime("%H:%M")
    (to_moscow,) = telegram_rows(app, moscow, "auction_extended")
    assert f"{in_moscow} (Europe/Moscow)" in to_moscow.payload["text"] and "завершится" in to_moscow.payload["text"]
    (to_tokyo,) = telegram_rows(app, tokyo, "auction_extended")
    assert f"{in_tokyo} (Asia/Tokyo)" in to_tokyo.payload["text"]
    # The notification centre writes it the same way for its reader.
    with app.app_context():
        (shown,) = [item for item in notifications.page_of(tokyo).items if item.kind == "auction_extended"]
    assert f"{in_tokyo} (Asia/Tokyo)" in shown.text


def test_a_watched_scheduled_auction_that_opens_tells_its_watchers(app, trio):
    seller, alice, _ = trio
    now = utcnow()
    auction_id = new_auction(app, seller, title="Lamp", status="scheduled", starts_at=now + timedelta(minutes=5), ends_at=now + timedelta(hours=1))
    call(app, watchlist.watch, alice, auction_id)
    with app.app_context():
        db.session.execute(update(Auction).where(Auction.id == auction_id).values(starts_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    call(app, lifecycle.open_scheduled_auctions)
    call(app, lifecycle.open_scheduled_auctions)
    assert web_rows(app, alice) == [("auction_opened", 1, "“Lamp”, which you watch, is open for bids.")]
    assert len(telegram_rows(app, alice, "auction_opened")) == 1


def bidding_war(app, auction_id: int, alice: int, bob: int, rounds: range) -> None:
    """Alice raises, Bob outbids her, once per round (20 Stars a round)."""
    for step in rounds:
        call(app, bidding.place_bid, auction_id, alice, 100 + step * 20)
        call(app, bidding.place_bid, auction_id, bob, 110 + step * 20)


def test_a_bidding_war_becomes_one_digest(app, trio):
    seller, alice, bob = trio
    auction_id = new_auction(app, seller, title="Lamp")
    bidding_war(app, auction_id, alice, bob, range(6))
    with app.app_context():
        price = db.session.get(Auction, auction_id).current_price
    assert web_rows(app, alice, "outbid") == [("outbid", 6, f"Outbid 6 times on “Lamp”, price now {price} ⭐.")]
    first, digest = telegram_rows(app, alice, "outbid")
    assert first.payload["text"].startswith("You have been outbid")
    assert digest.payload["text"] == f"Outbid 6 times on “Lamp”, price now {price} ⭐."
    assert digest.next_attempt_at >= first.created_at + timedelta(seconds=notifications.DIGEST_SECONDS - 1)


def test_a_digest_that_went_out_is_not_rewritten_while_the_war_goes_on(app, trio):
    seller, alice, bob = trio
    auction_id = new_auction(app, seller, title="Lamp")
    bidding_war(app, auction_id, alice, bob, range(3))
    first, digest = telegram_rows(app, alice, "outbid")
    assert digest.payload["text"].startswith("Outbid 3 times")
    with app.app_context():  # the dispatcher sent the digest early (e.g. the window ended)
        db.session.execute(update(OutboxMessage).where(OutboxMessage.id == digest.id).values(status="sent", sent_at=utcnow()))
        db.session.commit()
    bidding_war(app, auction_id, alice, bob, range(3, 5))
    # The centre keeps counting; what went out stays as it was and no second digest is queued.
    assert [count for _, count, _ in web_rows(app, alice, "outbid")] == [5]
    assert [(m.id, m.status, m.payload["text"][:15]) for m in telegram_rows(app, alice, "outbid")] == [
        (first.id, first.status, first.payload["text"][:15]),
        (digest.id, "sent", "Outbid 3 times "),
    ]


def test_quiet_hours_hold_telegram_and_the_centre_records(app, trio):
    seller, alice, bob = trio
    local_now = utcnow()  # Alice's zone is UTC
    start = (local_now - timedelta(hours=1)).strftime("%H:%M")
    end = (local_now + timedelta(hours=1)).strftime("%H:%M")
    call(app, notifications.set_quiet_hours, alice, start, end)
    auction_id = new_auction(app, seller)
    call(app, bidding.place_bid, auction_id, alice, 100)
    call(app, bidding.place_bid, auction_id, bob, 200)
    assert len(web_rows(app, alice, "outbid")) == 1
    [held] = telegram_rows(app, alice, "outbid")
    assert held.next_attempt_at >= utcnow() + timedelta(minutes=58)
    with app.app_context():
        from auction.services import outbox

        assert held.id not in [m.id for m in outbox.due_messages()]
        assert held.id in [m.id for m in outbox.due_messages(now=utcnow() + timedelta(hours=1, minutes=1))]


@pytest.mark.parametrize(
    ("start", "end", "reminders"),
    [("25:00", "07:00", None), ("22:00", "", None), ("08:00", "08:00", None), ("", "", "0"), ("", "", "a, b"), ("", "", "5,10,20,30")],
)
def test_bad_quiet_hours_and_reminders_are_refused(app, trio, start, end, reminders):
    _, alice, _ = trio
    with pytest.raises(notifications.ServiceError):
        call(app, notifications.set_quiet_hours, alice, start, end, reminders)


def test_reminders_60_and_10_minutes_before_by_a_controllable_clock(app, trio):
    seller, alice, bob = trio
    auction_id = new_auction(app, seller, title="Lamp", ends_at=utcnow() + timedelta(hours=2))
    call(app, watchlist.watch, alice, auction_id)
    call(app, bidding.place_bid, auction_id, bob, 100)
    call(app, notifications.set_quiet_hours, bob, "", "", "30")
    start = utcnow()
    assert call(app, notifications.remind_ending_soon, start) == 0
    assert call(app, notifications.remind_ending_soon, start + timedelta(minutes=61)) == 1  # Alice: 60 min
    assert call(app, notifications.remind_ending_soon, start + timedelta(minutes=62)) == 0
    assert call(app, notifications.remind_ending_soon, start + timedelta(minutes=91)) == 1  # Bob: 30 min
    assert call(app, notifications.remind_ending_soon, start + timedelta(minutes=111)) == 1  # Alice: 10 min
    assert call(app, notifications.remind_ending_soon, start + timedelta(minutes=115)) == 0
    assert [t for _, _, t in web_rows(app, alice, "ending_soon")] == [
        "“Lamp” ends in less than 60 min. Current price: 10 ⭐.",
        "“Lamp” ends in less than 10 min. Current price: 10 ⭐.",
    ]
    assert len(telegram_rows(app, alice, "ending_soon")) == 2
    assert len(web_rows(app, bob, "ending_soon")) == 1


def test_the_live_event_renders_the_bell_and_a_toast(app, trio):
    seller, alice, bob = trio
    auction_id = new_auction(app, seller, title="Lamp")
    call(app, bidding.place_bid, auction_id, alice, 100)
    call(app, bidding.place_bid, auction_id, bob, 200)
    with app.app_context():
        row_id = db.session.scalar(select(Notification.id).where(Notification.user_id == alice, Notification.kind == "outbid"))
    fragments = dict(render_event(app, "notification_created", {"user_id": alice, "notification_id": row_id}, "ru"))
    assert ">1<" in fragments["notification-bell"]
    assert "Лампа" not in fragments["notification-toast"] and f"/auctions/{auction_id}" in fragments["notification-toast"]
    assert "перебили" in fragments["notification-toast"].lower()


# -- the web centre and the settings page -----------------------------------------------------


def outbid_alice(app, trio, times: int = 1) -> int:
    seller, alice, bob = trio
    auction_id = new_auction(app, seller, title="Lamp")
    for step in range(times):
        call(app, bidding.place_bid, auction_id, alice, 100 + step * 20)
        call(app, bidding.place_bid, auction_id, bob, 110 + step * 20)
    return auction_id


def signed_in(app, user_id):
    from tests.conftest import sign_in

    client = app.test_client()
    sign_in(client, user_id)
    return client


def test_the_centre_lists_links_and_marks_read(app, trio):
    from tests.conftest import page

    seller, alice, _ = trio
    auction_id = outbid_alice(app, trio)
    client = signed_in(app, alice)
    html = page(client.get("/notifications"))
    [item] = html.select("[data-testid=notification]")
    assert item.a["href"] == f"/auctions/{auction_id}"
    assert html.select_one("[data-testid=bell-count]").text == "1"
    token = html.body["hx-headers"].split('"')[3]

    fragment = client.post(item.form["action"], headers={"HX-Request": "true", "X-CSRFToken": token})
    assert fragment.status_code == 200
    assert 'hx-swap-oob="innerHTML"' in fragment.get_data(as_text=True) and ">0<" in fragment.get_data(as_text=True)
    assert page(client.get("/notifications")).select_one("[data-testid=notification]").form is None

    # Someone else's notification is not there for Alice, and a GET changes nothing.
    with app.app_context():
        other = db.session.scalar(select(Notification.id).where(Notification.user_id == seller))
    assert client.post(f"/notifications/{other}/read", headers={"X-CSRFToken": token}).status_code == 404
    assert client.get(f"/notifications/{other}/read").status_code == 405
    assert client.post(f"/notifications/{other}/read").status_code == 400  # no CSRF token


def test_mark_all_read_plain_form_and_paging(app, trio):
    from tests.conftest import page

    _, alice, _ = trio
    for _ in range(3):
        outbid_alice(app, trio)
    client = signed_in(app, alice)
    listing = page(client.get("/notifications?page=1"))
    assert len(listing.select("[data-testid=notification]")) == 3
    token = listing.body["hx-headers"].split('"')[3]
    fragment = client.post("/notifications/read-all", headers={"HX-Request": "true", "X-CSRFToken": token})
    assert fragment.status_code == 200 and page(fragment).select_one("#notification-bell .bell-count").text == "0"
    response = client.post("/notifications/read-all", data={"csrf_token": token})
    assert response.status_code == 303
    after = page(client.get(response.headers["Location"]))
    assert after.select_one("[data-testid=bell-count]").text == "0"
    assert page(client.get("/notifications?page=2")).select("[data-testid=notification]") == []
    assert client.get("/notifications?page=-5").status_code == 200
    with app.app_context():
        listing = notifications.page_of(alice, 1, per_page=2)
        assert len(listing.items) == 2 and listing.has_next


def test_pages_need_a_signed_in_person(client):
    assert client.get("/notifications").status_code == 302
    assert client.get("/settings").status_code == 302


def test_settings_toggles_with_htmx_and_without(app, trio):
    from tests.conftest import page

    _, alice, _ = trio
    client = signed_in(app, alice)
    html = page(client.get("/settings"))
    toggle = html.select_one("[data-testid=toggle-outbid-telegram]")
    assert toggle["aria-pressed"] == "true"
    token = html.body["hx-headers"].split('"')[3]
    fragment = page(client.post("/settings/notifications", data={"kind": "outbid", "channel": "telegram", "enabled": "0"},
                                headers={"HX-Request": "true", "X-CSRFToken": token}))
    assert fragment.select_one("button")["aria-pressed"] == "false"
    plain = client.post("/settings/notifications", data={"kind": "outbid", "channel": "web", "enabled": "0", "csrf_token": token})
    assert plain.status_code == 303
    html = page(client.get("/settings"))
    assert html.select_one("[data-testid=toggle-outbid-web]")["aria-pressed"] == "false"
    assert html.select_one("[data-testid=toggle-auction_won-web]")["aria-pressed"] == "true"
    bad = client.post("/settings/notifications", data={"kind": "nonsense", "channel": "web", "enabled": "1", "csrf_token": token})
    assert bad.status_code == 404
    with app.app_context():
        assert notifications.enabled_channels(alice, "outbid") == {"email", "push"}  # email once an address is confirmed, push once a browser subscribes


def test_quiet_hours_form_saves_and_explains_mistakes(app, trio):
    from tests.conftest import page

    _, alice, _ = trio
    client = signed_in(app, alice)
    token = page(client.get("/settings")).body["hx-headers"].split('"')[3]
    wrong = page(client.post("/settings/quiet-hours", data={"quiet_from": "22:00", "quiet_until": "", "reminders": "60"},
                             headers={"HX-Request": "true", "X-CSRFToken": token}))
    assert "Quiet hours need a start and an end" in wrong.select_one("[role=alert]").text
    assert wrong.select_one("input[name=quiet_from]")["value"] == "22:00"  # nothing typed is lost
    saved = client.post("/settings/quiet-hours", data={"quiet_from": "22:00", "quiet_until": "07:30", "reminders": "10, 60", "csrf_token": token})
    assert saved.status_code == 303
    html = page(client.get("/settings"))
    assert html.select_one("input[name=quiet_until]")["value"] == "07:30"
    assert html.select_one("input[name=reminders]")["value"] == "60, 10"

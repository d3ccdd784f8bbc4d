"""The /premium page: the two plans side by side from config, and the viewer's own period."""

from datetime import timedelta

from auction.extensions import db
from auction.models import Subscription, utcnow
from auction.services import premium
from tests.conftest import page, sign_in


def _premium(app, user_id: int, days: int = 10, **fields) -> None:
    with app.app_context():
        now = utcnow()
        db.session.add(Subscription(user_id=user_id, starts_at=now - timedelta(days=1), expires_at=now + timedelta(days=days), **fields))
        db.session.commit()


def _cells(soup) -> dict[str, list[str]]:
    return {row.th.get_text(" ", strip=True): [td.get_text(" ", strip=True) for td in row.find_all("td")] for row in soup.select(".premium-compare tbody tr")}


def test_the_plans_come_from_config_in_both_languages(app, client):
    app.config.update(FREE_LIVE_AUCTIONS=4, PREMIUM_LIVE_AUCTIONS=40, FREE_PHOTOS=2, PREMIUM_PHOTOS=9, PLATFORM_FEE_PERCENT=6, PREMIUM_FEE_PERCENT=1, PREMIUM_PRICE=300)
    soup = page(client.get("/premium"))
    cells = _cells(soup)
    assert cells["Live and scheduled auctions at once"] == ["4", "40"]
    assert cells["Photos per listing"] == ["2", "9"]
    assert cells["Platform fee on a sale"] == ["6%", "1%"]
    assert "300" in soup.select_one(".lead").get_text()
    assert soup.select_one("#premium-state") is None  # a guest has no period
    assert soup.select_one("a[href^='/login']")  # and is asked to sign in

    russian = page(client.get("/premium", headers={"Accept-Language": "ru"}))
    assert "Фото в одном лоте" in _cells(russian)


def test_a_person_sees_their_own_period_and_only_while_it_runs(app, client, make_user):
    alice = make_user("Alice")
    sign_in(client, alice)
    assert "You do not have Premium." in page(client.get("/premium")).select_one("#premium-state").get_text()

    _premium(app, alice)
    assert "You have Premium until" in page(client.get("/premium")).select_one("#premium-state").get_text()


def test_a_period_counts_while_it_runs_even_after_renewal_is_cancelled(app, make_user):
    alice, bob, carol = make_user("Alice"), make_user("Bob"), make_user("Carol")
    _premium(app, alice, status="canceled")
    _premium(app, bob, days=-1)  # ran out yesterday; the expiry job has not run
    _premium(app, carol, status="expired")
    with app.app_context():
        assert premium.is_premium(alice)
        assert not premium.is_premium(bob)
        assert not premium.is_premium(carol)
        assert premium.allowance(alice).photos == app.config["PREMIUM_PHOTOS"]
        assert premium.allowance(bob).fee_percent == app.config["PLATFORM_FEE_PERCENT"]
        assert not premium.allowance(bob).allows_kind("dutch") and premium.allowance(alice).allows_kind("dutch")

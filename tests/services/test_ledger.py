"""The double-entry ledger: balances, holds, settlement and the invariant check."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from auction.extensions import db
from auction.models import Hold, LedgerAccount, LedgerTransfer
from auction.services import ledger, wallet
from auction.services.ledger import InsufficientFunds
from tests.support.bidding_helpers import new_auction
from tests.support.invariants import assert_ledger_clean, ledger_violations


@pytest.fixture
def people(app, make_user):
    buyer, seller = make_user("Buyer"), make_user("Seller")
    return buyer, seller, new_auction(app, seller, listed=True)


def test_sandbox_credit_shows_as_available(app, people):
    buyer, _, _ = people
    with app.app_context():
        assert ledger.balances(buyer) == ledger.Balances(0, 0)
        assert ledger.credit_sandbox(buyer, 300) == 300
        assert ledger.balances(buyer) == ledger.Balances(available=300, held=0)
        (entry,) = wallet.history(buyer).entries
        assert (entry.reason, entry.available_change, entry.held_change) == ("sandbox", 300, 0)
    assert_ledger_clean(app)


def test_hold_raise_lower_release(app, people):
    buyer, _, auction_id = people
    with app.app_context():
        ledger.credit_sandbox(buyer, 100)
        assert ledger.set_hold(buyer, auction_id, 40) == 60
        assert ledger.set_hold(buyer, auction_id, 70) == 30
        assert ledger.balances(buyer) == ledger.Balances(30, 70)
        assert ledger.set_hold(buyer, auction_id, 20) == 80
        (hold,) = wallet.active_holds(buyer)
        assert (hold.auction_id, hold.auction_title, hold.amount) == (auction_id, "Brass telescope", 20)
        assert ledger.release_hold(buyer, auction_id) == 100
        assert wallet.active_holds(buyer) == []
        assert ledger.balances(buyer) == ledger.Balances(100, 0)
        # Releasing nothing is harmless.
        assert ledger.release_hold(buyer, auction_id) == 100
        holds = db.session.scalars(select(Hold).where(Hold.user_id == buyer)).all()
        assert [h.status for h in holds] == ["released"]
    assert_ledger_clean(app)


def test_hold_beyond_available_is_refused_and_changes_nothing(app, people):
    buyer, _, auction_id = people
    with app.app_context():
        ledger.credit_sandbox(buyer, 50)
        ledger.set_hold(buyer, auction_id, 30)
        with pytest.raises(InsufficientFunds) as refused:
            ledger.set_hold(buyer, auction_id, 90)
        assert refused.value.needed == 40
        assert "Buy Stars" in str(refused.value)
        assert ledger.balances(buyer) == ledger.Balances(20, 30)
    assert_ledger_clean(app)


def test_capture_pays_seller_less_fee_and_returns_the_rest(app, people):
    buyer, seller, auction_id = people
    with app.app_context():
        ledger.credit_sandbox(buyer, 500)
        ledger.set_hold(buyer, auction_id, 300)
        assert ledger.capture_hold(buyer, auction_id, 250, seller, 5) == 250
        assert ledger.balances(buyer) == ledger.Balances(250, 0)
        # 250 * 5 // 100 = 12 to the platform, 238 to the seller.
        assert ledger.balances(seller) == ledger.Balances(238, 0)
        revenue = db.session.scalar(select(LedgerAccount).where(LedgerAccount.kind == "platform_revenue"))
        assert revenue.balance == 12
        assert db.session.scalar(select(Hold.status).where(Hold.user_id == buyer)) == "captured"
        reasons = [e.reason for e in wallet.history(seller).entries]
        assert reasons == ["sale"]
    assert_ledger_clean(app)


def test_capture_above_hold_tops_up_from_available(app, people):
    buyer, seller, auction_id = people
    with app.app_context():
        ledger.credit_sandbox(buyer, 100)
        ledger.set_hold(buyer, auction_id, 50)
        ledger.capture_hold(buyer, auction_id, 80, seller, 0)
        assert ledger.balances(buyer) == ledger.Balances(20, 0)
        assert ledger.balances(seller).available == 80
    assert_ledger_clean(app)


def test_pay_now_from_available_and_refused_when_short(app, people):
    buyer, seller, auction_id = people
    with app.app_context():
        ledger.credit_sandbox(buyer, 100)
        with pytest.raises(InsufficientFunds):
            ledger.pay_now(buyer, seller, auction_id, 150, 5)
        assert ledger.pay_now(buyer, seller, auction_id, 100, 5) == 0
        assert ledger.balances(seller).available == 95
    assert_ledger_clean(app)


def test_pay_now_uses_the_buyers_own_hold_first(app, people):
    buyer, seller, auction_id = people
    with app.app_context():
        ledger.credit_sandbox(buyer, 100)
        ledger.set_hold(buyer, auction_id, 60)
        ledger.pay_now(buyer, seller, auction_id, 90, 10)
        assert ledger.balances(buyer) == ledger.Balances(10, 0)
        assert ledger.balances(seller).available == 81
        assert wallet.active_holds(buyer) == []
    assert_ledger_clean(app)


def test_a_failed_hold_inside_an_outer_transaction_rolls_back_everything(app, people):
    buyer, _, auction_id = people
    from auction.services.transaction import atomic

    @atomic
    def bid_twice():
        ledger.set_hold(buyer, auction_id, 10)
        ledger.set_hold(buyer, auction_id, 10_000)

    with app.app_context():
        ledger.credit_sandbox(buyer, 20)
        with pytest.raises(InsufficientFunds):
            bid_twice()
        assert ledger.balances(buyer) == ledger.Balances(20, 0)
        assert wallet.active_holds(buyer) == []
    assert_ledger_clean(app)


def test_history_pages_newest_first(app, people):
    buyer, _, auction_id = people
    with app.app_context():
        for _ in range(5):
            ledger.credit_sandbox(buyer, 10)
        ledger.set_hold(buyer, auction_id, 15)
        first = wallet.history(buyer, page=1, per_page=4)
        assert (first.total, first.pages, first.has_next, first.has_prev) == (6, 2, True, False)
        hold = first.entries[0]
        assert (hold.reason, hold.available_change, hold.held_change, hold.change) == ("hold", -15, 15, 0)
        assert hold.auction_title == "Brass telescope"
        second = wallet.history(buyer, page=2, per_page=4)
        assert len(second.entries) == 2 and not second.has_next
    assert_ledger_clean(app)


def test_balance_changes_are_announced_after_commit(app, people):
    from auction.services.transaction import add_event_sink, remove_event_sink

    buyer, seller, auction_id = people
    seen = []
    add_event_sink(app, seen.extend)
    try:
        with app.app_context():
            ledger.credit_sandbox(buyer, 100)
            ledger.set_hold(buyer, auction_id, 30)
            with pytest.raises(InsufficientFunds):
                ledger.set_hold(buyer, auction_id, 500)
            ledger.capture_hold(buyer, auction_id, 30, seller, 0)
    finally:
        remove_event_sink(app, seen.extend)
    balance_events = [(c, d["available"], d["held"]) for c, n, d in seen if n == "balance_changed"]
    assert balance_events == [
        (f"user:{buyer}", 100, 0),
        (f"user:{buyer}", 70, 30),
        (f"user:{buyer}", 70, 0),
        (f"user:{seller}", 30, 0),
    ]


def test_check_finds_a_cached_balance_that_lies(app, people):
    buyer, _, _ = people
    with app.app_context():
        ledger.credit_sandbox(buyer, 10)
        account = db.session.scalar(select(LedgerAccount).where(LedgerAccount.user_id == buyer, LedgerAccount.kind == "available"))
        account.balance = 15
        account_id = account.id
        db.session.commit()
    problems = ledger_violations(app)
    assert any(p.startswith("5.") for p in problems)
    assert any(p.startswith("1.") for p in problems)
    with app.app_context():
        db.session.get(LedgerAccount, account_id).balance = 10
        db.session.commit()
    assert ledger_violations(app) == []


def test_ledger_check_command(app, people, runner):
    buyer, seller, auction_id = people
    with app.app_context():
        ledger.credit_sandbox(buyer, 50)
        ledger.set_hold(buyer, auction_id, 20)
    result = runner.invoke(args=["ledger", "check"])
    assert result.exit_code == 0, result.output
    assert result.output.count("\n") == 1
    assert "Ledger OK" in result.output and "1 active holds" in result.output

    # A hold written behind the ledger's back, and a transfer that pushes an account below zero.
    with app.app_context():
        stray = Hold(user_id=seller, auction_id=auction_id, amount=5, status="active")
        rogue = LedgerTransfer(
            debit_account_id=db.session.scalar(
                select(LedgerAccount.id).where(LedgerAccount.user_id == buyer, LedgerAccount.kind == "available")
            ),
            credit_account_id=db.session.scalar(select(LedgerAccount.id).where(LedgerAccount.kind == "sandbox")),
            amount=1000,
            reason="sandbox",
        )
        db.session.add_all([stray, rogue])
        db.session.commit()
        rogue_id, stray_id = rogue.id, stray.id
    result = runner.invoke(args=["ledger", "check"])
    assert result.exit_code != 0
    lines = result.output.strip().splitlines()
    assert lines[-1].startswith("Ledger check FAILED")
    assert any(line.startswith("2.") for line in lines)  # available computed below zero
    assert any(line.startswith("3.") for line in lines)  # the seller holds 0 but has an active hold of 5
    assert any(line.startswith("5.") for line in lines)  # cached balances disagree with transfers
    # Put the books back so the after-test check passes.
    with app.app_context():
        db.session.delete(db.session.get(LedgerTransfer, rogue_id))
        db.session.get(Hold, stray_id).status = "released"
        db.session.commit()
    assert runner.invoke(args=["ledger", "check"]).exit_code == 0

"""Random sequences of money operations never break the ledger's invariants."""

from __future__ import annotations

from itertools import count

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auction.services import ledger, ledger_check, payments
from auction.services.errors import ServiceError
from tests.support.bidding_helpers import new_auction

USERS = 3
AUCTIONS = 2
_charges = count(1)

user = st.integers(0, USERS - 1)
auction = st.integers(0, AUCTIONS - 1)
stars = st.integers(1, 400)
operation = st.one_of(
    st.tuples(st.just("buy"), user, stars),
    st.tuples(st.just("sandbox"), user, stars),
    st.tuples(st.just("hold"), user, auction, st.integers(0, 500)),
    st.tuples(st.just("release"), user, auction),
    st.tuples(st.just("capture"), user, auction, stars, st.integers(0, 20)),
    st.tuples(st.just("pay_now"), user, auction, stars, st.integers(0, 20)),
    st.tuples(st.just("refund"), st.integers(0, 50)),
    st.tuples(st.just("telegram_refund"), st.integers(0, 50)),
    st.tuples(st.just("redeliver"), st.integers(0, 50)),
)


@pytest.fixture
def world(app, make_user):
    people = [make_user(f"User{i}", telegram_id=880_000_000 + i) for i in range(USERS)]
    sellers = [make_user(f"Seller{i}") for i in range(AUCTIONS)]
    admin = make_user("Admin", is_admin=True)
    auctions = [new_auction(app, seller, title=f"Lot {i}", listed=True) for i, seller in enumerate(sellers)]
    return {"people": people, "sellers": sellers, "auctions": auctions, "admin": admin, "paid": []}


def apply(world, op) -> None:
    people, auctions, sellers = world["people"], world["auctions"], world["sellers"]
    kind = op[0]
    if kind == "buy":
        _, u, amount = op
        purchase = payments.start_purchase(people[u], amount, "bot")
        charge = f"prop-{next(_charges)}"
        payments.check_pre_checkout(880_000_000 + u, purchase.payload, amount, "XTR")
        payments.complete_payment(880_000_000 + u, purchase.payload, amount, "XTR", charge, "")
        world["paid"].append((u, purchase.payload, amount, charge))
    elif kind == "sandbox":
        ledger.credit_sandbox(people[op[1]], op[2])
    elif kind == "hold":
        ledger.set_hold(people[op[1]], auctions[op[2]], op[3])
    elif kind == "release":
        ledger.release_hold(people[op[1]], auctions[op[2]])
    elif kind == "capture":
        _, u, a, price, fee = op
        ledger.capture_hold(people[u], auctions[a], price, sellers[a], fee)
    elif kind == "pay_now":
        _, u, a, price, fee = op
        ledger.pay_now(people[u], sellers[a], auctions[a], price, fee)
    elif world["paid"]:
        u, payload, amount, charge = world["paid"][op[1] % len(world["paid"])]
        if kind == "refund":
            payment_id = payments.complete_payment(880_000_000 + u, payload, amount, "XTR", charge, "").payment_id
            payments.refund_payment(world["admin"], payment_id, lambda telegram_id, charge_id: None)
        elif kind == "telegram_refund":
            payments.handle_refunded_payment(880_000_000 + u, charge)
        else:
            result = payments.complete_payment(880_000_000 + u, payload, amount, "XTR", charge, "")
            assert result.already_credited


def snapshot(world) -> list[ledger.Balances]:
    return [ledger.balances(uid) for uid in world["people"] + world["sellers"]]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(operation, min_size=1, max_size=20))
def test_random_money_operations_keep_the_books_balanced(app, world, ops):
    with app.app_context():
        for op in ops:
            before = snapshot(world)
            try:
                apply(world, op)
            except ServiceError:
                # A refused operation (not enough Stars, refund not covered) changes nothing.
                assert snapshot(world) == before, op
            problems = ledger_check.check_invariants()
            assert problems == [], (op, problems)
            assert all(b.available >= 0 and b.held >= 0 for b in snapshot(world))

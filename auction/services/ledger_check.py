"""The ledger's invariants, checked on a live database (`flask ledger check`) and after every test."""

from __future__ import annotations

from sqlalchemy import func, or_, select
from sqlalchemy.orm import aliased

from auction.extensions import db
from auction.models import Hold, LedgerAccount, LedgerTransfer, Payment, PayoutRequest
from auction.models.money import USER_ACCOUNT_KINDS
from auction.services.ledger import PURCHASE, REFUND, REFUND_CANCELED, SUBSCRIPTION, SUBSCRIPTION_REFUND


def check_invariants() -> list[str]:
    """Every broken ledger invariant, one line each; an empty list means the books balance.

    1. total debits == total credits (and every account's balances add up to zero);
    2. no user's available or held balance is below zero;
    3. each user's held balance == the sum of their active holds;
    4. every Telegram charge id is credited at most once (a Stars purchase to the payer, a
       Premium charge to platform revenue) and refunded at most once;
    5. every cached balance == the sum of its transfers;
    6. the payouts pending account == the pending payout requests.
    """
    problems: list[str] = []
    session = db.session

    # 1. Each transfer is one debit and one credit of the same amount; summing both sides
    # through the accounts table also catches transfers that point at no account.
    debit_acc, credit_acc = aliased(LedgerAccount), aliased(LedgerAccount)
    debits = session.scalar(
        select(func.coalesce(func.sum(LedgerTransfer.amount), 0)).join(debit_acc, debit_acc.id == LedgerTransfer.debit_account_id)
    )
    credits = session.scalar(
        select(func.coalesce(func.sum(LedgerTransfer.amount), 0)).join(credit_acc, credit_acc.id == LedgerTransfer.credit_account_id)
    )
    if debits != credits:
        problems.append(f"1. total debits {debits} != total credits {credits}")
    bad_rows = session.scalar(
        select(func.count())
        .select_from(LedgerTransfer)
        .where(or_(LedgerTransfer.amount <= 0, LedgerTransfer.debit_account_id == LedgerTransfer.credit_account_id))
    )
    if bad_rows:
        problems.append(f"1. {bad_rows} transfer(s) with a non-positive amount or the same account on both sides")
    cached_total = session.scalar(select(func.coalesce(func.sum(LedgerAccount.balance), 0)))
    if cached_total != 0:
        problems.append(f"1. account balances add up to {cached_total}, not 0")

    # 5 (computed first; 2 uses it). Balance = credits in - debits out.
    incoming = dict(
        session.execute(
            select(LedgerTransfer.credit_account_id, func.sum(LedgerTransfer.amount)).group_by(LedgerTransfer.credit_account_id)
        ).all()
    )
    outgoing = dict(
        session.execute(
            select(LedgerTransfer.debit_account_id, func.sum(LedgerTransfer.amount)).group_by(LedgerTransfer.debit_account_id)
        ).all()
    )
    accounts = session.scalars(select(LedgerAccount).order_by(LedgerAccount.id)).all()
    for account in accounts:
        computed = incoming.get(account.id, 0) - outgoing.get(account.id, 0)
        owner = f"user {account.user_id}" if account.user_id is not None else "platform"
        if computed != account.balance:
            problems.append(
                f"5. account {account.id} ({account.kind}, {owner}): cached balance {account.balance} != transfers {computed}"
            )
        # 2.
        if account.kind in USER_ACCOUNT_KINDS and min(computed, account.balance) < 0:
            problems.append(f"2. account {account.id} ({account.kind}, {owner}) is negative: {min(computed, account.balance)}")
        if account.kind in ("platform_revenue", "payouts_pending") and account.balance < 0:
            problems.append(f"2. {account.kind} account {account.id} is negative: {account.balance}")

    # 3.
    held_by_user = {a.user_id: a.balance for a in accounts if a.kind == "held"}
    holds_by_user = dict(
        session.execute(
            select(Hold.user_id, func.sum(Hold.amount)).where(Hold.status == "active").group_by(Hold.user_id)
        ).all()
    )
    for user_id in sorted(set(held_by_user) | set(holds_by_user)):
        held, reserved = held_by_user.get(user_id, 0), holds_by_user.get(user_id, 0)
        if held != reserved:
            problems.append(f"3. user {user_id}: held balance {held} != active holds {reserved}")

    # 6.
    pending = sum(a.balance for a in accounts if a.kind == "payouts_pending")
    requested = session.scalar(select(func.coalesce(func.sum(PayoutRequest.amount), 0)).where(PayoutRequest.status == "pending"))
    if pending != requested:
        problems.append(f"6. payouts pending {pending} != pending payout requests {requested}")

    # 4.
    for charge_id, count in session.execute(
        select(Payment.telegram_payment_charge_id, func.count())
        .group_by(Payment.telegram_payment_charge_id)
        .having(func.count() > 1)
    ).all():
        problems.append(f"4. charge id {charge_id} is stored in {count} payments")
    credits_per_payment = session.execute(
        select(LedgerTransfer.payment_id, func.count(), func.sum(LedgerTransfer.amount))
        .where(
            or_(
                LedgerTransfer.reason == PURCHASE,
                # Premium paid from the wallet has no Telegram charge; one paid in Telegram has one.
                (LedgerTransfer.reason == SUBSCRIPTION) & LedgerTransfer.payment_id.is_not(None),
            )
        )
        .group_by(LedgerTransfer.payment_id)
    ).all()
    for payment_id, count, amount in credits_per_payment:
        if payment_id is None:
            problems.append(f"4. {count} purchase credit(s) ({amount} Stars) without a payment")
        elif count > 1:
            charge = session.scalar(select(Payment.telegram_payment_charge_id).where(Payment.id == payment_id))
            problems.append(f"4. charge id {charge} (payment {payment_id}) credited {count} times")
    credited = {payment_id: amount for payment_id, _, amount in credits_per_payment}
    # A refund Telegram turned down is returned by a REFUND_CANCELED transfer, so only the
    # net of the two counts: nothing, or exactly the credit.
    refunded: dict[int | None, list[int]] = {}
    for payment_id, reason, count, amount in session.execute(
        select(LedgerTransfer.payment_id, LedgerTransfer.reason, func.count(), func.sum(LedgerTransfer.amount))
        .where(LedgerTransfer.reason.in_((REFUND, REFUND_CANCELED, SUBSCRIPTION_REFUND)))
        .group_by(LedgerTransfer.payment_id, LedgerTransfer.reason)
    ).all():
        sign = -1 if reason == REFUND_CANCELED else 1
        totals = refunded.setdefault(payment_id, [0, 0])
        totals[0] += sign * count
        totals[1] += sign * amount
    for payment_id, (count, amount) in refunded.items():
        if payment_id is None or count not in (0, 1) or amount not in (0, credited.get(payment_id)):
            problems.append(
                f"4. payment {payment_id}: net {count} refund(s) of {amount} Stars against a credit of {credited.get(payment_id, 0)}"
            )
    for payment in session.scalars(select(Payment).order_by(Payment.id)):
        if credited.get(payment.id) != payment.amount:
            problems.append(
                f"4. payment {payment.id} (charge id {payment.telegram_payment_charge_id}) of {payment.amount} "
                f"was credited {credited.get(payment.id, 0)}"
            )
    return problems

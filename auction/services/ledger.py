"""The double-entry ledger: every Star that moves is a transfer between two accounts.

Convention: a transfer moves `amount` FROM its debit account TO its credit account, so
the debit account's balance goes down and the credit account's goes up. The sum of all
balances is therefore always zero. The outside-world accounts (`telegram_stars`, where
bought Stars come from, and `sandbox`, where demo Stars come from) go negative by what
they handed out; a user's `available` and `held` accounts never go below zero, and
`platform_revenue` only grows.

Transfers are append-only: a mistake or a refund is a new transfer the other way.
Cached balances on `ledger_accounts` change in the same transaction as the transfer.

Concurrency: every operation first makes sure the accounts it needs exist, then locks
them all with SELECT ... FOR UPDATE in ascending id order (PostgreSQL; SQLite writers
are already serialised by BEGIN IMMEDIATE), so two operations never deadlock on
accounts. Callers that also lock other rows (an auction) must lock those first.

Every public function is @atomic: called from another service it joins that service's
transaction, so a bid and its hold commit or roll back together.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, or_, select, text

from auction.extensions import db
from auction.models import Hold, LedgerAccount, LedgerTransfer, Payment, utcnow
from auction.models.money import USER_ACCOUNT_KINDS
from auction.services import events
from auction.services.errors import InsufficientFunds, LedgerError, NotFound
from auction.services.transaction import LOCKED_ACCOUNTS, LOCKED_HOLDS, atomic, emit_latest

# Why Stars moved; the wallet history turns these into words.
PURCHASE = "purchase"  # telegram_stars -> available: Stars bought in Telegram
SANDBOX = "sandbox"  # sandbox -> available: demo Stars (DEV_LOGIN only)
HOLD = "hold"  # available -> held: reserved for a bid
RELEASE = "release"  # held -> available: reservation lowered or released
SALE = "sale"  # buyer's held/available -> seller's available: price less fee
FEE = "fee"  # buyer's held/available -> platform_revenue: the platform's cut
REFUND = "refund"  # available -> telegram_stars: a purchase given back
REFUND_CANCELED = "refund_canceled"  # telegram_stars -> available: Telegram turned the refund down
PAYOUT = "payout"  # available -> payouts_pending: a seller asked for a payout
PAYOUT_PAID = "payout_paid"  # payouts_pending -> payouts_paid: an admin paid it out off the platform
PAYOUT_RETURNED = "payout_returned"  # payouts_pending -> available: an admin rejected it
SUBSCRIPTION = "subscription"  # telegram_stars or available -> platform_revenue: a Premium period paid
SUBSCRIPTION_REFUND = "subscription_refund"  # platform_revenue -> telegram_stars: a Premium charge given back


@dataclass(frozen=True)
class Balances:
    available: int
    held: int

    @property
    def total(self) -> int:
        return self.available + self.held


# --- accounts and locking -------------------------------------------------------------


def _find_account(kind: str, user_id: int | None) -> LedgerAccount | None:
    return db.session.scalar(
        select(LedgerAccount).where(
            LedgerAccount.kind == kind,
            LedgerAccount.user_id == user_id if user_id is not None else LedgerAccount.user_id.is_(None),
        )
    )


def _ensure_account(kind: str, user_id: int | None) -> int:
    """The id of the account, created on first use."""
    account = _find_account(kind, user_id)
    if account is not None:
        return account.id
    if db.session.get_bind().dialect.name == "postgresql":
        # Platform accounts have user_id NULL, which a UNIQUE constraint does not
        # deduplicate; an advisory lock makes "look, then create" safe across sessions.
        key = zlib.crc32(f"ledger_account:{kind}:{user_id}".encode()) - 2**31
        db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
        account = _find_account(kind, user_id)
        if account is not None:
            return account.id
    account = LedgerAccount(kind=kind, user_id=user_id, balance=0)
    db.session.add(account)
    db.session.flush()
    return account.id


# Rows locked by the current transaction, kept in `session.info` so a bid that holds for
# one user and releases another's touches each row once: (kind, user_id) -> LedgerAccount
# and (user_id, auction_id) -> the active Hold or None. Forgotten at commit and rollback.
_LOCKED_ACCOUNTS = LOCKED_ACCOUNTS
_LOCKED_HOLDS = LOCKED_HOLDS


def _account_key_clause(kind: str, user_id: int | None):
    owner = LedgerAccount.user_id == user_id if user_id is not None else LedgerAccount.user_id.is_(None)
    return and_(LedgerAccount.kind == kind, owner)


def _select_locked(keys: list[tuple[str, int | None]]) -> dict[tuple[str, int | None], LedgerAccount]:
    rows = db.session.scalars(
        select(LedgerAccount)
        .where(or_(*(_account_key_clause(*key) for key in keys)))
        .order_by(LedgerAccount.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    return {(row.kind, row.user_id): row for row in rows}


def _lock(*keys: tuple[str, int | None]) -> dict[tuple[str, int | None], LedgerAccount]:
    """Lock every account (ascending id order, one query), creating what is missing.

    An account this transaction locked already is not selected again: the session's copy
    is the current state while the lock is held.
    """
    locked = db.session.info.setdefault(_LOCKED_ACCOUNTS, {})
    missing = [key for key in dict.fromkeys(keys) if key not in locked]
    if missing:
        found = _select_locked(missing)
        absent = [key for key in missing if key not in found]
        if absent:
            for kind, user_id in absent:
                # A person's accounts are made together, so a first bid finds its held account.
                for sibling in USER_ACCOUNT_KINDS if kind in USER_ACCOUNT_KINDS and user_id is not None else (kind,):
                    _ensure_account(sibling, user_id)
            found = _select_locked(missing)
        locked.update(found)
    return {key: locked[key] for key in keys}


def adopt_holds(auction_id: int, holds: dict[int, Hold | None]) -> None:
    """Tell the ledger the active holds (or None) of these users on `auction_id`, read by the caller.

    For a caller that read them under the auction's row lock (holds on an auction change only
    under it): later ledger calls in the transaction use them instead of selecting them again.
    """
    known = db.session.info.setdefault(_LOCKED_HOLDS, {})
    for user_id, hold in holds.items():
        known[(user_id, auction_id)] = hold


def lock_accounts(user_ids: list[int]) -> None:
    """Lock these users' Stars accounts (available and held) in one statement, ascending id order."""
    users = sorted(set(user_ids))
    _lock(*[(kind, user_id) for user_id in users for kind in USER_ACCOUNT_KINDS])


def lock_for_auction(auction_id: int, user_ids: list[int]) -> None:
    """Lock, one query each, these users' active holds on `auction_id` and their Stars accounts.

    For a caller about to move several users' holds in one transaction (a bid that outbids
    the leader): later ledger calls in the transaction find the rows already locked, and
    the accounts are locked in one ascending order, so two such bids cannot deadlock.
    """
    users = sorted(set(user_ids))
    holds = db.session.info.setdefault(_LOCKED_HOLDS, {})
    for user_id in users:
        holds[(user_id, auction_id)] = None
    for hold in db.session.scalars(
        select(Hold)
        .where(Hold.auction_id == auction_id, Hold.user_id.in_(users), Hold.status == "active")
        .with_for_update()
        .execution_options(populate_existing=True)
    ):
        holds[(hold.user_id, auction_id)] = hold
    _lock(*[(kind, user_id) for user_id in users for kind in USER_ACCOUNT_KINDS])


def _transfer(
    debit: LedgerAccount,
    credit: LedgerAccount,
    amount: int,
    reason: str,
    *,
    payment_id: int | None = None,
    auction_id: int | None = None,
    hold_id: int | None = None,
) -> None:
    """Move `amount` from `debit` to `credit` (both already locked)."""
    if amount <= 0:
        return
    if debit.kind in USER_ACCOUNT_KINDS and debit.balance < amount:
        raise InsufficientFunds(needed=amount - debit.balance, available=debit.balance)
    debit.balance -= amount
    credit.balance += amount
    db.session.add(
        LedgerTransfer(
            debit_account_id=debit.id,
            credit_account_id=credit.id,
            amount=amount,
            reason=reason,
            payment_id=payment_id,
            auction_id=auction_id,
            hold_id=hold_id,
        )
    )
    for account in (debit, credit):
        if account.user_id is not None and account.kind in USER_ACCOUNT_KINDS:
            _announce_balance(account.user_id)


def _announce_balance(user_id: int) -> None:
    """Tell the person's open pages their new balance (published after commit; the latest wins)."""
    now = balances(user_id)
    emit_latest(*events.balance_changed(user_id, now.available, now.held))


def _check_amount(amount: int, *, allow_zero: bool = False) -> None:
    if not isinstance(amount, int) or isinstance(amount, bool) or amount < 0 or (amount == 0 and not allow_zero):
        raise ValueError(f"amount must be a positive whole number of Stars, not {amount!r}")


def fee_for(price: int, fee_percent: int) -> int:
    """The platform's cut in whole Stars, rounded down so the seller never gets less than shown."""
    if not 0 <= fee_percent <= 100:
        raise ValueError(f"fee_percent must be 0..100, not {fee_percent!r}")
    return price * fee_percent // 100


def _active_hold(user_id: int, auction_id: int) -> Hold | None:
    holds = db.session.info.setdefault(_LOCKED_HOLDS, {})
    key = (user_id, auction_id)
    if key not in holds:
        holds[key] = db.session.scalar(
            select(Hold)
            .where(Hold.user_id == user_id, Hold.auction_id == auction_id, Hold.status == "active")
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    return holds[key]


def _settle_hold(hold: Hold, status: str) -> None:
    hold.status = status
    hold.settled_at = utcnow()
    db.session.info.setdefault(_LOCKED_HOLDS, {})[(hold.user_id, hold.auction_id)] = None


# --- money in -------------------------------------------------------------------------


@atomic
def credit_purchase(user_id: int, amount: int, payment_id: int) -> int:
    """Credit Stars bought in Telegram; returns the new available balance."""
    _check_amount(amount)
    accounts = _lock(("telegram_stars", None), ("available", user_id))
    available = accounts[("available", user_id)]
    _transfer(accounts[("telegram_stars", None)], available, amount, PURCHASE, payment_id=payment_id)
    return available.balance


@atomic
def credit_sandbox(user_id: int, amount: int) -> int:
    """Credit demo Stars for a local trial; returns the new available balance."""
    _check_amount(amount)
    accounts = _lock(("sandbox", None), ("available", user_id))
    available = accounts[("available", user_id)]
    _transfer(accounts[("sandbox", None)], available, amount, SANDBOX)
    return available.balance


def reversed_amount(payment_id: int) -> int:
    """Stars of this payment given back to Telegram and not returned since (0 or its amount)."""
    rows = dict(
        db.session.execute(
            select(LedgerTransfer.reason, func.sum(LedgerTransfer.amount))
            .where(LedgerTransfer.payment_id == payment_id, LedgerTransfer.reason.in_((REFUND, REFUND_CANCELED)))
            .group_by(LedgerTransfer.reason)
        ).all()
    )
    return (rows.get(REFUND) or 0) - (rows.get(REFUND_CANCELED) or 0)


def locked_payment(payment_id: int) -> Payment:
    """The payment row, locked for this transaction (FOR UPDATE); raises NotFound."""
    payment = db.session.scalar(
        select(Payment).where(Payment.id == payment_id).with_for_update().execution_options(populate_existing=True)
    )
    if payment is None:
        raise NotFound()
    return payment


@atomic
def reverse_purchase(payment_id: int) -> int:
    """Give a purchase back to Telegram out of available Stars; returns the new available balance.

    Raises InsufficientFunds when the Stars were already spent or are held for bids,
    and LedgerError when the purchase was never credited or is already reversed.
    """
    payment = locked_payment(payment_id)
    credited = db.session.scalar(
        select(func.count()).where(LedgerTransfer.payment_id == payment_id, LedgerTransfer.reason == PURCHASE)
    )
    if not credited or reversed_amount(payment_id):
        raise LedgerError(_l("This payment has already been refunded."))
    accounts = _lock(("telegram_stars", None), ("available", payment.user_id))
    available = accounts[("available", payment.user_id)]
    _transfer(available, accounts[("telegram_stars", None)], payment.amount, REFUND, payment_id=payment_id)
    return available.balance


@atomic
def cancel_reversal(payment_id: int) -> int:
    """Return a reversed purchase to the user's available Stars (Telegram refused the refund).

    Returns the new available balance; raises LedgerError when the purchase is not reversed.
    """
    payment = locked_payment(payment_id)
    if reversed_amount(payment_id) != payment.amount:
        raise LedgerError(_l("This payment has not been refunded."))
    accounts = _lock(("telegram_stars", None), ("available", payment.user_id))
    available = accounts[("available", payment.user_id)]
    _transfer(accounts[("telegram_stars", None)], available, payment.amount, REFUND_CANCELED, payment_id=payment_id)
    return available.balance


# --- Premium subscriptions (services/subscriptions.py keeps the periods) ---------------------


@atomic
def credit_subscription(payment_id: int) -> None:
    """A Premium charge paid through Telegram goes straight to platform revenue (the payment's Stars).

    Raises LedgerError when the charge was credited already (invariant 4: once per charge id).
    """
    payment = locked_payment(payment_id)
    credited = db.session.scalar(
        select(func.count()).where(LedgerTransfer.payment_id == payment_id, LedgerTransfer.reason.in_((PURCHASE, SUBSCRIPTION)))
    )
    if credited:
        raise LedgerError()
    accounts = _lock(("telegram_stars", None), ("platform_revenue", None))
    _transfer(accounts[("telegram_stars", None)], accounts[("platform_revenue", None)], payment.amount, SUBSCRIPTION, payment_id=payment_id)


@atomic
def pay_subscription(user_id: int, amount: int) -> int:
    """Pay a Premium period of `amount` Stars from the person's available Stars; returns the new available.

    Raises InsufficientFunds (with the Stars missing) when available does not cover it.
    """
    _check_amount(amount)
    accounts = _lock(("available", user_id), ("platform_revenue", None))
    _transfer(accounts[("available", user_id)], accounts[("platform_revenue", None)], amount, SUBSCRIPTION)
    return accounts[("available", user_id)].balance


@atomic
def refund_subscription(payment_id: int) -> None:
    """Telegram gave a Premium charge back: platform revenue returns it to the Telegram account.

    Raises LedgerError when the charge was never credited or is already refunded.
    """
    payment = locked_payment(payment_id)
    rows = dict(
        db.session.execute(
            select(LedgerTransfer.reason, func.count())
            .where(LedgerTransfer.payment_id == payment_id, LedgerTransfer.reason.in_((SUBSCRIPTION, SUBSCRIPTION_REFUND)))
            .group_by(LedgerTransfer.reason)
        ).all()
    )
    if not rows.get(SUBSCRIPTION) or rows.get(SUBSCRIPTION_REFUND):
        raise LedgerError(_l("This payment has already been refunded."))
    accounts = _lock(("telegram_stars", None), ("platform_revenue", None))
    _transfer(
        accounts[("platform_revenue", None)], accounts[("telegram_stars", None)], payment.amount, SUBSCRIPTION_REFUND, payment_id=payment_id
    )


# --- holds ----------------------------------------------------------------------------


@atomic
def set_hold(user_id: int, auction_id: int, amount: int) -> int:
    """Make the user's reservation on `auction_id` exactly `amount` Stars (0 releases it).

    Raising it moves the difference from available to held (InsufficientFunds when
    available does not cover it); lowering it moves the difference back. Returns the
    user's new available balance.
    """
    _check_amount(amount, allow_zero=True)
    hold = _active_hold(user_id, auction_id)
    current = hold.amount if hold else 0
    accounts = _lock(("available", user_id), ("held", user_id))
    available, held = accounts[("available", user_id)], accounts[("held", user_id)]
    if amount == current:
        return available.balance
    if amount > current:
        needed = amount - current
        if available.balance < needed:
            raise InsufficientFunds(needed=needed - available.balance, available=available.balance)
        if hold is None:
            hold = Hold(user_id=user_id, auction_id=auction_id, amount=amount, status="active")
            db.session.add(hold)
            db.session.flush()
            db.session.info.setdefault(_LOCKED_HOLDS, {})[(user_id, auction_id)] = hold
        else:
            hold.amount = amount
        _transfer(available, held, needed, HOLD, auction_id=auction_id, hold_id=hold.id)
    else:
        _transfer(held, available, current - amount, RELEASE, auction_id=auction_id, hold_id=hold.id)
        if amount == 0:
            _settle_hold(hold, "released")
        else:
            hold.amount = amount
    return available.balance


@atomic
def release_hold(user_id: int, auction_id: int) -> int:
    """Give back the user's reservation on `auction_id`, if any; returns the new available balance."""
    return set_hold(user_id, auction_id, 0)


@atomic
def capture_hold(user_id: int, auction_id: int, price: int, seller_id: int, fee_percent: int) -> int:
    """The winner pays `price` out of their reservation; the rest of it comes back to them.

    The seller gets price minus the platform fee (price * fee_percent // 100), the
    platform gets the fee. Should the price exceed the reservation, the difference is
    taken from available Stars (InsufficientFunds if they do not cover it). Returns the
    winner's new available balance.
    """
    _check_amount(price)
    fee = fee_for(price, fee_percent)
    hold = _active_hold(user_id, auction_id)
    if hold is None or hold.amount < price:
        set_hold(user_id, auction_id, price)
        hold = _active_hold(user_id, auction_id)
    accounts = _lock(("available", user_id), ("held", user_id), ("available", seller_id), ("platform_revenue", None))
    held = accounts[("held", user_id)]
    _transfer(held, accounts[("available", seller_id)], price - fee, SALE, auction_id=auction_id, hold_id=hold.id)
    _transfer(held, accounts[("platform_revenue", None)], fee, FEE, auction_id=auction_id, hold_id=hold.id)
    _transfer(held, accounts[("available", user_id)], hold.amount - price, RELEASE, auction_id=auction_id, hold_id=hold.id)
    _settle_hold(hold, "captured")
    return accounts[("available", user_id)].balance


@atomic
def pay_now(buyer_id: int, seller_id: int, auction_id: int, price: int, fee_percent: int) -> int:
    """Buy at once (buy-it-now, Dutch accept) from available Stars; returns the buyer's new available.

    A reservation the buyer already has on this auction counts towards the price
    (it is captured), so a leading bidder can buy it now with hold plus available.
    """
    _check_amount(price)
    if _active_hold(buyer_id, auction_id) is not None:
        return capture_hold(buyer_id, auction_id, price, seller_id, fee_percent)
    fee = fee_for(price, fee_percent)
    accounts = _lock(("available", buyer_id), ("available", seller_id), ("platform_revenue", None))
    available = accounts[("available", buyer_id)]
    if available.balance < price:
        raise InsufficientFunds(needed=price - available.balance, available=available.balance)
    _transfer(available, accounts[("available", seller_id)], price - fee, SALE, auction_id=auction_id)
    _transfer(available, accounts[("platform_revenue", None)], fee, FEE, auction_id=auction_id)
    return available.balance


# --- payouts (services/payouts.py keeps the requests) ------------------------------------


@atomic
def set_aside_payout(user_id: int, amount: int) -> int:
    """Move `amount` available Stars to payouts pending (InsufficientFunds if short); returns the new available."""
    _check_amount(amount)
    accounts = _lock(("available", user_id), ("payouts_pending", None))
    _transfer(accounts[("available", user_id)], accounts[("payouts_pending", None)], amount, PAYOUT)
    return accounts[("available", user_id)].balance


@atomic
def finish_payout(user_id: int, amount: int, paid: bool) -> None:
    """A pending payout of `amount` Stars leaves the platform (`paid`) or goes back to the user's available Stars."""
    _check_amount(amount)
    accounts = _lock(("available", user_id), ("payouts_pending", None), ("payouts_paid", None))
    pending = accounts[("payouts_pending", None)]
    if pending.balance < amount:
        raise LedgerError()
    target = accounts[("payouts_paid", None)] if paid else accounts[("available", user_id)]
    _transfer(pending, target, amount, PAYOUT_PAID if paid else PAYOUT_RETURNED)


# --- reading --------------------------------------------------------------------------


def balances(user_id: int) -> Balances:
    """The user's available and held Stars (zero before their first movement)."""
    locked = db.session.info.get(_LOCKED_ACCOUNTS, {})
    if ("available", user_id) in locked and ("held", user_id) in locked:
        # Locked by this transaction: the session's copies are the current balances.
        return Balances(available=locked[("available", user_id)].balance, held=locked[("held", user_id)].balance)
    rows = db.session.execute(
        select(LedgerAccount.kind, LedgerAccount.balance).where(
            LedgerAccount.user_id == user_id, LedgerAccount.kind.in_(USER_ACCOUNT_KINDS)
        )
    ).all()
    found = dict(rows)
    return Balances(available=found.get("available", 0), held=found.get("held", 0))

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
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, event, func, or_, select, text
from sqlalchemy.orm import Session, aliased

from auction.extensions import db
from auction.models import Auction, Hold, LedgerAccount, LedgerTransfer, Payment, PayoutRequest, utcnow
from auction.models.money import USER_ACCOUNT_KINDS
from auction.services.errors import NotFound, ServiceError
from auction.services.transaction import atomic, emit

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
REASONS = (PURCHASE, SANDBOX, HOLD, RELEASE, SALE, FEE, REFUND, REFUND_CANCELED)

OUTSIDE_KINDS = ("telegram_stars", "sandbox")


class InsufficientFunds(ServiceError):
    """The user's available Stars do not cover what the operation needs."""

    message = _l("Not enough Stars: you need %(needed)s more (available: %(available)s). Buy Stars to continue.")
    status = 402

    def __init__(self, needed: int, available: int):
        super().__init__(needed=needed, available=available)
        self.needed = needed
        self.available = available


class LedgerError(ServiceError):
    """An operation the ledger refuses for a reason other than money (e.g. a double refund)."""


@dataclass(frozen=True)
class Balances:
    available: int
    held: int

    @property
    def total(self) -> int:
        return self.available + self.held


@dataclass(frozen=True)
class HistoryEntry:
    """One transfer seen from one user's side: how it changed their available and held Stars."""

    id: int
    created_at: datetime
    reason: str
    available_change: int
    held_change: int
    auction_id: int | None
    auction_title: str | None
    payment_id: int | None

    @property
    def change(self) -> int:
        """The change to the user's total (available + held); 0 for a reservation."""
        return self.available_change + self.held_change


@dataclass(frozen=True)
class HistoryPage:
    entries: list[HistoryEntry]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


@dataclass(frozen=True)
class ActiveHold:
    hold_id: int
    auction_id: int
    auction_title: str
    amount: int
    since: datetime


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
_LOCKED_ACCOUNTS = "ledger_locked_accounts"
_LOCKED_HOLDS = "ledger_locked_holds"


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
            for key in absent:
                _ensure_account(*key)
            found = _select_locked(missing)
        locked.update(found)
    return {key: locked[key] for key in keys}


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
    touched = db.session.info.setdefault("ledger_touched_users", set())
    for account in (debit, credit):
        if account.user_id is not None:
            touched.add(account.user_id)


@event.listens_for(Session, "before_commit")
def _announce_balances(session: Session) -> None:
    """Tell every open page of a user whose balance changed; events go out after commit."""
    user_ids = session.info.pop("ledger_touched_users", None)
    if not user_ids:
        return
    locked = session.info.get(_LOCKED_ACCOUNTS, {})
    balances: dict[int, dict[str, int]] = {uid: {"available": 0, "held": 0} for uid in user_ids}
    unread = set()
    for user_id in user_ids:
        for kind in USER_ACCOUNT_KINDS:
            account = locked.get((kind, user_id))
            if account is None:
                unread.add(user_id)
            else:
                balances[user_id][kind] = account.balance
    if unread:
        session.flush()
        for account in session.scalars(
            select(LedgerAccount).where(LedgerAccount.user_id.in_(unread), LedgerAccount.kind.in_(USER_ACCOUNT_KINDS))
        ):
            balances[account.user_id][account.kind] = account.balance
    for user_id in sorted(user_ids):
        emit(f"user:{user_id}", "balance_changed", {"user_id": user_id, **balances[user_id]})


@event.listens_for(Session, "after_transaction_end")
def _forget_locks(session: Session, transaction) -> None:
    # Only the outermost transaction's end (commit, rollback or close) releases row locks.
    if transaction.parent is None:
        session.info.pop(_LOCKED_ACCOUNTS, None)
        session.info.pop(_LOCKED_HOLDS, None)


@event.listens_for(Session, "after_rollback")
def _forget_balances(session: Session) -> None:
    session.info.pop("ledger_touched_users", None)


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


def _locked_payment(payment_id: int) -> Payment:
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
    payment = _locked_payment(payment_id)
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
    payment = _locked_payment(payment_id)
    if reversed_amount(payment_id) != payment.amount:
        raise LedgerError(_l("This payment has not been refunded."))
    accounts = _lock(("telegram_stars", None), ("available", payment.user_id))
    available = accounts[("available", payment.user_id)]
    _transfer(accounts[("telegram_stars", None)], available, payment.amount, REFUND_CANCELED, payment_id=payment_id)
    return available.balance


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


def history(user_id: int, page: int = 1, per_page: int = 20) -> HistoryPage:
    """The user's movements, newest first, one page at a time."""
    page = max(1, page)
    per_page = max(1, min(per_page, 100))
    account_ids = list(
        db.session.scalars(
            select(LedgerAccount.id).where(LedgerAccount.user_id == user_id, LedgerAccount.kind.in_(USER_ACCOUNT_KINDS))
        )
    )
    if not account_ids:
        return HistoryPage(entries=[], page=page, per_page=per_page, total=0)
    kinds = dict(db.session.execute(select(LedgerAccount.id, LedgerAccount.kind).where(LedgerAccount.id.in_(account_ids))).all())
    mine = or_(LedgerTransfer.debit_account_id.in_(account_ids), LedgerTransfer.credit_account_id.in_(account_ids))
    total = db.session.scalar(select(func.count()).select_from(LedgerTransfer).where(mine))
    rows = db.session.execute(
        select(LedgerTransfer, Auction.title)
        .outerjoin(Auction, Auction.id == LedgerTransfer.auction_id)
        .where(mine)
        .order_by(LedgerTransfer.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    entries = []
    for transfer, title in rows:
        change = {"available": 0, "held": 0}
        if transfer.debit_account_id in kinds:
            change[kinds[transfer.debit_account_id]] -= transfer.amount
        if transfer.credit_account_id in kinds:
            change[kinds[transfer.credit_account_id]] += transfer.amount
        entries.append(
            HistoryEntry(
                id=transfer.id,
                created_at=transfer.created_at,
                reason=transfer.reason,
                available_change=change["available"],
                held_change=change["held"],
                auction_id=transfer.auction_id,
                auction_title=title,
                payment_id=transfer.payment_id,
            )
        )
    return HistoryPage(entries=entries, page=page, per_page=per_page, total=total)


def active_holds(user_id: int) -> list[ActiveHold]:
    """The auctions the user's held Stars are reserved for."""
    rows = db.session.execute(
        select(Hold, Auction.title)
        .join(Auction, Auction.id == Hold.auction_id)
        .where(Hold.user_id == user_id, Hold.status == "active")
        .order_by(Hold.created_at.desc(), Hold.id.desc())
    ).all()
    return [
        ActiveHold(hold_id=hold.id, auction_id=hold.auction_id, auction_title=title, amount=hold.amount, since=hold.created_at)
        for hold, title in rows
    ]


# --- invariants -----------------------------------------------------------------------


def check_invariants() -> list[str]:
    """Every broken ledger invariant, one line each; an empty list means the books balance.

    1. total debits == total credits (and every account's balances add up to zero);
    2. no user's available or held balance is below zero;
    3. each user's held balance == the sum of their active holds;
    4. every Telegram charge id is credited at most once;
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
            problems.append(f"2. platform revenue account {account.id} is negative: {account.balance}")

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
        .where(LedgerTransfer.reason == PURCHASE)
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
        .where(LedgerTransfer.reason.in_((REFUND, REFUND_CANCELED)))
        .group_by(LedgerTransfer.payment_id, LedgerTransfer.reason)
    ).all():
        sign = 1 if reason == REFUND else -1
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


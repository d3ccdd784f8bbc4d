"""The wallet read model: a person's movements of Stars, page by page, and their active holds.

Reads only; every movement is made by services/ledger.py. Amounts are Stars, times UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select

from auction.extensions import db
from auction.models import Auction, Hold, LedgerAccount, LedgerTransfer, Payment
from auction.models.money import USER_ACCOUNT_KINDS
from auction.services import ledger

# A Premium charge paid in Telegram and its refund: they move platform revenue, not the person's accounts.
TELEGRAM_PREMIUM_REASONS = (ledger.SUBSCRIPTION, ledger.SUBSCRIPTION_REFUND)


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
    amount: int = 0  # the transfer's own amount in Stars (a Telegram Premium charge moves none of the user's)

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


def history(user_id: int, page: int = 1, per_page: int = 20) -> HistoryPage:
    """The user's movements, newest first, one page at a time.

    Besides the transfers of the user's own accounts, it lists the Premium charges (and their
    refunds) the user paid in Telegram: they never touch the wallet, but belong on its statement.
    """
    page = max(1, page)
    per_page = max(1, min(per_page, 100))
    account_ids = list(
        db.session.scalars(
            select(LedgerAccount.id).where(LedgerAccount.user_id == user_id, LedgerAccount.kind.in_(USER_ACCOUNT_KINDS))
        )
    )
    kinds = dict(db.session.execute(select(LedgerAccount.id, LedgerAccount.kind).where(LedgerAccount.id.in_(account_ids))).all())
    telegram_premium = LedgerTransfer.reason.in_(TELEGRAM_PREMIUM_REASONS) & LedgerTransfer.payment_id.in_(
        select(Payment.id).where(Payment.user_id == user_id)
    )
    mine = or_(LedgerTransfer.debit_account_id.in_(account_ids), LedgerTransfer.credit_account_id.in_(account_ids), telegram_premium)
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
                amount=transfer.amount,
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

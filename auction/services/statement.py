"""The wallet as a bank statement: ledger movements told the way the person understands them.

A buyer's win is one line, "Won «…» −405 ⭐" (the price; the platform's fee is the
seller's cost and never appears on the buyer's side); a seller's sale is "Sold «…» +405 ⭐"
with the fee and what they received; a reservation is "Held for your bid on «…»" and its
return "Released". A Premium period is "Premium, 30 days −250 ⭐", paid from the balance or,
marked as such, in Telegram (the wallet's balance does not change then).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from auction.extensions import db
from auction.models import Auction, LedgerTransfer
from auction.services import ledger, wallet


@dataclass(frozen=True)
class StatementLine:
    """One line of the statement. `amount` is the headline figure in Stars (signed); for a sale,
    `fee` and `received` break it down; for a hold or release, `held_change` is what moved to or from reserve."""

    entry: wallet.HistoryEntry
    kind: str  # won, sold, held, released, premium, premium_telegram, premium_refund, purchase, sandbox, refund, ...
    amount: int
    fee: int | None = None
    received: int | None = None

    @property
    def in_wallet(self) -> bool:
        """False for a Premium charge (or its refund) paid in Telegram: the wallet's balance did not change."""
        return self.kind not in ("premium_telegram", "premium_refund")

    @property
    def held_change(self) -> int:
        return self.entry.held_change


def _fees(auction_ids: set[int]) -> dict[int, int]:
    if not auction_ids:
        return {}
    return dict(
        db.session.execute(
            select(LedgerTransfer.auction_id, func.sum(LedgerTransfer.amount))
            .where(LedgerTransfer.reason == ledger.FEE, LedgerTransfer.auction_id.in_(auction_ids))
            .group_by(LedgerTransfer.auction_id)
        ).all()
    )


def statement(user_id: int, page: int = 1, per_page: int = 20) -> tuple[list[StatementLine], wallet.HistoryPage]:
    """One page of the person's statement, newest first, and the ledger page it was read from."""
    history = wallet.history(user_id, page, per_page)
    sales = {e.auction_id for e in history.entries if e.reason == ledger.SALE and e.auction_id is not None}
    fees = _fees(sales)
    prices = dict(db.session.execute(select(Auction.id, Auction.final_price).where(Auction.id.in_(sales))).all()) if sales else {}
    lines = []
    for entry in history.entries:
        if entry.reason == ledger.FEE:
            continue  # part of the buyer's "Won" line: the fee comes out of the price the seller gets
        if entry.reason == ledger.SALE and entry.change > 0:
            fee = fees.get(entry.auction_id, 0)
            lines.append(StatementLine(entry, "sold", entry.change + fee, fee=fee, received=entry.change))
        elif entry.reason == ledger.SALE:
            price = prices.get(entry.auction_id) or -entry.change
            lines.append(StatementLine(entry, "won", -price))
        elif entry.reason == ledger.HOLD:
            lines.append(StatementLine(entry, "held", entry.held_change))
        elif entry.reason == ledger.RELEASE:
            lines.append(StatementLine(entry, "released", -entry.held_change))
        elif entry.reason == ledger.SUBSCRIPTION:
            # From the balance the wallet pays; a Telegram charge moved none of the wallet's Stars.
            lines.append(StatementLine(entry, "premium" if entry.change else "premium_telegram", -entry.amount))
        elif entry.reason == ledger.SUBSCRIPTION_REFUND:
            lines.append(StatementLine(entry, "premium_refund", entry.amount))
        else:
            lines.append(StatementLine(entry, entry.reason, entry.change))
    return lines, history

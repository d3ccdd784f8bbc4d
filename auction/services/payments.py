"""Buying Stars with Telegram payments (XTR), refunds, and payment support requests.

The flow: `start_purchase` stores a pending purchase with a random payload; the bot
sends an invoice (or the wallet page makes an invoice link) carrying that payload;
Telegram asks `check_pre_checkout` before charging; after charging it delivers a
successful payment, which `complete_payment` credits exactly once per
`telegram_payment_charge_id` (the column is unique, so even two copies committing at the
same moment cannot both be stored). Stars bought are credited through the ledger.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, select, update
from sqlalchemy.exc import IntegrityError

from auction import stars
from auction.extensions import db
from auction.models import LedgerTransfer, Payment, StarPurchase, SupportMessage, SupportTicket, User, utcnow
from auction.services import ledger, subscriptions
from auction.services.errors import Forbidden, NotFound, ServiceError
from auction.services.notifications import notify
from auction.services.transaction import atomic

log = logging.getLogger(__name__)

CURRENCY = "XTR"
PACKAGES = (50, 100, 250, 500, 1000)
SOURCES = ("bot", "web")


class InvalidAmount(ServiceError):
    message = _l("Enter a whole number of Stars between %(min)s and %(max)s.")


class PaymentRefused(ServiceError):
    """Telegram must not charge: the reason is shown to the payer in the payment form."""

    message = _l("This invoice can no longer be paid. Please request a new one with /buy_stars.")
    status = 409


class RefundRefused(ServiceError):
    status = 409


@dataclass(frozen=True)
class Purchase:
    id: int
    payload: str
    amount: int


@dataclass(frozen=True)
class PaymentResult:
    payment_id: int
    user_id: int
    amount: int
    available: int
    already_credited: bool


@dataclass(frozen=True)
class PaymentSummary:
    id: int
    amount: int
    status: str
    created_at: datetime
    telegram_payment_charge_id: str


def stars_limits() -> tuple[int, int]:
    return current_app.config.get("STARS_MIN", 1), current_app.config.get("STARS_MAX", 10_000)


def parse_amount(text: str | int | None) -> int:
    """A number of Stars to buy, as typed (see auction.stars) or given, within STARS_MIN..STARS_MAX.

    Raises InvalidAmount (which names the limits) for anything else.
    """
    low, high = stars_limits()
    if isinstance(text, int) and not isinstance(text, bool):
        amount = text
    else:
        try:
            amount = stars.parse(text if isinstance(text, str) else None)
        except stars.InvalidStars:
            raise InvalidAmount(min=low, max=high) from None
    if not low <= amount <= high:
        raise InvalidAmount(min=low, max=high)
    return amount


def _user_by_telegram_id(telegram_id: int) -> User | None:
    return db.session.scalar(select(User).where(User.telegram_id == telegram_id))


def _tell_refunded(user_id: int, payment_id: int, amount: int, available: int) -> None:
    """The user hears about the refund on every channel they chose, in this same transaction."""
    notify(user_id, "payment_refunded", dedupe_key=f"payment_refunded:{payment_id}", amount=amount, available=available)


# --- buying ---------------------------------------------------------------------------


@atomic
def start_purchase(user_id: int, amount: int, source: str) -> Purchase:
    """Store a pending purchase of `amount` Stars; its payload goes into the invoice."""
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound()
    if user.is_suspended:
        raise Forbidden(_l("Your account is suspended, so it cannot buy Stars."))
    amount = parse_amount(amount)
    if source not in SOURCES:
        raise ValueError(f"unknown purchase source {source!r}")
    # 192 random bits: nobody can guess another person's pending invoice.
    purchase = StarPurchase(user_id=user_id, payload=secrets.token_urlsafe(24), amount=amount, source=source)
    db.session.add(purchase)
    db.session.flush()
    return Purchase(id=purchase.id, payload=purchase.payload, amount=amount)


@atomic
def expire_stale_purchases(now: datetime | None = None) -> int:
    """Expire unpaid purchases older than PURCHASE_TTL_HOURS; returns how many.

    An expired invoice is refused at pre-checkout ("This invoice has expired"), so an old
    link found in a chat months later cannot be paid on stale terms, and the wallet stops
    offering to pay it. A payment Telegram still completes for one is credited all the same.
    """
    cutoff = (now or utcnow()) - timedelta(hours=current_app.config.get("PURCHASE_TTL_HOURS", 24))
    result = db.session.execute(
        update(StarPurchase)
        .where(StarPurchase.status == "pending", StarPurchase.created_at < cutoff)
        .values(status="expired")
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


def pending_invoice(user_id: int, purchase_id: int) -> tuple[Purchase, str] | None:
    """The user's own unpaid web purchase and its invoice link, to show the "Pay" button again."""
    purchase = db.session.get(StarPurchase, purchase_id)
    if purchase is None or purchase.user_id != user_id or purchase.status != "pending" or not purchase.invoice_link:
        return None
    return Purchase(purchase.id, purchase.payload, purchase.amount), purchase.invoice_link


@atomic
def attach_invoice_link(purchase_id: int, link: str) -> None:
    """Remember the invoice link made for a web purchase."""
    purchase = db.session.get(StarPurchase, purchase_id)
    if purchase is None:
        raise NotFound()
    purchase.invoice_link = link[:512]


def _refusal(telegram_id: int, payload: str, total_amount: int, currency: str) -> PaymentRefused | None:
    purchase = db.session.scalar(select(StarPurchase).where(StarPurchase.payload == payload))
    if purchase is None:
        return PaymentRefused(_l("This invoice is not valid. Please request a new one with /buy_stars."))
    user = db.session.get(User, purchase.user_id)
    if user.telegram_id != telegram_id:
        return PaymentRefused(_l("This invoice was issued to another Telegram account."))
    if purchase.status == "paid":
        return PaymentRefused(_l("This invoice has already been paid."))
    if purchase.status != "pending":
        return PaymentRefused(_l("This invoice has expired. Please request a new one with /buy_stars."))
    if currency != CURRENCY:
        return PaymentRefused(_l("Only Telegram Stars (XTR) are accepted."))
    if total_amount != purchase.amount:
        return PaymentRefused(_l("The amount does not match the invoice. Please request a new one with /buy_stars."))
    if user.is_suspended:
        return PaymentRefused(_l("Your account is suspended, so it cannot buy Stars."))
    return None


def check_pre_checkout(telegram_id: int, payload: str, total_amount: int, currency: str) -> None:
    """Raise PaymentRefused (with a reason for the payer) unless Telegram may charge."""
    refusal = _refusal(telegram_id, payload, total_amount, currency)
    if refusal is not None:
        raise refusal


def complete_payment(
    telegram_id: int,
    payload: str,
    total_amount: int,
    currency: str,
    telegram_payment_charge_id: str,
    provider_payment_charge_id: str | None = None,
) -> PaymentResult:
    """Credit a successful payment exactly once; a repeated delivery changes nothing.

    Telegram has already taken the Stars when this runs, so a payment that no longer
    matches its invoice (paid twice, amount changed) is still credited to the payer and
    put in front of an admin as a payment support ticket, never dropped.
    """
    try:
        return _complete_payment(
            telegram_id, payload, total_amount, currency, telegram_payment_charge_id, provider_payment_charge_id
        )
    except IntegrityError:
        # Another delivery of the same charge committed between our check and our insert.
        db.session.rollback()
        payment = db.session.scalar(select(Payment).where(Payment.telegram_payment_charge_id == telegram_payment_charge_id))
        if payment is None:
            raise
        return PaymentResult(payment.id, payment.user_id, payment.amount, ledger.balances(payment.user_id).available, True)


@atomic
def _complete_payment(
    telegram_id: int,
    payload: str,
    total_amount: int,
    currency: str,
    charge_id: str,
    provider_charge_id: str | None,
) -> PaymentResult:
    if currency != CURRENCY or total_amount <= 0:
        log.error("successful payment %s in %s %s cannot be stored", charge_id, total_amount, currency)
        raise PaymentRefused(_l("Only Telegram Stars (XTR) are accepted."))
    # The purchase row lock queues two deliveries of one invoice behind each other.
    purchase = db.session.scalar(
        select(StarPurchase).where(StarPurchase.payload == payload).with_for_update().execution_options(populate_existing=True)
    )
    existing = db.session.scalar(select(Payment).where(Payment.telegram_payment_charge_id == charge_id))
    if existing is not None:
        return PaymentResult(existing.id, existing.user_id, existing.amount, ledger.balances(existing.user_id).available, True)
    payer = _user_by_telegram_id(telegram_id)
    if payer is None:
        log.error("successful payment %s from unknown Telegram user %s", charge_id, telegram_id)
        raise NotFound()
    problem = _refusal(telegram_id, payload, total_amount, currency)
    payment = Payment(
        user_id=payer.id,
        purchase_id=purchase.id if problem is None else None,
        telegram_payment_charge_id=charge_id,
        provider_payment_charge_id=provider_charge_id or None,
        amount=total_amount,
        currency=CURRENCY,
        status="paid",
    )
    db.session.add(payment)
    db.session.flush()  # the unique charge id is enforced here
    if problem is None:
        purchase.status = "paid"
        purchase.paid_at = utcnow()
    else:
        log.warning("payment %s does not match its invoice (%s); credited and sent to admins", charge_id, problem)
        _open_ticket(
            payer.id,
            payment.id,
            f"Payment {charge_id} of {total_amount} XTR did not match its invoice ({problem}); "
            "it was credited to the payer. Check it and refund if needed.",
        )
    available = ledger.credit_purchase(payer.id, total_amount, payment.id)
    notify(payer.id, "stars_received", dedupe_key=f"stars_received:{payment.id}", amount=total_amount, available=available)
    return PaymentResult(payment.id, payer.id, total_amount, available, False)


# --- refunds --------------------------------------------------------------------------
#
# Telegram's refundStarPayment cannot share a database transaction: it may answer after
# we gave up waiting, or succeed just before our commit fails. So an admin refund takes
# three steps. First the credit is reversed and the payment stays "paid": the Stars leave
# the user's available balance, so they cannot be spent while Telegram is asked (a
# reversed credit on a "paid" payment is a refund in flight). Then Telegram is asked,
# outside any transaction. Then the payment is marked refunded, or, if Telegram refused,
# the reversal is undone. When Telegram's answer is lost, the refund stays in flight until
# Telegram's refunded_payment message or the admin's retry completes it.


class RefundDeclined(Exception):
    """Raised by a `send_refund` callable when Telegram definitely did not refund."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class RefundResult:
    payment_id: int
    amount: int
    available: int
    completed: bool  # False: Telegram's answer was lost; the Stars stay reserved for the refund


@dataclass(frozen=True)
class _RefundInFlight:
    payment_id: int
    amount: int
    telegram_id: int
    charge_id: str


def refund_payment(admin_id: int, payment_id: int, send_refund: Callable[[int, str], None]) -> RefundResult:
    """An admin gives a purchase back to the payer's Telegram account.

    Allowed only while the user's available Stars still cover the whole purchase. A Premium
    charge (paid to the platform, never to the wallet) is refunded whole and ends the
    period it paid for (subscriptions.record_refund).
    `send_refund(telegram_user_id, charge_id)` calls refundStarPayment; it raises
    RefundDeclined when Telegram refused (the Stars go back to the user and
    RefundRefused says why), any other exception when the outcome is unknown (the
    result is then not `completed`). Retrying an unknown outcome asks Telegram again.
    """
    if _is_subscription_charge(admin_id, payment_id):
        return _refund_subscription(admin_id, payment_id, send_refund)
    in_flight = _start_refund(admin_id, payment_id)
    try:
        send_refund(in_flight.telegram_id, in_flight.charge_id)
    except RefundDeclined as declined:
        _cancel_refund(payment_id)
        raise RefundRefused(
            _l("Telegram refused the refund: %(error)s. Nothing was changed."), error=declined.reason
        ) from declined
    except Exception:
        log.warning("refund of payment %s: Telegram's answer was lost; the Stars stay reserved", payment_id, exc_info=True)
        available = ledger.balances(db.session.get(Payment, payment_id).user_id).available
        return RefundResult(payment_id, in_flight.amount, available, completed=False)
    return RefundResult(payment_id, in_flight.amount, _finish_refund(payment_id), completed=True)


def _is_subscription_charge(admin_id: int, payment_id: int) -> bool:
    admin = db.session.get(User, admin_id)
    if admin is None or not admin.is_admin:
        raise Forbidden()
    return subscriptions.charge_of(payment_id) is not None


def _refund_subscription(admin_id: int, payment_id: int, send_refund: Callable[[int, str], None]) -> RefundResult:
    """The Stars went to platform revenue, so nothing is set aside: Telegram is asked, then the period ends."""
    payment = db.session.get(Payment, payment_id)
    if payment.status == "refunded":
        raise RefundRefused(_l("This payment has already been refunded."))
    telegram_id, charge_id, user_id, amount = payment.user.telegram_id, payment.telegram_payment_charge_id, payment.user_id, payment.amount
    db.session.rollback()  # no transaction stays open while Telegram answers
    try:
        send_refund(telegram_id, charge_id)
    except RefundDeclined as declined:
        raise RefundRefused(
            _l("Telegram refused the refund: %(error)s. Nothing was changed."), error=declined.reason
        ) from declined
    except Exception:
        log.warning("refund of subscription payment %s: Telegram's answer was lost; retry it", payment_id, exc_info=True)
        return RefundResult(payment_id, amount, ledger.balances(user_id).available, completed=False)
    subscriptions.record_refund(payment_id)
    return RefundResult(payment_id, amount, ledger.balances(user_id).available, completed=True)


@atomic
def _start_refund(admin_id: int, payment_id: int) -> _RefundInFlight:
    admin = db.session.get(User, admin_id)
    if admin is None or not admin.is_admin:
        raise Forbidden()
    payment = ledger.locked_payment(payment_id)
    if payment.status == "refunded":
        raise RefundRefused(_l("This payment has already been refunded."))
    if not ledger.reversed_amount(payment.id):
        available = ledger.balances(payment.user_id).available
        if available < payment.amount:
            raise RefundRefused(
                _l(
                    "This payment cannot be refunded: the user has %(available)s Stars available, "
                    "less than the %(amount)s Stars of the payment.",
                ),
                available=available,
                amount=payment.amount,
            )
        ledger.reverse_purchase(payment.id)
    return _RefundInFlight(payment.id, payment.amount, payment.user.telegram_id, payment.telegram_payment_charge_id)


@atomic
def _finish_refund(payment_id: int) -> int:
    """Telegram refunded: mark the payment refunded and tell the user, once; returns their available Stars."""
    payment = ledger.locked_payment(payment_id)
    if payment.status != "refunded" and _mark_refunded(payment) == "reversed":
        _tell_refunded(payment.user_id, payment.id, payment.amount, ledger.balances(payment.user_id).available)
    return ledger.balances(payment.user_id).available


@atomic
def _cancel_refund(payment_id: int) -> None:
    """Telegram refused: the reserved Stars go back to the user's available balance."""
    payment = ledger.locked_payment(payment_id)
    if payment.status == "paid" and ledger.reversed_amount(payment.id):
        ledger.cancel_reversal(payment.id)


def _mark_refunded(payment: Payment) -> str:
    """Record a refund Telegram made: "reversed", or "flagged" when the Stars are gone."""
    payment.status = "refunded"
    payment.refunded_at = utcnow()
    if ledger.reversed_amount(payment.id):
        return "reversed"  # an admin refund had already set the Stars aside
    available = ledger.balances(payment.user_id).available
    if available >= payment.amount:
        ledger.reverse_purchase(payment.id)
        return "reversed"
    _open_ticket(
        payment.user_id,
        payment.id,
        f"Telegram refunded payment {payment.telegram_payment_charge_id} ({payment.amount} XTR), but the user has "
        f"only {available} Stars available; the credit was not reversed. Review the account.",
    )
    return "flagged"


@atomic
def handle_refunded_payment(telegram_id: int, charge_id: str) -> str:
    """Telegram says it refunded a payment: take the Stars back if they are still there.

    Returns "reversed" (also when an admin refund had reserved them), "premium_ended" (a
    Premium charge: its period ended), "flagged" (already
    spent or held: an admin gets a payment ticket, no balance goes negative), "already"
    (recorded before) or "unknown".
    """
    payment = db.session.scalar(select(Payment).where(Payment.telegram_payment_charge_id == charge_id))
    if payment is None:
        log.error("Telegram refunded unknown payment %s (user %s)", charge_id, telegram_id)
        return "unknown"
    payment = ledger.locked_payment(payment.id)
    if payment.status == "refunded":
        return "already"
    if subscriptions.charge_of(payment.id) is not None:
        return "premium_ended" if subscriptions.record_refund(payment.id, tell=False) else "already"
    # The bot answers the refund message itself, so no outbox message here.
    return _mark_refunded(payment)


# --- reconciliation -------------------------------------------------------------------
#
# A refund whose answer was lost stays in flight ("refund pending"). Telegram's own record
# settles it: getStarTransactions lists the bot's Star transactions in chronological order;
# a refund is an outgoing transaction whose `id` is the refunded charge's
# telegram_payment_charge_id and whose `receiver` is a TransactionPartnerUser (type "user")
# — Bot API, StarTransaction and TransactionPartner. Found: the refund is completed; the
# whole list read without it: the Stars go back to the user and the payment is refundable
# again. A list that could not be read whole decides nothing.

STAR_TRANSACTIONS_PAGE = 100  # getStarTransactions' largest `limit`
STAR_TRANSACTIONS_MAX_PAGES = 1_000  # 100,000 transactions read at most per reconciliation
RECONCILE_GRACE = timedelta(minutes=2)  # the job leaves a refund this young alone: its request may still be on its way


@dataclass(frozen=True)
class StarTransaction:
    """One of the bot's Telegram Star transactions, as reconciliation reads it (amount in Stars)."""

    id: str
    amount: int
    refunded_to: int | None  # the receiving user's Telegram id when the receiver is a user (a refund), else None


@dataclass(frozen=True)
class Reconciliation:
    refunded: list[int]  # payment ids whose refund Telegram made: completed now
    not_refunded: list[int]  # payment ids Telegram did not refund: refundable again
    undecided: list[int]  # payment ids left pending (Telegram's list could not be read whole)


def refund_pending(payment_id: int) -> bool:
    """True while a refund of the payment is in flight: its Stars set aside, Telegram's answer not known."""
    payment = db.session.get(Payment, payment_id)
    return payment is not None and payment.status == "paid" and ledger.reversed_amount(payment_id) > 0


def refunds_pending_among(payment_ids: list[int]) -> set[int]:
    """Which of `payment_ids` have a refund in flight (one query, for a list page)."""
    return set(pending_refund_ids(among=payment_ids)) if payment_ids else set()


def pending_refund_ids(started_before: datetime | None = None, among: list[int] | None = None) -> list[int]:
    """Payments with a refund in flight (of those whose refund started before `started_before` when given), oldest first."""
    refund = func.sum(case((LedgerTransfer.reason == ledger.REFUND, LedgerTransfer.amount), else_=0))
    canceled = func.sum(case((LedgerTransfer.reason == ledger.REFUND_CANCELED, LedgerTransfer.amount), else_=0))
    query = (
        select(Payment.id)
        .join(LedgerTransfer, LedgerTransfer.payment_id == Payment.id)
        .where(Payment.status == "paid", LedgerTransfer.reason.in_((ledger.REFUND, ledger.REFUND_CANCELED)))
        .group_by(Payment.id)
        .having(refund > canceled)
        .order_by(Payment.id)
    )
    if started_before is not None:
        query = query.having(func.max(LedgerTransfer.created_at) < started_before)
    if among is not None:
        query = query.where(Payment.id.in_(among))
    return list(db.session.scalars(query))


def _refunded_charges(list_transactions: Callable[[int, int], list[StarTransaction]]) -> set[str] | None:
    """Charge ids Telegram refunded to a user, from the whole transaction list; None when it could not be read whole."""
    refunded: set[str] = set()
    for page in range(STAR_TRANSACTIONS_MAX_PAGES):
        batch = list_transactions(page * STAR_TRANSACTIONS_PAGE, STAR_TRANSACTIONS_PAGE)
        refunded.update(t.id for t in batch if t.refunded_to is not None)
        if len(batch) < STAR_TRANSACTIONS_PAGE:
            return refunded
    log.warning("reconciliation: more than %d Star transactions; pending refunds stay pending", STAR_TRANSACTIONS_MAX_PAGES * STAR_TRANSACTIONS_PAGE)
    return None


def reconcile_refunds(list_transactions: Callable[[int, int], list[StarTransaction]], payment_ids: list[int] | None = None,
                      now: datetime | None = None) -> Reconciliation:
    """Settle refunds in flight against Telegram's record (the payments given, or every one pending for RECONCILE_GRACE).

    `list_transactions(offset, limit)` calls getStarTransactions. A refund found is completed
    (marked refunded, the user told, the ledger unchanged: the Stars left at the refund's start);
    one not found returns its Stars to the user's available balance. Running it again changes
    nothing. Errors of `list_transactions` propagate (nothing is changed then).
    """
    if payment_ids is None:
        payment_ids = pending_refund_ids((now or utcnow()) - RECONCILE_GRACE)
    pending = [pid for pid in payment_ids if refund_pending(pid)]
    if not pending:
        return Reconciliation([], [], [])
    refunded = _refunded_charges(list_transactions)
    if refunded is None:
        return Reconciliation([], [], pending)
    done, back = [], []
    for payment_id in pending:
        charge = db.session.get(Payment, payment_id).telegram_payment_charge_id
        if charge in refunded:
            _finish_refund(payment_id)
            done.append(payment_id)
        else:
            _cancel_refund(payment_id)
            back.append(payment_id)
    return Reconciliation(done, back, [])


# --- support --------------------------------------------------------------------------


def recent_payments(user_id: int, limit: int = 5) -> list[PaymentSummary]:
    rows = db.session.scalars(
        select(Payment).where(Payment.user_id == user_id).order_by(Payment.created_at.desc(), Payment.id.desc()).limit(limit)
    )
    return [PaymentSummary(p.id, p.amount, p.status, p.created_at, p.telegram_payment_charge_id) for p in rows]


def _open_ticket(user_id: int, payment_id: int | None, body: str, from_staff: bool = True) -> int:
    ticket = SupportTicket(
        user_id=user_id,
        kind="payment",
        subject=f"Payment #{payment_id}" if payment_id else "Payment support request",
        payment_id=payment_id,
    )
    body = body.replace("\x00", "\ufffd")  # PostgreSQL cannot store NUL; the rest of the message stays
    ticket.messages.append(SupportMessage(author_id=None if from_staff else user_id, from_staff=from_staff, body=body))
    db.session.add(ticket)
    db.session.flush()
    return ticket.id


@atomic
def open_payment_request(user_id: int, body: str, payment_id: int | None = None) -> int:
    """The user asks for help with a payment (/paysupport); returns the ticket id."""
    if payment_id is not None:
        payment = db.session.get(Payment, payment_id)
        if payment is None or payment.user_id != user_id:
            raise NotFound()
    body = (body or "").strip()
    if not body:
        raise ServiceError(_l("Describe the problem with your payment in a few words."))
    from auction.services import support

    ticket_id = _open_ticket(user_id, payment_id, body[:4000], from_staff=False)
    support.relay_ticket(ticket_id, support.chat_id_from(current_app.config.get("SUPPORT_CHAT_ID")))
    return ticket_id

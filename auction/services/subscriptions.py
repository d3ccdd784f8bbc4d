"""Paying for Premium and its life cycle: Telegram Stars subscriptions, wallet payments, renewal, expiry, refunds.

Each paid period is one Subscription row. A Telegram subscription (Bot API createInvoiceLink
with `subscription_period`) brings one successful payment per period, each stored once per
`telegram_payment_charge_id` and credited to platform revenue; a wallet payment moves Stars
from the person's available balance to platform revenue. Whether a person has Premium is
read from the rows' `expires_at` (auction.services.premium), so nothing here has to run on
time: the expiry job only tidies statuses, pays wallet renewals and sends the reminders.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from auction.extensions import db
from auction.models import Payment, Subscription, User, utcnow
from auction.services import achievements, ledger, premium
from auction.services.errors import Forbidden, InsufficientFunds, NotFound, ServiceError
from auction.services.notifications import moment, notify
from auction.services.transaction import atomic

log = logging.getLogger(__name__)

PLAN = "premium"
CURRENCY = "XTR"
# createInvoiceLink's subscription_period: Telegram allows exactly 30 days (2592000 seconds).
TELEGRAM_PERIOD_SECONDS = 2_592_000
REMIND_BEFORE = timedelta(days=3)
# A wallet renewal is paid this long before the period ends, so Premium never lapses between runs.
RENEW_AHEAD = timedelta(hours=12)
# Telegram charges a renewal at the period's end; its payment may reach us a little later.
TELEGRAM_GRACE = timedelta(hours=12)
RUNNING = ("active", "canceled")
PAGE = "/premium"  # where a Premium notification leads


class SubscriptionRefused(ServiceError):
    """Telegram must not charge this subscription invoice; the reason is shown in the payment form."""

    message = _l("This Premium invoice is not valid. Please open a new one with /subscribe.")
    status = 409


class NotSubscribed(ServiceError):
    message = _l("You have no Premium period running.")
    status = 409


class RenewalNotChanged(ServiceError):
    """Telegram refused editUserStarSubscription; nothing was changed."""

    message = _l("Telegram did not change the subscription: %(error)s. Nothing was changed.")
    status = 502


@dataclass(frozen=True)
class State:
    """A person's Premium as the pages and the bot show it (times UTC, amounts in Stars)."""

    until: datetime | None  # end of the paid time, None without Premium
    source: str | None  # "telegram" or "balance": how the last period was paid
    renews: bool  # the last period renews at its end (Telegram charges, or the wallet pays)
    price: int
    period_days: int
    next_end: datetime  # where one more wallet-paid period would end

    @property
    def premium(self) -> bool:
        return self.until is not None

    @property
    def telegram(self) -> bool:
        return self.source == "telegram"

    @property
    def renewal(self) -> str:
        """How Premium goes on after `until`: "telegram" (Telegram charges), "balance" (the wallet pays) or "off"."""
        return (self.source or "off") if self.renews else "off"


@dataclass(frozen=True)
class Paid:
    """A Premium payment stored: the period's end (UTC) and whether it had been stored before."""

    user_id: int
    amount: int
    expires_at: datetime
    already: bool
    renewal: bool


def price() -> int:
    """PREMIUM_PRICE: Stars per period."""
    return current_app.config["PREMIUM_PRICE"]


def period() -> timedelta:
    """PREMIUM_PERIOD_DAYS as a duration (30 days by default, the Telegram subscription period)."""
    return timedelta(days=current_app.config["PREMIUM_PERIOD_DAYS"])


# --- invoices ---------------------------------------------------------------------------


def invoice_payload(user_id: int) -> str:
    """The payload of a person's subscription invoice: it names the plan and the person (max 128 bytes)."""
    return f"subscription:{PLAN}:{user_id}"


def is_subscription_payload(payload: str | None) -> bool:
    """True for a payload made by `invoice_payload` (a Premium invoice, not a Stars purchase)."""
    return bool(payload) and payload.startswith("subscription:")


def _payload_user(payload: str) -> int | None:
    kind, _, rest = payload.partition(":")
    plan, _, user_id = rest.partition(":")
    if kind != "subscription" or plan != PLAN or not user_id.isdigit():
        return None
    return int(user_id)


def _running(user_id: int, at: datetime) -> list[Subscription]:
    """The person's periods that cover `at` or start later, the last-ending first."""
    return list(
        db.session.scalars(
            select(Subscription)
            .where(Subscription.user_id == user_id, Subscription.status.in_(RUNNING), Subscription.expires_at > at)
            .order_by(Subscription.expires_at.desc(), Subscription.id.desc())
        )
    )


def state(user_id: int, at: datetime | None = None) -> State:
    """The person's Premium now: until when, how it was paid, whether it renews, what one more period gives."""
    at = at or utcnow()
    running = _running(user_id, at)
    last = running[0] if running else None
    until = premium.premium_until(user_id, at) if last else None
    return State(
        until=until,
        source=last.source if last else None,
        renews=bool(last and last.status == "active"),
        price=price(),
        period_days=current_app.config["PREMIUM_PERIOD_DAYS"],
        next_end=max(at, last.expires_at if last else at) + period(),
    )


def _refusal(telegram_id: int, payload: str, total_amount: int, currency: str) -> SubscriptionRefused | None:
    payer = db.session.scalar(select(User).where(User.telegram_id == telegram_id))
    owner = _payload_user(payload)
    if owner is None:
        return SubscriptionRefused()
    if payer is None or payer.id != owner:
        return SubscriptionRefused(_l("This invoice was issued to another Telegram account."))
    if currency != CURRENCY:
        return SubscriptionRefused(_l("Only Telegram Stars (XTR) are accepted."))
    if total_amount != price():
        return SubscriptionRefused(_l("The price of Premium has changed. Please open a new invoice with /subscribe."))
    if payer.is_suspended:
        return SubscriptionRefused(_l("Your account is suspended, so it cannot pay for Premium."))
    return _already_premium(payer.id)


def _already_premium(user_id: int) -> SubscriptionRefused | None:
    """A Telegram subscription starts when paid and runs 30 days, so it is offered only without Premium running."""
    if premium.premium_until(user_id) is not None:
        return SubscriptionRefused(
            _l("You already have Premium. Subscribe in Telegram after it ends, or add a period from your Stars.")
        )
    return None


def check_pre_checkout(telegram_id: int, payload: str, total_amount: int, currency: str) -> None:
    """Raise SubscriptionRefused (a reason for the payer) unless Telegram may charge this Premium invoice."""
    refusal = _refusal(telegram_id, payload, total_amount, currency)
    if refusal is not None:
        raise refusal


@atomic
def open_invoice(user_id: int) -> str:
    """The payload for a new subscription invoice of `user_id`.

    Raises Forbidden (suspended, or no Telegram account), SubscriptionRefused while Premium
    runs (a Telegram subscription's 30 days start at payment and would overlap), NotFound.
    """
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound()
    if user.is_suspended:
        raise Forbidden(_l("Your account is suspended, so it cannot pay for Premium."))
    if user.telegram_id is None:
        raise Forbidden(_l("Sign in with Telegram to subscribe in Telegram."))
    refusal = _already_premium(user_id)
    if refusal is not None:
        raise refusal
    return invoice_payload(user_id)


# --- payments from Telegram -------------------------------------------------------------


def complete_telegram_payment(
    telegram_id: int,
    payload: str,
    total_amount: int,
    currency: str,
    telegram_payment_charge_id: str,
    subscription_expiration_date: datetime | None = None,
    is_recurring: bool = False,
    is_first_recurring: bool = False,
) -> Paid:
    """Store a Premium payment (the first or a renewal, Bot API successful_payment) exactly once.

    The period ends at `subscription_expiration_date` (UTC) when Telegram gives
    it, else one period after the later of now and the current end. A second delivery of the
    same `telegram_payment_charge_id` changes nothing (`already`). Telegram has taken the
    Stars when this runs, so a payload naming someone else still gives the payer the period.
    Raises SubscriptionRefused for a currency other than XTR, NotFound for an unknown payer.
    """
    try:
        return _complete_telegram_payment(
            telegram_id, payload, total_amount, currency, telegram_payment_charge_id,
            subscription_expiration_date, is_recurring and not is_first_recurring,
        )
    except IntegrityError:
        # Another delivery of the same charge committed between our check and our insert.
        db.session.rollback()
        row = db.session.scalar(select(Subscription).where(Subscription.telegram_payment_charge_id == telegram_payment_charge_id))
        if row is None:
            raise
        return Paid(row.user_id, total_amount, row.expires_at, True, row.renews_id is not None)


@atomic
def _complete_telegram_payment(
    telegram_id: int, payload: str, total_amount: int, currency: str, charge_id: str, expiration: datetime | None, renewal: bool
) -> Paid:
    if currency != CURRENCY or total_amount <= 0:
        log.error("subscription payment %s in %s %s cannot be stored", charge_id, total_amount, currency)
        raise SubscriptionRefused(_l("Only Telegram Stars (XTR) are accepted."))
    existing = db.session.scalar(select(Subscription).where(Subscription.telegram_payment_charge_id == charge_id))
    if existing is not None:
        return Paid(existing.user_id, total_amount, existing.expires_at, True, existing.renews_id is not None)
    payer = db.session.scalar(select(User).where(User.telegram_id == telegram_id).with_for_update())
    if payer is None:
        log.error("subscription payment %s from unknown Telegram user %s", charge_id, telegram_id)
        raise NotFound()
    if _payload_user(payload) != payer.id:
        log.warning("subscription payment %s: payload names another person; the payer %s gets the period", charge_id, payer.id)
    now = utcnow()
    # The subscription this renewal belongs to: the person's last Telegram period, even one
    # the expiry job already closed (a renewal may arrive late).
    previous = db.session.scalar(
        select(Subscription)
        .where(Subscription.user_id == payer.id, Subscription.source == "telegram")
        .order_by(Subscription.expires_at.desc(), Subscription.id.desc())
        .limit(1)
    )
    chained = previous if renewal and previous is not None else None
    if expiration:
        expires_at = expiration.astimezone(UTC)
    else:
        expires_at = max(now, chained.expires_at if chained else now) + period()
    payment = Payment(
        user_id=payer.id, telegram_payment_charge_id=charge_id, amount=total_amount, currency=CURRENCY, status="paid"
    )
    db.session.add(payment)
    db.session.flush()  # the unique charge id is enforced here
    row = Subscription(
        user_id=payer.id,
        plan=PLAN,
        status="active",
        source="telegram",
        telegram_payment_charge_id=charge_id,
        subscription_charge_id=chained.subscription_charge_id if chained else charge_id,
        payment_id=payment.id,
        is_recurring=True,
        starts_at=now,
        expires_at=expires_at,
        renews_id=chained.id if chained else None,
    )
    db.session.add(row)
    db.session.flush()
    ledger.credit_subscription(payment.id)
    # No notification: the bot answers the payment itself (auction.bot.replies.premium).
    achievements.evaluate(payer.id, ("patron",))
    return Paid(payer.id, total_amount, expires_at, False, chained is not None)


def _date(at: datetime) -> str:
    """A period end as a notification keeps it: a moment each reader sees in their own zone."""
    return moment(at)


# --- paying from the wallet -----------------------------------------------------------


@atomic
def pay_from_balance(user_id: int, expected_price: int | None = None, renew: bool = False) -> Paid:
    """Pay one Premium period (PREMIUM_PRICE Stars) from available Stars; it starts at the later of now and the current end.

    `expected_price` is the price the person confirmed: a changed price raises
    SubscriptionRefused instead of charging another amount, as does a Telegram subscription
    that still renews (it would pay the same time twice). `renew` turns on paying the next
    period from the wallet too. Raises InsufficientFunds when available Stars do not cover it,
    Forbidden for a suspended account.
    """
    user = db.session.scalar(select(User).where(User.id == user_id).with_for_update())
    if user is None:
        raise NotFound()
    if user.is_suspended:
        raise Forbidden(_l("Your account is suspended, so it cannot pay for Premium."))
    amount = price()
    if expected_price is not None and expected_price != amount:
        raise SubscriptionRefused(_l("The price of Premium has changed to %(price)s Stars. Check it and confirm again."), price=amount)
    now = utcnow()
    running = _running(user_id, now)
    if running and running[0].source == "telegram" and running[0].status == "active":
        raise SubscriptionRefused(
            _l("Telegram renews your Premium subscription. To pay from your Stars instead, cancel its renewal first.")
        )
    starts_at = max(now, running[0].expires_at) if running else now
    ledger.pay_subscription(user_id, amount)
    row = Subscription(
        user_id=user_id,
        plan=PLAN,
        status="active" if renew else "canceled",
        source="balance",
        is_recurring=False,
        starts_at=starts_at,
        expires_at=starts_at + period(),
        canceled_at=None if renew else now,
    )
    db.session.add(row)
    db.session.flush()
    achievements.evaluate(user_id, ("patron",))
    return Paid(user_id, amount, row.expires_at, False, False)


# --- renewal on and off ---------------------------------------------------------------


EditSubscription = Callable[[int, str, bool], None]  # (telegram user id, charge id, is_canceled) -> None


def set_renewal(user_id: int, renew: bool, edit_subscription: EditSubscription) -> State:
    """Turn renewal of the person's last Premium period on or off; the paid time runs out normally.

    For a Telegram subscription `edit_subscription(telegram_id, charge_id, is_canceled)` calls the
    Bot API editUserStarSubscription first; it raises RenewalNotChanged when Telegram refuses
    (or BotUnavailable when the bot is off), and then nothing changes here. A wallet period
    renews from available Stars (the expiry job pays it). Raises NotSubscribed without a period.
    """
    last = _last_running(user_id)
    if last.source == "telegram" and (last.status == "active") != renew:
        telegram_id, charge_id = db.session.get(User, user_id).telegram_id, last.subscription_charge_id
        db.session.rollback()  # no transaction stays open while Telegram answers
        edit_subscription(telegram_id, charge_id, not renew)
    _apply_renewal(user_id, renew)
    return state(user_id)


def _last_running(user_id: int) -> Subscription:
    running = _running(user_id, utcnow())
    if not running:
        raise NotSubscribed()
    return running[0]


@atomic
def _apply_renewal(user_id: int, renew: bool) -> None:
    last = _last_running(user_id)
    # Every running period of the same kind follows: renewal is one switch for the person.
    for row in _running(user_id, utcnow()):
        if row.source == last.source:
            row.status = "active" if renew else "canceled"
            row.canceled_at = None if renew else utcnow()


# --- refunds ----------------------------------------------------------------------------


def charge_of(payment_id: int) -> Subscription | None:
    """The Premium period a Telegram payment paid for, or None for a Stars purchase."""
    return db.session.scalar(select(Subscription).where(Subscription.payment_id == payment_id))


@atomic
def record_refund(payment_id: int, tell: bool = True) -> bool:
    """Telegram refunded a Premium charge: the period it paid for ends now and revenue gives the Stars back.

    `tell`: send the "Premium ended" notification (off when the bot answers Telegram's refund
    notice itself). Idempotent: returns False when the payment was already marked refunded.
    Raises NotFound when the payment paid for no Premium period.
    """
    payment = ledger.locked_payment(payment_id)
    row = charge_of(payment_id)
    if row is None:
        raise NotFound()
    if payment.status == "refunded":
        return False
    now = utcnow()
    payment.status = "refunded"
    payment.refunded_at = now
    ledger.refund_subscription(payment_id)
    row.status = "expired"
    row.canceled_at = row.canceled_at or now
    row.expires_at = max(min(row.expires_at, now), row.starts_at)
    if tell and premium.premium_until(row.user_id, now) is None:
        notify(row.user_id, "subscription_ended", path=PAGE, dedupe_key=f"subscription_ended:{row.id}")
    return True


# --- the expiry job ---------------------------------------------------------------------


def run_expiry(now: datetime | None = None) -> dict:
    """The scheduler's Premium job: tidy ended periods, pay wallet renewals, remind 3 days ahead.

    Idempotent and safe in two processes at once: a wallet renewal is unique per period
    (`renews_id`), each notification has a dedupe key. Returns what it did, by kind.
    """
    now = now or utcnow()
    done = {"renewed": 0, "ended": 0, "reminded": 0}
    renewal = aliased(Subscription)
    due = db.session.scalars(
        select(Subscription.id).where(
            Subscription.source == "balance",
            Subscription.status == "active",
            Subscription.expires_at <= now + RENEW_AHEAD,
            Subscription.expires_at > now - RENEW_AHEAD,
            ~select(renewal.id).where(renewal.renews_id == Subscription.id).exists(),
        )
    ).all()
    db.session.rollback()
    for period_id in due:
        try:
            if _renew_from_balance(period_id, now):
                done["renewed"] += 1
        except IntegrityError:
            db.session.rollback()  # another process renewed it first
        except InsufficientFunds:
            _renewal_failed(period_id, now)
    done["ended"] = _end_periods(now)
    done["reminded"] = _remind(now)
    return {kind: count for kind, count in done.items() if count}


@atomic
def _renew_from_balance(period_id: int, now: datetime) -> bool:
    row = db.session.get(Subscription, period_id)
    if row is None or row.status != "active" or row.source != "balance":
        return False
    if db.session.scalar(select(Subscription.id).where(Subscription.renews_id == row.id)) is not None:
        return False
    if _running(row.user_id, now)[0].id != row.id:
        return False  # a later period is paid already: this one needs no renewal
    user = db.session.get(User, row.user_id)
    if user.is_suspended:
        raise InsufficientFunds(needed=price(), available=0)
    ledger.pay_subscription(row.user_id, price())
    renewal = Subscription(
        user_id=row.user_id,
        plan=PLAN,
        status="active",
        source="balance",
        is_recurring=False,
        starts_at=row.expires_at,
        expires_at=row.expires_at + period(),
        renews_id=row.id,
    )
    db.session.add(renewal)
    db.session.flush()  # the unique renews_id: a second process's renewal of this period fails here
    notify(row.user_id, "subscription_renewed", path=PAGE, dedupe_key=f"subscription_renewed:{renewal.id}", until=_date(renewal.expires_at))
    achievements.evaluate(row.user_id, ("patron",))
    return True


@atomic
def _renewal_failed(period_id: int, now: datetime) -> None:
    """Not enough Stars: the period runs out (renewal off), and the person hears it when it ends."""
    row = db.session.get(Subscription, period_id)
    if row is not None and row.status == "active":
        row.status = "canceled"
        row.canceled_at = now


@atomic
def _end_periods(now: datetime) -> int:
    """Mark ended periods expired (a renewing Telegram one after TELEGRAM_GRACE); say "ended" once when Premium is over."""
    ended = db.session.scalars(
        select(Subscription)
        .where(Subscription.status.in_(RUNNING), Subscription.expires_at <= now)
        .order_by(Subscription.id)
        .with_for_update()
    ).all()
    count = 0
    for row in ended:
        if row.source == "telegram" and row.status == "active" and row.expires_at > now - TELEGRAM_GRACE:
            continue  # Telegram's renewal payment may still be on its way
        row.status = "expired"
        count += 1
        if premium.premium_until(row.user_id, now) is None and not _renewed(row):
            notify(row.user_id, "subscription_ended", path=PAGE, dedupe_key=f"subscription_ended:{row.id}")
    return count


def _renewed(row: Subscription) -> bool:
    later = db.session.scalar(
        select(func.count()).where(
            Subscription.user_id == row.user_id, Subscription.id != row.id, Subscription.expires_at > row.expires_at,
            Subscription.status.in_(RUNNING),
        )
    )
    return bool(later)


@atomic
def _remind(now: datetime) -> int:
    """The reminder 3 days before the end, once per period, for Premium that will not renew in Telegram."""
    rows = db.session.scalars(
        select(Subscription)
        .where(Subscription.status.in_(RUNNING), Subscription.expires_at > now, Subscription.expires_at <= now + REMIND_BEFORE)
        .order_by(Subscription.id)
    ).all()
    count = 0
    for row in rows:
        if row.source == "telegram" and row.status == "active":
            continue  # Telegram renews it and says so itself
        running = _running(row.user_id, now)
        if running[0].id != row.id:
            continue  # a later period follows: Premium does not end here
        renews = row.status == "active"  # a wallet renewal will be paid
        if notify(
            row.user_id,
            "subscription_expiring",
            path=PAGE,
            dedupe_key=f"subscription_expiring:{row.id}",
            until=_date(row.expires_at),
            price=price(),
            renews=renews,
        ):
            count += 1
    return count

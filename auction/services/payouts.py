"""Payouts: how a seller's Stars leave the platform.

The Bot API cannot send Stars to a person, so a seller asks for a payout of part of their
available Stars with their payment details; the Stars move at once to the platform's
"payouts pending" ledger account (so they cannot be spent twice); an admin pays the person
outside the platform and marks the request paid with a reference, or rejects it with a
reason and the Stars go back to the seller's available balance. Amounts are whole Stars.
"""

from __future__ import annotations

from collections.abc import Collection

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from auction.extensions import db
from auction.models import PayoutRequest, User, utcnow
from auction.services import audit, ledger, notifications, staff
from auction.services.errors import NotFound, ServiceError
from auction.services.transaction import atomic

MAX_DETAILS = 500
MAX_REFERENCE = 200


class PayoutTooSmall(ServiceError):
    message = _l("A payout must be at least %(minimum)s Stars.")


class PayoutDetailsMissing(ServiceError):
    message = _l("Say how you want to be paid (at most 500 characters).")


class PayoutAlreadyDecided(ServiceError):
    message = _l("This payout request was already decided.")
    status = 409


class PayoutNoteMissing(ServiceError):
    message = _l("Write the payment reference or the reason (at most 200 characters).")


class SuspendedAccount(ServiceError):
    message = _l("Your account is suspended.")
    status = 403




@atomic
def request_payout(user_id: int, amount: int, details: str, minimum: int) -> int:
    """Ask for `amount` Stars (at least `minimum`, the PAYOUT_MIN setting) to be paid out; returns the request id.

    Raises PayoutTooSmall, PayoutDetailsMissing, SuspendedAccount, or ledger.InsufficientFunds
    when the available balance is short. The Stars leave the available balance at once.
    """
    details = (details or "").strip()
    if amount < minimum:
        raise PayoutTooSmall(minimum=minimum)
    if not details or len(details) > MAX_DETAILS:
        raise PayoutDetailsMissing()
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound()
    if user.is_suspended:
        raise SuspendedAccount()
    request = PayoutRequest(user_id=user_id, amount=amount, details=details, status="pending")
    db.session.add(request)
    db.session.flush()
    ledger.set_aside_payout(user_id, amount)
    return request.id


def payouts_of(user_id: int, limit: int = 20) -> list[PayoutRequest]:
    """The person's payout requests, newest first."""
    query = select(PayoutRequest).where(PayoutRequest.user_id == user_id).order_by(PayoutRequest.id.desc()).limit(limit)
    return list(db.session.scalars(query))


def payout_requests(status: str | None = "pending", limit: int = 200) -> list[PayoutRequest]:
    """Requests for the admin page (pending oldest first; decided newest first)."""
    query = select(PayoutRequest).options(selectinload(PayoutRequest.user))
    if status:
        query = query.where(PayoutRequest.status == status)
    order = PayoutRequest.id if status == "pending" else PayoutRequest.id.desc()
    return list(db.session.scalars(query.order_by(order).limit(limit)))


def _snapshot(request: PayoutRequest) -> dict:
    return {"status": request.status, "amount": request.amount, "user_id": request.user_id,
            "reference": request.reference, "reason": request.reason}


def _decide(admin_id: int, payout_id: int, paid: bool, note: str, admin_ids: Collection[int]) -> PayoutRequest:
    staff.require_admin(admin_id, admin_ids)
    note = (note or "").strip()
    if not note or len(note) > MAX_REFERENCE:
        raise PayoutNoteMissing()
    request = db.session.scalars(select(PayoutRequest).where(PayoutRequest.id == payout_id).with_for_update()).first()
    if request is None:
        raise NotFound()
    if request.status != "pending":
        raise PayoutAlreadyDecided()
    before = _snapshot(request)
    request.status = "paid" if paid else "rejected"
    request.reference, request.reason = (note, None) if paid else (None, note)
    request.decided_by_id, request.decided_at = admin_id, utcnow()
    ledger.finish_payout(request.user_id, request.amount, paid=paid)
    audit.record(admin_id, "payout_paid" if paid else "payout_rejected", "payout", request.id, before, _snapshot(request))
    return request


@atomic
def approve_payout(admin_id: int, payout_id: int, reference: str, admin_ids: Collection[int] = ()) -> None:
    """Mark a pending payout paid off the platform, with the external payment's `reference`; tells the seller.

    Raises NotFound (not an admin, no such request), PayoutAlreadyDecided, PayoutNoteMissing.
    """
    request = _decide(admin_id, payout_id, True, reference, admin_ids)
    notifications.notify(
        request.user_id, "payout_paid", dedupe_key=f"payout_paid:{request.id}", path="/wallet", amount=request.amount, reference=request.reference
    )


@atomic
def reject_payout(admin_id: int, payout_id: int, reason: str, admin_ids: Collection[int] = ()) -> None:
    """Reject a pending payout with a `reason`: its Stars return to the seller's available balance; tells the seller.

    Raises NotFound (not an admin, no such request), PayoutAlreadyDecided, PayoutNoteMissing.
    """
    request = _decide(admin_id, payout_id, False, reason, admin_ids)
    notifications.notify(
        request.user_id, "payout_rejected", dedupe_key=f"payout_rejected:{request.id}", path="/wallet", amount=request.amount, reason=request.reason
    )

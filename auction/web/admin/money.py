"""Admin: payments (find, refund), payout requests (mark paid / reject) and the ledger check."""

from __future__ import annotations

import logging

from flask import abort, flash, render_template, request
from flask_babel import gettext as _
from flask_login import current_user

from auction.bot.runtime import bot_runtime
from auction.services import audit, moderation, payments, payouts
from auction.services.errors import ServiceError
from auction.services.ledger_check import check_invariants
from auction.web.admin.panel import admin_ids, back, bp, run
from auction.web.formatting import grouped
from auction.web.wallet import bot_is_available

PAYOUT_FILTERS = ("pending", "paid", "rejected", "all")
log = logging.getLogger(__name__)


@bp.get("/payouts")
def payout_list():
    """Payout requests: the pending ones oldest first, or the decided ones."""
    status = request.args.get("status", "pending")
    if status not in PAYOUT_FILTERS:
        status = "pending"
    rows = payouts.payout_requests(None if status == "all" else status)
    return render_template("admin/payouts.html", payouts=rows, status=status, filters=PAYOUT_FILTERS)


@bp.post("/payouts/<int:payout_id>/approve")
def payout_approve(payout_id: int):
    """Mark a payout paid off the platform, with the external reference."""
    run(payouts.approve_payout, current_user.id, payout_id, request.form.get("reference", ""), admin_ids(),
        success=_("Payout #%(id)s marked paid.", id=payout_id))
    return back("admin.payout_list")


@bp.post("/payouts/<int:payout_id>/reject")
def payout_reject(payout_id: int):
    """Reject a payout with a reason; its Stars go back to the seller."""
    run(payouts.reject_payout, current_user.id, payout_id, request.form.get("reason", ""), admin_ids(),
        success=_("Payout #%(id)s rejected; the Stars are back with the seller.", id=payout_id))
    return back("admin.payout_list")


@bp.get("/ledger")
def ledger_check():
    """The `ledger check` of the live database: every broken invariant, or none."""
    return render_template("admin/ledger.html", problems=check_invariants())


@bp.get("/payments")
def payments_list():
    """Telegram payments, newest first, labelled Premium or Stars purchase; find one by number, charge id or payer, filter by kind."""
    query = request.args.get("q", "")[:128]
    kind = request.args.get("kind", "all")
    if kind not in moderation.PAYMENT_KINDS:
        kind = "all"
    found = moderation.find_payments(query, kind=kind)
    return render_template("admin/payments.html", payments=found, q=query, kind=kind, kinds=moderation.PAYMENT_KINDS,
                           bot_running=bot_is_available(), pending=payments.refunds_pending_among([f.payment.id for f in found]))


@bp.get("/payments/<int:payment_id>/refund")
def payment_refund_confirm(payment_id: int):
    """The refund's confirm step: what the refund gives back and, for a Premium charge, that it ends the period."""
    found = moderation.find_payment(payment_id)
    if found is None:
        abort(404)
    return render_template("admin/payment_refund.html", found=found, q=request.args.get("q", ""), bot_running=bot_is_available())


@bp.post("/payments/<int:payment_id>/refund")
def payment_refund(payment_id: int):
    """Refund a whole purchase through Telegram's refundStarPayment (the same service as the bot's /refund)."""
    if not bot_is_available():
        flash(_("The bot is not running, so Telegram cannot be asked for a refund now."), "error")
        return back("admin.payments_list")
    try:
        result = payments.refund_payment(current_user.id, payment_id, send_refund)
    except ServiceError as exc:
        flash(exc.render(grouped), "error")
        audit.record_now(current_user.id, "refund_refused", "payment", payment_id, None, {"error": str(exc)})
        return back("admin.payments_list")
    if result.completed:
        flash(_("Payment #%(id)s refunded; the person was told.", id=payment_id), "success")
    else:
        flash(_("Telegram did not answer, so it is unknown whether payment #%(id)s was refunded. Its Stars stay set aside; "
                "press “Check with Telegram” to settle it (it is also checked every few minutes).", id=payment_id), "warning")
    audit.record_now(current_user.id, "refund" if result.completed else "refund_unknown", "payment", payment_id,
                     {"status": "paid"}, {"status": "refunded" if result.completed else "refund pending", "amount": result.amount})
    return back("admin.payments_list")


@bp.post("/payments/<int:payment_id>/reconcile")
def payment_reconcile(payment_id: int):
    """Ask Telegram (getStarTransactions) whether a refund whose answer was lost was made, and settle it."""
    if not bot_is_available():
        flash(_("The bot is not running, so Telegram cannot be asked now."), "error")
        return back("admin.payments_list")
    if not payments.refund_pending(payment_id):
        flash(_("Payment #%(id)s has no refund waiting for Telegram's answer.", id=payment_id), "error")
        return back("admin.payments_list")
    try:
        result = payments.reconcile_refunds(bot_runtime().star_transactions, [payment_id])
    except Exception:  # Telegram did not answer (network, timeout, an error): nothing was changed
        log.warning("reconciling payment %s: Telegram's transaction list could not be read", payment_id, exc_info=True)
        flash(_("Telegram's list of transactions could not be read, so nothing was changed. Try again later."), "error")
        return back("admin.payments_list")
    if result.refunded:
        flash(_("Telegram did refund payment #%(id)s; the refund is now complete and the person was told.", id=payment_id), "success")
        after = "refunded"
    elif result.not_refunded:
        flash(_("Telegram did not refund payment #%(id)s; its Stars are back with the person and it can be refunded again.",
                id=payment_id), "success")
        after = "paid"
    else:
        flash(_("Telegram's list of transactions is too long to read whole, so payment #%(id)s stays pending.", id=payment_id),
              "warning")
        after = "refund pending"
    audit.record_now(current_user.id, "refund_reconciled", "payment", payment_id, {"status": "refund pending"}, {"status": after})
    return back("admin.payments_list")


def send_refund(telegram_user_id: int, charge_id: str) -> None:
    """Ask Telegram to refund through the running bot (RefundDeclined when Telegram says no)."""
    bot_runtime().refund_star_payment(telegram_user_id, charge_id)

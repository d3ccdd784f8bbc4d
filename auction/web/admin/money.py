"""Admin: payout requests (mark paid / reject) and the ledger check."""

from __future__ import annotations

from flask import render_template, request
from flask_babel import gettext as _
from flask_login import current_user

from auction.services import ledger, payouts
from auction.web.admin import admin_ids, back, bp, run

PAYOUT_FILTERS = ("pending", "paid", "rejected", "all")


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
    return render_template("admin/ledger.html", problems=ledger.check_invariants())

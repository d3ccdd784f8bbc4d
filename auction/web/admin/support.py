"""Admin: support requests, the conversation, answering and closing."""

from __future__ import annotations

from flask import render_template, request
from flask_babel import gettext as _
from flask_login import current_user

from auction.services import support
from auction.web.admin.panel import admin_ids, back, bp, run

TICKET_FILTERS = ("open", "answered", "closed", "all")


@bp.get("/support")
def tickets():
    """Requests waiting for support (or in another state), the longest waiting first."""
    status = request.args.get("status", "open")
    status = status if status in TICKET_FILTERS else "open"
    return render_template("admin/tickets.html", tickets=support.tickets(None if status == "all" else status), status=status)


@bp.get("/support/<int:ticket_id>")
def ticket(ticket_id: int):
    """One request's conversation, with the answer form."""
    return render_template("admin/ticket.html", ticket=support.ticket(ticket_id))


@bp.post("/support/<int:ticket_id>/answer")
def ticket_answer(ticket_id: int):
    """Answer the person (stored here, sent by the bot)."""
    run(support.answer, current_user.id, ticket_id, request.form.get("body", ""), admin_ids(),
        success=_("The answer is sent."))
    return back("admin.ticket", ticket_id=ticket_id)


@bp.post("/support/<int:ticket_id>/close")
def ticket_close(ticket_id: int):
    """Close the request."""
    run(support.close_ticket, current_user.id, ticket_id, admin_ids(), success=_("The request is closed."))
    return back("admin.ticket", ticket_id=ticket_id)

"""Customer support on the web: open a request, read the conversation, write again, close it."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from auction import rate_limits
from auction.services import support
from auction.services.errors import ServiceError

bp = Blueprint("support", __name__)


def support_chat_id() -> int | None:
    """The SUPPORT_CHAT_ID setting as a chat id, or None when unset (requests then stay on the site)."""
    return support.chat_id_from(current_app.config.get("SUPPORT_CHAT_ID"))


@bp.get("/support")
@login_required
def index():
    """The person's requests and a form for a new one."""
    return render_template("support/index.html", tickets=support.tickets_of(current_user.id), form={})


@bp.post("/support")
@login_required
@rate_limits.limit("SUPPORT")
def create():
    """Open a request; it goes to the support team at once."""
    form = {"subject": request.form.get("subject", ""), "body": request.form.get("body", "")}
    try:
        ticket_id = support.open_ticket(current_user.id, form["subject"], form["body"], support_chat_id())
    except ServiceError as exc:
        # Nothing typed is lost: the form comes back filled in, with the reason.
        return render_template("support/index.html", tickets=support.tickets_of(current_user.id), form=form, error=str(exc)), 422
    flash(_("Your request is sent. We answer here and in the bot."), "success")
    return redirect(url_for("support.show", ticket_id=ticket_id))


@bp.get("/support/<int:ticket_id>")
@login_required
def show(ticket_id: int):
    """One request with its conversation."""
    return render_template("support/show.html", ticket=support.ticket_of(current_user.id, ticket_id), body="")


@bp.post("/support/<int:ticket_id>")
@login_required
@rate_limits.limit("SUPPORT")
def write(ticket_id: int):
    """Write again on a request."""
    body = request.form.get("body", "")
    try:
        support.post_message(current_user.id, ticket_id, body, support_chat_id())
    except ServiceError as exc:
        if exc.status == 404:
            raise
        ticket = support.ticket_of(current_user.id, ticket_id)
        return render_template("support/show.html", ticket=ticket, body=body, error=str(exc)), 422
    return redirect(url_for("support.show", ticket_id=ticket_id, _anchor="last"))


@bp.post("/support/<int:ticket_id>/close")
@login_required
def close(ticket_id: int):
    """Close a request that is settled."""
    support.close_ticket(current_user.id, ticket_id)
    flash(_("The request is closed."), "success")
    return redirect(url_for("support.show", ticket_id=ticket_id))

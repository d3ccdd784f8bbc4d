"""Customer support: tickets with a subject and messages, relayed to the support chat and answered from it.

Each message a person writes is queued (through the outbox, in the same transaction) to the
Telegram group SUPPORT_CHAT_ID, headed "Ticket #<id>". An admin who replies to that message in
the group answers the person: the answer is stored on the ticket, shown on the web and told
to the person (the "support_answer" notification kind: the bot, the centre, email, push). States: "open" (waiting for support), "answered" (waiting for the
person), "closed". Callers pass the SUPPORT_CHAT_ID setting as `support_chat_id` (None: no relay).
"""

from __future__ import annotations

import re
from collections.abc import Collection

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from auction import numbers
from auction.extensions import db
from auction.models import Payment, SupportMessage, SupportTicket, User, utcnow
from auction.services import audit, notifications, outbox, staff
from auction.services.errors import NotFound, ServiceError
from auction.services.transaction import atomic

MAX_SUBJECT = 200
MAX_BODY = 4000
TICKET_TAG = re.compile(r"Ticket #(\d{1,18})\b")


def chat_id_from(setting: str | int | None) -> int | None:
    """The SUPPORT_CHAT_ID setting as a chat id (groups are negative), or None when unset or not a number."""
    value = str(setting or "").strip()
    magnitude = numbers.read_whole(value.removeprefix("-"), max_digits=19)
    return None if magnitude is None else (-magnitude if value.startswith("-") else magnitude)


class SubjectMissing(ServiceError):
    message = _l("Write a subject (at most 200 characters).")


class MessageMissing(ServiceError):
    message = _l("Write your message (at most 4000 characters).")


class TicketClosed(ServiceError):
    message = _l("This request is closed. Open a new one to write again.")
    status = 409


def _body(text: str | None) -> str:
    text = (text or "").strip()
    if not text or len(text) > MAX_BODY:
        raise MessageMissing()
    return text


def _relay(ticket: SupportTicket, user: User, body: str, support_chat_id: int | None) -> None:
    """Queue the person's message to the support chat; replying to it there answers the person."""
    if not support_chat_id:
        return
    who = user.display_name + (f" (@{user.username})" if user.username else "")
    lines = [f"Ticket #{ticket.id} · {who} · user #{user.id}", f"Subject: {ticket.subject}"]
    if ticket.payment_id:
        payment = db.session.get(Payment, ticket.payment_id)
        lines.append(f"Payment #{payment.id}: {payment.amount} XTR, {payment.status}, charge {payment.telegram_payment_charge_id}")
    lines += ["", body, "", "Reply to this message to answer."]
    outbox.enqueue_to_chat(support_chat_id, "support_relay", "\n".join(lines)[:4096])


@atomic
def open_ticket(user_id: int, subject: str, body: str, support_chat_id: int | None, payment_id: int | None = None) -> int:
    """Open a ticket with its first message; returns its id. Raises SubjectMissing, MessageMissing, NotFound."""
    subject = (subject or "").strip()
    if not subject or len(subject) > MAX_SUBJECT:
        raise SubjectMissing()
    body = _body(body)
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound()
    if payment_id is not None:
        payment = db.session.get(Payment, payment_id)
        if payment is None or payment.user_id != user_id:
            raise NotFound()
    ticket = SupportTicket(user_id=user_id, kind="payment" if payment_id else "general", subject=subject, payment_id=payment_id,
                           status="open")
    ticket.messages.append(SupportMessage(author_id=user_id, from_staff=False, body=body))
    db.session.add(ticket)
    db.session.flush()
    _relay(ticket, user, body, support_chat_id)
    return ticket.id


@atomic
def relay_ticket(ticket_id: int, support_chat_id: int | None) -> None:
    """Relay a ticket another service opened (a payment request) with its first message."""
    ticket = db.session.get(SupportTicket, ticket_id)
    if ticket is None:
        raise NotFound()
    first = ticket.messages[0] if ticket.messages else None
    if first is not None:
        _relay(ticket, ticket.user, first.body, support_chat_id)


def _own_ticket(user_id: int, ticket_id: int) -> SupportTicket:
    ticket = db.session.get(SupportTicket, ticket_id)
    if ticket is None or ticket.user_id != user_id:
        raise NotFound()
    return ticket


@atomic
def post_message(user_id: int, ticket_id: int, body: str, support_chat_id: int | None) -> None:
    """The person writes again on their ticket: it waits for support again. Raises NotFound, MessageMissing, TicketClosed."""
    ticket = _own_ticket(user_id, ticket_id)
    if ticket.status == "closed":
        raise TicketClosed()
    body = _body(body)
    ticket.messages.append(SupportMessage(author_id=user_id, from_staff=False, body=body))
    ticket.status, ticket.updated_at = "open", utcnow()
    _relay(ticket, ticket.user, body, support_chat_id)


def _answer(admin: User, ticket: SupportTicket, body: str) -> None:
    if ticket.status == "closed":
        raise TicketClosed()
    body = _body(body)
    ticket.messages.append(SupportMessage(author_id=admin.id, from_staff=True, body=body))
    ticket.status, ticket.updated_at = "answered", utcnow()
    notifications.notify(ticket.user_id, "support_answer", path=f"/support/{ticket.id}", subject=ticket.subject, answer=body)
    audit.record(admin.id, "support_answer", "ticket", ticket.id, None, {"status": "answered"})


@atomic
def answer(admin_id: int, ticket_id: int, body: str, admin_ids: Collection[int] = ()) -> None:
    """An admin answers on the web; the person is told (the "support_answer" notification kind). Raises NotFound, MessageMissing, TicketClosed."""
    admin = staff.require_admin(admin_id, admin_ids)
    ticket = db.session.get(SupportTicket, ticket_id)
    if ticket is None:
        raise NotFound()
    _answer(admin, ticket, body)


@atomic
def answer_from_chat(admin_id: int, replied_text: str, body: str, admin_ids: Collection[int] = ()) -> int | None:
    """An admin replied in the support chat to a relayed message (`replied_text`); returns the ticket answered.

    None when the replied message names no ticket. Raises NotFound (not an admin, no such ticket),
    MessageMissing, TicketClosed.
    """
    match = TICKET_TAG.search(replied_text or "")
    if match is None:
        return None
    admin = staff.require_admin(admin_id, admin_ids)
    ticket = db.session.get(SupportTicket, int(match[1]))
    if ticket is None:
        raise NotFound()
    _answer(admin, ticket, body)
    return ticket.id


@atomic
def close_ticket(actor_id: int, ticket_id: int, admin_ids: Collection[int] = ()) -> None:
    """Close a ticket: its owner or an admin. Raises NotFound."""
    ticket = db.session.get(SupportTicket, ticket_id)
    actor = db.session.get(User, actor_id)
    if ticket is None or actor is None:
        raise NotFound()
    as_admin = ticket.user_id != actor_id
    if as_admin:
        staff.require_admin(actor_id, admin_ids)
    before = ticket.status
    ticket.status, ticket.updated_at = "closed", utcnow()
    if as_admin:
        audit.record(actor_id, "support_close", "ticket", ticket.id, {"status": before}, {"status": "closed"})


def tickets_of(user_id: int, limit: int = 50) -> list[SupportTicket]:
    """The person's tickets, the most recently active first."""
    query = select(SupportTicket).where(SupportTicket.user_id == user_id).order_by(SupportTicket.updated_at.desc(), SupportTicket.id.desc())
    return list(db.session.scalars(query.limit(limit)))


def ticket_of(user_id: int, ticket_id: int) -> SupportTicket:
    """The person's own ticket with its messages; NotFound for anyone else's."""
    return _own_ticket(user_id, ticket_id)


def tickets(status: str | None = "open", limit: int = 200) -> list[SupportTicket]:
    """Tickets for admins: of one status (all when None), the longest waiting first."""
    query = select(SupportTicket).options(selectinload(SupportTicket.user))
    if status:
        query = query.where(SupportTicket.status == status)
    return list(db.session.scalars(query.order_by(SupportTicket.updated_at, SupportTicket.id).limit(limit)))


def ticket(ticket_id: int) -> SupportTicket:
    found = db.session.get(SupportTicket, ticket_id)
    if found is None:
        raise NotFound()
    return found

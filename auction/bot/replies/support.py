"""Replies for support in the bot: opening a request, and an admin's answer from the support chat."""

from __future__ import annotations

from flask import current_app
from flask_babel import gettext as _

from auction.bot.calls import speaking_to
from auction.bot.replies import registered
from auction.services import support
from auction.services.errors import NotFound
from auction.services.users import TelegramProfile

SUBJECT_LENGTH = 80


def support_reply(profile: TelegramProfile, text: str) -> dict:
    """Open a request with `text` (its first line is the subject), or explain how to."""
    user = registered(profile)
    base_url = current_app.config["BASE_URL"]
    with speaking_to(user):
        if not text:
            return {"text": _("Write /support followed by your question, for example: /support My payout has not arrived. "
                              "You can also write to us on the site: %(url)s", url=f"{base_url}/support")}
        subject = text.splitlines()[0][:SUBJECT_LENGTH]
        ticket_id = support.open_ticket(user.id, subject, text, support.chat_id_from(current_app.config.get("SUPPORT_CHAT_ID")))
        return {"text": _("Your request #%(id)s is sent. We answer here in the bot and on the site: %(url)s",
                          id=ticket_id, url=f"{base_url}/support/{ticket_id}")}


def chat_reply(chat_id: int, profile: TelegramProfile, replied_text: str, text: str) -> dict | None:
    """An admin's reply in the support chat answers the ticket it names; None when it is not for us."""
    config = current_app.config
    if chat_id != support.chat_id_from(config.get("SUPPORT_CHAT_ID")):
        return None
    admin = registered(profile)
    try:
        ticket_id = support.answer_from_chat(admin.id, replied_text, text, config["ADMIN_TELEGRAM_IDS"])
    except NotFound:
        with speaking_to(admin):
            return {"text": _("Only admins can answer requests, and only existing ones.")}
    if ticket_id is None:
        return None
    with speaking_to(admin):
        return {"text": _("Sent to the person (request #%(id)s).", id=ticket_id)}

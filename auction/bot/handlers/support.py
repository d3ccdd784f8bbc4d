"""/support in the bot, and admins answering requests by replying in the support chat (SUPPORT_CHAT_ID)."""

from __future__ import annotations

from flask import current_app
from flask_babel import gettext as _
from telegram import Update
from telegram.ext import Application, CommandHandler, ContextTypes, MessageHandler, filters

from auction.bot.bridge import call_service, flask_app, profile_of, sender, speaking_to
from auction.bot.handlers.auction_card import registered
from auction.services import support
from auction.services.errors import NotFound
from auction.services.users import TelegramProfile

SUBJECT_LENGTH = 80


def register(application: Application) -> None:
    application.add_handler(CommandHandler("support", support_command, filters=filters.ChatType.PRIVATE))
    # A group of its own: a reply in the support chat never reaches the private-chat handlers.
    application.add_handler(MessageHandler(filters.REPLY & filters.TEXT & filters.ChatType.GROUPS, support_chat_reply), group=1)


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


async def support_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/support <question>: a new support request."""
    if update.effective_user is None or update.effective_chat is None or update.effective_message is None:
        return
    text = (update.effective_message.text or "").partition(" ")[2].strip()
    reply = await call_service(flask_app(context), support_reply, profile_of(update.effective_user), text)
    await sender(context).send(update.effective_chat.id, reply)


def chat_reply(chat_id: int, profile: TelegramProfile, replied_text: str, text: str) -> dict | None:
    """An admin's reply in the support chat answers the ticket it names; None when it is not for us."""
    config = current_app.config
    if chat_id != support.chat_id_from(config.get("SUPPORT_CHAT_ID")):
        return None
    admin = registered(profile)
    try:
        ticket_id = support.answer_from_chat(admin.id, replied_text, text, config["BASE_URL"], config["ADMIN_TELEGRAM_IDS"])
    except NotFound:
        with speaking_to(admin):
            return {"text": _("Only admins can answer requests, and only existing ones.")}
    if ticket_id is None:
        return None
    with speaking_to(admin):
        return {"text": _("Sent to the person (request #%(id)s).", id=ticket_id)}


async def support_chat_reply(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A reply to a relayed request in the support chat: send it to the person."""
    message = update.effective_message
    if message is None or message.reply_to_message is None or update.effective_user is None:
        return
    reply = await call_service(flask_app(context), chat_reply, message.chat_id, profile_of(update.effective_user),
                               message.reply_to_message.text or "", message.text or "")
    if reply is not None:
        await sender(context).send(message.chat_id, reply)

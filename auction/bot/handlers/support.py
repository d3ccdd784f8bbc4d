"""/support in the bot, and admins answering requests by replying in the support chat (SUPPORT_CHAT_ID).

Replies are built by auction.bot.replies.support.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CommandHandler, ContextTypes, MessageHandler, filters

from auction.bot.calls import call_service, flask_app, profile_of, sender
from auction.bot.replies.support import chat_reply, support_reply


def register(application: Application) -> None:
    application.add_handler(CommandHandler("support", support_command, filters=filters.ChatType.PRIVATE))
    # A group of its own: a reply in the support chat never reaches the private-chat handlers.
    application.add_handler(MessageHandler(filters.REPLY & filters.TEXT & filters.ChatType.GROUPS, support_chat_reply), group=1)


async def support_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/support <question>: a new support request."""
    if update.effective_user is None or update.effective_chat is None or update.effective_message is None:
        return
    text = (update.effective_message.text or "").partition(" ")[2].strip()
    reply = await call_service(flask_app(context), support_reply, profile_of(update.effective_user), text)
    await sender(context).send(update.effective_chat.id, reply)


async def support_chat_reply(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A reply to a relayed request in the support chat: send it to the person."""
    message = update.effective_message
    if message is None or message.reply_to_message is None or update.effective_user is None:
        return
    reply = await call_service(flask_app(context), chat_reply, message.chat_id, profile_of(update.effective_user),
                               message.reply_to_message.text or "", message.text or "")
    if reply is not None:
        await sender(context).send(message.chat_id, reply)

"""/help (every command; proxy, sealed and Dutch auctions explained), and a helpful answer to
unknown commands and to plain messages outside any question (a number, words to search for,
anything else). A suspended person is told so."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes, MessageHandler, filters

from auction.bot.calls import call_service, flask_app, profile_of, sender
from auction.bot.replies.help import fallback_reply, free_text_reply, help_reply

# After every command handler (group 0): a command nobody handled. A plain message reaches this
# group only when no question took it (the "Other amount" answer stops the update in group 0).
UNKNOWN_COMMAND_GROUP = 1


def register(application: Application) -> None:
    application.add_handler(CommandHandler("help", help_command))
    application.add_handler(CallbackQueryHandler(help_button, pattern=r"^help:"))
    application.add_handler(MessageHandler(filters.UpdateType.MESSAGE & filters.COMMAND, unknown_command), group=UNKNOWN_COMMAND_GROUP)
    application.add_handler(
        MessageHandler(filters.UpdateType.MESSAGE & filters.TEXT & ~filters.COMMAND & filters.ChatType.PRIVATE, free_text),
        group=UNKNOWN_COMMAND_GROUP,
    )


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/help: every command and the three kinds of auction."""
    if update.effective_user is None or update.effective_chat is None:
        return
    reply = await call_service(flask_app(context), help_reply, profile_of(update.effective_user))
    await sender(context).send(update.effective_chat.id, reply)


async def help_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The "Help" button under a fallback answer."""
    await update.callback_query.answer()
    await help_command(update, context)


def _known_commands(application: Application) -> set[str]:
    return {
        command
        for handlers in application.handlers.values()
        for handler in handlers
        if isinstance(handler, CommandHandler)
        for command in handler.commands
    }


async def unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A command no handler knows."""
    message, chat = update.effective_message, update.effective_chat
    if update.effective_user is None or chat is None or message is None or not message.text:
        return
    command = message.text.split()[0][1:].split("@")[0].lower()
    if command in _known_commands(context.application):
        return
    reply = await call_service(flask_app(context), fallback_reply, profile_of(update.effective_user))
    await sender(context).send(chat.id, reply)


async def free_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A plain message no question was waiting for: offer what the bot can do with it."""
    message, chat = update.effective_message, update.effective_chat
    if update.effective_user is None or chat is None or message is None or not message.text:
        return
    reply = await call_service(flask_app(context), free_text_reply, profile_of(update.effective_user), message.text)
    await sender(context).send(chat.id, reply)

"""/help (every command; proxy, sealed and Dutch auctions explained), and a helpful answer to
unknown commands. A suspended person is told so."""

from __future__ import annotations

from flask import current_app
from flask_babel import gettext as _
from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes, MessageHandler, filters

from auction.bot.bridge import call_service, flask_app, profile_of, sender, speaking_to
from auction.bot.handlers.auction_card import registered
from auction.services.users import TelegramProfile

# After every command handler (group 0): a command nobody handled.
UNKNOWN_COMMAND_GROUP = 1


def register(application: Application) -> None:
    application.add_handler(CommandHandler("help", help_command))
    application.add_handler(CallbackQueryHandler(help_button, pattern=r"^help:"))
    application.add_handler(MessageHandler(filters.UpdateType.MESSAGE & filters.COMMAND, unknown_command), group=UNKNOWN_COMMAND_GROUP)


def suspended_reply() -> dict:
    """What a suspended person hears (in the active language)."""
    return {"text": _("Your account is suspended, so you cannot bid or sell. Write to /paysupport if you think this is a mistake.")}


def help_text() -> str:
    """Every command, and how proxy, sealed and Dutch auctions work, in three lines each."""
    from auction.bot.handlers import MENU_COMMANDS

    commands = "\n".join(f"/{command} — {description}" for command, description in MENU_COMMANDS)
    return "\n\n".join(
        [
            _("<b>Commands</b>"),
            commands,
            _(
                "<b>Proxy bidding (English auctions)</b>\n"
                "Your bid is the most you are willing to pay.\n"
                "We bid for you, one step at a time, only as high as needed to keep you ahead.\n"
                "Only the Stars for your maximum are reserved; being outbid returns them at once."
            ),
            _(
                "<b>Sealed auctions</b>\n"
                "Everyone bids once, without seeing the others' bids; you may only raise yours.\n"
                "Bids are revealed when the auction ends and the highest wins.\n"
                "First-price: the winner pays their bid; second-price: the runner-up's bid."
            ),
            _(
                "<b>Dutch auctions</b>\n"
                "The price starts high and drops step by step on a timer.\n"
                "The first person to accept the current price buys the item at once.\n"
                "Wait for a lower price, but someone else may take it first."
            ),
        ]
    )


def help_reply(profile: TelegramProfile) -> dict:
    user = registered(profile)
    with speaking_to(user):
        return {
            "text": help_text(),
            "parse_mode": "HTML",
            "buttons": [[{"text": _("Open Bot-Auction"), "url": current_app.config["BASE_URL"]}]],
        }


def fallback_reply(profile: TelegramProfile) -> dict:
    """The answer to an unknown command: what the bot can do instead."""
    user = registered(profile)
    with speaking_to(user):
        if user.is_suspended:
            return suspended_reply()
        text = _("I don't know that command. Here is what I can do: /help")
        return {
            "text": text,
            "buttons": [[{"text": _("My bids"), "callback_data": "mybids:1"}, {"text": _("Help"), "callback_data": "help:"}]],
        }


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

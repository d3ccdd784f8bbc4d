"""/start: register the person, greet them in their language, open a deep-linked auction card."""

from __future__ import annotations

import re

from flask import current_app
from flask_babel import gettext as _
from telegram import Update
from telegram.ext import Application, CommandHandler, ContextTypes

from auction.bot.bridge import call_service, flask_app, profile_of, sender, speaking_to
from auction.bot.handlers.auction_card import card_for, registered
from auction.bot.handlers.language import language_buttons
from auction.services.users import TelegramProfile

AUCTION_LINK = re.compile(r"auction_(\d{1,18})")


def register(application: Application) -> None:
    application.add_handler(CommandHandler("start", start))


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Reply with the welcome, or with the auction card a `t.me/<bot>?start=auction_<id>` link asked for."""
    if update.effective_user is None or update.effective_chat is None:
        return
    argument = context.args[0] if context.args else ""
    reply = await call_service(flask_app(context), start_reply, profile_of(update.effective_user), argument)
    await sender(context).send(update.effective_chat.id, reply)


def start_reply(profile: TelegramProfile, argument: str) -> dict:
    """Register or refresh the user and build the reply payload in their language."""
    user = registered(profile)
    base_url = current_app.config["BASE_URL"]
    with speaking_to(user):
        match = AUCTION_LINK.fullmatch(argument)
        if match:
            card = card_for(user, int(match[1]))
            if card is not None:
                return card
            return {
                "text": _("This auction was not found. It may have been removed."),
                "buttons": [[{"text": _("Open Bot-Auction"), "url": base_url}]],
            }
        return {
            "text": _(
                "Welcome to Bot-Auction, %(name)s! Bid on live auctions, sell your things and pay with Telegram Stars.",
                name=user.first_name or user.display_name,
            ),
            "buttons": [[{"text": _("Open Bot-Auction"), "url": base_url}]] + (language_buttons() if user.locale is None else []),
        }

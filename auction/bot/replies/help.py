"""Replies of the bot's help command (built in a worker thread, in the person's language)."""

from __future__ import annotations

from flask import current_app
from flask_babel import gettext as _

from auction.bot.calls import speaking_to
from auction.bot.replies import registered
from auction.services.users import TelegramProfile


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

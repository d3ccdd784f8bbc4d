"""The reply to /start: the welcome, or the auction card a `t.me/<bot>?start=auction_<id>` link asked for."""

from __future__ import annotations

import re

from flask import current_app
from flask_babel import gettext as _

from auction import numbers
from auction.bot.calls import speaking_to
from auction.bot.replies import registered
from auction.bot.replies.cards import card_for, not_found
from auction.bot.replies.language import language_buttons
from auction.services.users import TelegramProfile

AUCTION_LINK = re.compile(r"auction_(.{1,64})")  # the id itself is read by auction.numbers


def start_reply(profile: TelegramProfile, argument: str) -> dict:
    """Register or refresh the person and build the reply in their language."""
    user = registered(profile)
    base_url = current_app.config["BASE_URL"]
    match = AUCTION_LINK.fullmatch(argument)
    if match:
        auction_id = numbers.read_id(match[1])
        card = card_for(user, auction_id) if auction_id is not None else None
        if card is not None:
            return card
        with speaking_to(user):
            return {"text": not_found(), "buttons": [[{"text": _("Open Bot-Auction"), "url": base_url}]]}
    with speaking_to(user):
        return {
            "text": _(
                "Welcome to Bot-Auction, %(name)s! Bid on live auctions, sell your things and pay with Telegram Stars.",
                name=user.first_name or user.display_name,
            ),
            # On first use (no language chosen yet) the welcome offers the choice.
            "buttons": [[{"text": _("Open Bot-Auction"), "url": base_url}]] + (language_buttons() if user.locale is None else []),
        }

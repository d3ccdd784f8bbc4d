"""Replies of the bot's help command (built in a worker thread, in the person's language)."""

from __future__ import annotations

from flask import current_app
from flask_babel import gettext as _

from auction import stars
from auction.bot.calls import speaking_to
from auction.bot.replies import registered
from auction.services import search
from auction.services.users import TelegramProfile

CALLBACK_BYTES = 64  # Bot API: callback_data is 1-64 bytes
SEARCH_PREFIX = "search:"
MAX_SEARCH_WORDS = 8  # more words than this reads as a sentence, not a search
# Words that greet or ask for the menu rather than name an item.
GREETINGS = {"hi", "hello", "hey", "start", "menu", "help", "привет", "здравствуйте", "меню", "помощь", "начать", "старт"}


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


def _main_buttons(base_url: str) -> list[list[dict]]:
    return [
        [{"text": _("My bids"), "callback_data": "mybids:1"}, {"text": _("Buy Stars"), "callback_data": "buy_stars:"}],
        [{"text": _("Help"), "callback_data": "help:"}, {"text": _("Open Bot-Auction"), "url": base_url}],
    ]


def search_button_data(text: str) -> str | None:
    """`search:<words>` for a message that reads like a search (whole words cut to fit 64 bytes), else None."""
    words = " ".join(text.split())
    if not search.parse_terms(words) or len(words.split()) > MAX_SEARCH_WORDS or words.lower().strip("!.?") in GREETINGS:
        return None
    while len((SEARCH_PREFIX + words).encode()) > CALLBACK_BYTES:
        shorter = words.rsplit(" ", 1)[0]
        words = shorter if shorter != words else words.encode()[: CALLBACK_BYTES - len(SEARCH_PREFIX)].decode(errors="ignore")
    return SEARCH_PREFIX + words


def free_text_reply(profile: TelegramProfile, text: str) -> dict:
    """The answer to a plain message outside any question: never silence.

    A number offers to buy that many Stars (the "Other amount" of /buy_stars, typed without the
    command); a few words offer to search for them (the /search command's service); anything else
    gets the main commands. A suspended person is told they are suspended.
    """
    user = registered(profile)
    with speaking_to(user):
        if user.is_suspended:
            return suspended_reply()
        base_url = current_app.config["BASE_URL"]
        commands = _("I answer commands and buttons: /search to find auctions, /mybids for your bids, /buy_stars to buy Stars, "
                     "/support to write to a person, /help for everything.")
        try:
            amount = stars.parse(text)
        except stars.InvalidStars:
            amount = None
        if amount:
            return {
                "text": _("Do you want to buy %(amount)s Stars? To bid an amount, press “Other amount” on an auction's card first.",
                          amount=stars.format(amount)),
                "buttons": [[{"text": _("Buy %(amount)s ⭐", amount=stars.format(amount)), "callback_data": f"buy_stars:{amount}"}]]
                + _main_buttons(base_url),
            }
        data = search_button_data(text)
        if data is not None:
            words = data.removeprefix(SEARCH_PREFIX)
            return {
                "text": _("Looking for “%(words)s”?", words=words) + "\n" + commands,
                "buttons": [[{"text": _("Search for «%(words)s»", words=words), "callback_data": data}]] + _main_buttons(base_url),
            }
        return {"text": commands, "buttons": _main_buttons(base_url)}

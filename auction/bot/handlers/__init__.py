"""The bot's handlers. Adding a feature: write a module with `register(application)` and list it here.

Handler modules are thin and async: they parse an update, run a reply builder from
auction.bot.replies in a worker thread (`call_service`), and send its payload. They never
import each other. A button press whose data no module claims is answered as stale.

MENU_COMMANDS is the command list Telegram shows in the menu (setMyCommands), in every
supported language; a command appears there by adding one line.
"""

from __future__ import annotations

import importlib
import logging

from flask import Flask
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from telegram import BotCommand
from telegram.ext import Application, CallbackQueryHandler

from auction.i18n import DEFAULT_LANGUAGE, LANGUAGES

log = logging.getLogger("auction.bot")

HANDLER_MODULES = (
    "auction.bot.handlers.rate_limit",
    "auction.bot.handlers.start",
    "auction.bot.handlers.account",
    "auction.bot.handlers.payments",
    "auction.bot.handlers.premium",
    "auction.bot.handlers.bidding",
    "auction.bot.handlers.watching",
    "auction.bot.handlers.search",
    "auction.bot.handlers.support",
    "auction.bot.handlers.people",
    "auction.bot.handlers.help",
    "auction.bot.handlers.mybids",
    "auction.bot.handlers.language",
    "auction.bot.handlers.settings",
)

MENU_COMMANDS = (
    ("start", _l("Open the auction house")),
    ("buy_stars", _l("Buy Telegram Stars for bidding")),
    ("status", _l("Your Stars, subscription and bids")),
    ("paysupport", _l("Help with payments and refunds")),
    ("subscribe", _l("Premium: subscribe, renewal on or off")),
    ("watchlist", _l("Auctions you watch")),
    ("search", _l("Find auctions by words")),
    ("support", _l("Write to support")),
    ("profile", _l("Your public profile and rating")),
    ("achievements", _l("Your badges and progress")),
    ("mybids", _l("Your bids: leading, outbid, won, lost")),
    ("settings", _l("Which notifications you get")),
    ("language", _l("Choose Russian or English")),
    ("help", _l("Every command and how the auctions work")),
)


def register_handlers(application: Application) -> None:
    for name in HANDLER_MODULES:
        importlib.import_module(name).register(application)
    from auction.bot.handlers.errors import report_error, stale_button

    application.add_handler(CallbackQueryHandler(stale_button))  # after every module's buttons
    application.add_error_handler(report_error)


def menu_commands(app: Flask, locale: str) -> list[BotCommand]:
    with app.app_context(), force_locale(locale):
        return [BotCommand(command, str(description)) for command, description in MENU_COMMANDS]


async def publish_commands(application: Application, app: Flask) -> None:
    """Tell Telegram the command menu: English by default, and each language's own."""
    bot = application.bot
    await bot.set_my_commands(menu_commands(app, DEFAULT_LANGUAGE))
    for locale in LANGUAGES:
        await bot.set_my_commands(menu_commands(app, locale), language_code=locale)

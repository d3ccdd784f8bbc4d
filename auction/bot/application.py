"""Build the python-telegram-bot Application from the app's config."""

from __future__ import annotations

from flask import Flask
from telegram.ext import Application, ApplicationBuilder

from auction.bot.handlers import register_handlers
from auction.bot.sender import Sender

# Updates are handled concurrently: each handler spends most of its time in a worker
# thread (the services), so one slow update must not hold up everyone else's.
CONCURRENT_UPDATES = 32
CONNECTION_POOL_SIZE = 16


def file_base_url(base_url: str) -> str:
    """Telegram's file URL next to a Bot API base URL: .../bot -> .../file/bot."""
    base_url = base_url.rstrip("/")
    if base_url.endswith("/bot"):
        return base_url[: -len("/bot")] + "/file/bot"
    return base_url + "/file/bot"


def build_application(app: Flask, polling: bool) -> Application:
    """The bot for `app`: talks to TELEGRAM_API_BASE_URL; has an updater only when polling."""
    base_url = app.config["TELEGRAM_API_BASE_URL"].rstrip("/")
    builder = (
        ApplicationBuilder()
        .token(app.config["TELEGRAM_BOT_TOKEN"])
        .base_url(base_url)
        .base_file_url(file_base_url(base_url))
        .concurrent_updates(CONCURRENT_UPDATES)
        .connection_pool_size(CONNECTION_POOL_SIZE)
        .job_queue(None)  # the process has one scheduler (auction.jobs), not a second one inside the bot
    )
    if not polling:
        builder = builder.updater(None)
    application = builder.build()
    application.bot_data["flask_app"] = app
    application.bot_data["sender"] = Sender(application.bot, app.static_folder)
    register_handlers(application)
    return application

"""What an async handler needs to reach the synchronous reply builders and services without blocking the loop."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from flask import Flask
from flask_babel import force_locale
from telegram import User as TelegramUser
from telegram.ext import ContextTypes

from auction.bot.sender import Sender
from auction.i18n import choose_language
from auction.models import User
from auction.services.users import TelegramProfile

P = ParamSpec("P")
R = TypeVar("R")


async def call_service(app: Flask, fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    """Run synchronous service code in a worker thread inside an app context."""

    def run() -> R:
        with app.app_context():
            return fn(*args, **kwargs)

    return await asyncio.to_thread(run)


def flask_app(context: ContextTypes.DEFAULT_TYPE) -> Flask:
    return context.application.bot_data["flask_app"]


def sender(context: ContextTypes.DEFAULT_TYPE) -> Sender:
    return context.application.bot_data["sender"]


def profile_of(user: TelegramUser) -> TelegramProfile:
    """The services' view of a Telegram user (including the app language Telegram reports)."""
    return TelegramProfile(
        telegram_id=user.id,
        first_name=(user.first_name or "")[:128],
        last_name=user.last_name or None,
        username=user.username or None,
        language_code=user.language_code or None,
    )


def reply_locale(user: User | None = None, language_code: str | None = None) -> str:
    """The language to answer in (auction.i18n): the user's own choice, else Telegram's app language, else English."""
    if user is None:
        return choose_language(telegram=language_code)
    return choose_language(user.locale, user.language_code or language_code)


def speaking_to(user: User | None = None, language_code: str | None = None):
    """`with speaking_to(user):` renders gettext strings in that user's language (needs an app context)."""
    return force_locale(reply_locale(user, language_code))


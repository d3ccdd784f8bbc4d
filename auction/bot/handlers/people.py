"""The people side in the bot: /profile, /achievements and the one-tap rating buttons
(`rate:<auction>:<score>`) sent after a sale settles. Each runs the same services as the site."""

from __future__ import annotations

import logging
import re

from flask import current_app
from flask_babel import gettext as _
from flask_babel import ngettext
from telegram import Update
from telegram.error import TelegramError
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes

from auction.bot.bridge import call_service, flask_app, profile_of, sender, speaking_to
from auction.bot.handlers.auction_card import registered
from auction.services import achievements, profiles, ratings
from auction.services.errors import ServiceError
from auction.services.users import TelegramProfile

log = logging.getLogger("auction.bot")

RATE_DATA = re.compile(r"rate:(\d{1,18}):([1-5])")


def register(application: Application) -> None:
    application.add_handler(CommandHandler("profile", profile_command))
    application.add_handler(CommandHandler("achievements", achievements_command))
    application.add_handler(CallbackQueryHandler(rate_button, pattern=r"^rate:"))


# --- reply builders (run in a worker thread inside an app context) --------------------


def _site(path: str) -> str:
    return current_app.config["BASE_URL"].rstrip("/") + path


def profile_reply(profile: TelegramProfile) -> dict:
    """The person's own public profile in short, with a button to the page."""
    user = registered(profile)
    found = profiles.profile(user.id)
    with speaking_to(user):
        lines = [found.name]
        for label, summary in ((_("As a seller:"), found.as_seller), (_("As a buyer:"), found.as_buyer)):
            if summary.count:
                lines.append(f"{label} ★ {summary.average} · " + ngettext("%(num)d rating", "%(num)d ratings", summary.count))
            else:
                lines.append(f"{label} " + _("No ratings yet"))
        lines.append(_("Badges: %(earned)s of %(total)s", earned=found.badges_awarded, total=len(found.badges)))
        earned = " ".join(badge.icon for badge in found.badges if badge.awarded)
        if earned:
            lines.append(earned)
        lines.append(_("Live auctions: %(live)s · past sales: %(sales)s", live=len(found.live_auctions), sales=len(found.past_sales)))
        return {"text": "\n".join(lines), "buttons": [[{"text": _("Open your profile"), "url": _site(f"/users/{user.id}")}]]}


def achievements_reply(profile: TelegramProfile) -> dict:
    """Every badge with the person's progress ("7 of 10")."""
    user = registered(profile)
    with speaking_to(user):
        lines = [_("Your badges:")]
        for badge in achievements.badges(user.id):
            mark = "✅" if badge.awarded else f"{badge.value}/{badge.threshold}"
            lines.append(f"{badge.icon} {badge.name} — {mark}")
        return {"text": "\n".join(lines), "buttons": [[{"text": _("Open your profile"), "url": _site(f"/users/{user.id}")}]]}


def rate_from_bot(profile: TelegramProfile, auction_id: int, score: int) -> str:
    """Rate the other side of a sale from a button; returns the toast."""
    user = registered(profile)
    with speaking_to(user):
        try:
            ratings.rate(auction_id, user.id, score)
        except ServiceError as exc:
            return str(exc)
        return _("Thank you: you rated %(stars)s. You can add a review on the site.", stars="★" * score)


# --- handlers -------------------------------------------------------------------------


async def profile_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/profile: the person's public profile summary with a button to the page."""
    if update.effective_user is None or update.effective_chat is None:
        return
    reply = await call_service(flask_app(context), profile_reply, profile_of(update.effective_user))
    await sender(context).send(update.effective_chat.id, reply)


async def achievements_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/achievements: the badges and the progress towards each."""
    if update.effective_user is None or update.effective_chat is None:
        return
    reply = await call_service(flask_app(context), achievements_reply, profile_of(update.effective_user))
    await sender(context).send(update.effective_chat.id, reply)


async def rate_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A press on a star button under a rating request; always answered with a toast."""
    query = update.callback_query
    toast = None
    try:
        match = RATE_DATA.fullmatch(query.data or "")
        if match and update.effective_user is not None:
            toast = await call_service(flask_app(context), rate_from_bot, profile_of(update.effective_user), int(match[1]), int(match[2]))
    finally:
        try:
            await query.answer(toast, show_alert=True)
        except TelegramError as error:
            log.info("bot: could not answer callback query %s: %s", query.id, error)

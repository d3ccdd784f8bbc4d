"""/settings in the bot: each kind of notification as a button that turns its Telegram messages
on or off (the same preferences as the site's /settings page, which also has the web channel
and quiet hours)."""

from __future__ import annotations

import re

from flask import current_app
from flask_babel import gettext as _
from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes

from auction.bot.bridge import call_service, flask_app, profile_of, sender, speaking_to
from auction.bot.handlers.auction_card import registered
from auction.services import notifications
from auction.services.users import TelegramProfile

PREF_DATA = re.compile(r"pref:([a-z_]{1,32}):([01])")


def register(application: Application) -> None:
    application.add_handler(CommandHandler("settings", settings_command))
    application.add_handler(CallbackQueryHandler(settings_button, pattern=r"^pref:"))


def settings_reply(profile: TelegramProfile) -> dict:
    """The preferences as buttons, in the person's language."""
    user = registered(profile)
    with speaking_to(user):
        quiet = notifications.quiet_hours(user.id)
        lines = [_("Which messages should I send you here? Tap one to turn it on or off.")]
        if quiet.active:
            lines.append(
                _("Quiet hours: %(start)s–%(end)s (%(zone)s); messages wait until they end.",
                  start=quiet.start.strftime("%H:%M"), end=quiet.end.strftime("%H:%M"), zone=user.timezone or "UTC")
            )
        lines.append(_("Quiet hours, reminders and the site's notifications: %(url)s", url=current_app.config["BASE_URL"].rstrip("/") + "/settings"))
        buttons = []
        for row in notifications.preferences(user.id):
            on = row.channels["telegram"]
            mark = "✅" if on else "✖️"
            buttons.append([{"text": f"{mark} {row.label}", "callback_data": f"pref:{row.kind}:{0 if on else 1}"}])
        return {"text": "\n\n".join(lines), "buttons": buttons}


def toggle(profile: TelegramProfile, kind: str, on: bool) -> tuple[str, dict]:
    """Store one choice; returns the confirmation toast and the redrawn settings."""
    user = registered(profile)
    notifications.set_preference(user.id, kind, "telegram", on)
    with speaking_to(user):
        label = str(notifications.KINDS[kind].label)
        toast = _("On: %(kind)s", kind=label) if on else _("Off: %(kind)s", kind=label)
    return toast, settings_reply(profile)


async def settings_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/settings: the buttons."""
    if update.effective_user is None or update.effective_chat is None:
        return
    reply = await call_service(flask_app(context), settings_reply, profile_of(update.effective_user))
    await sender(context).send(update.effective_chat.id, reply)


async def settings_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A press: flip that kind's Telegram messages and redraw the buttons in place."""
    query = update.callback_query
    match = PREF_DATA.fullmatch(query.data or "")
    if match is None or match[1] not in notifications.KINDS or update.effective_user is None:
        await query.answer()
        return
    toast, reply = await call_service(flask_app(context), toggle, profile_of(update.effective_user), match[1], match[2] == "1")
    await query.answer(toast[:200])
    if query.message is not None:
        await sender(context).edit(query.message, reply)

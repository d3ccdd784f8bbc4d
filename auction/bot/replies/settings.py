"""Replies of the bot's settings command (built in a worker thread, in the person's language)."""

from __future__ import annotations

from flask import current_app
from flask_babel import gettext as _

from auction.bot.calls import speaking_to
from auction.bot.replies import registered
from auction.services import notifications
from auction.services.users import TelegramProfile


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

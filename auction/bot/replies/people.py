"""Replies for the people side in the bot: /profile, /achievements and the one-tap rating buttons."""

from __future__ import annotations

from flask import current_app
from flask_babel import gettext as _
from flask_babel import ngettext

from auction.bot.calls import speaking_to
from auction.bot.replies import registered
from auction.services import achievements, profiles, ratings
from auction.services.errors import ServiceError
from auction.services.users import TelegramProfile


def _site(path: str) -> str:
    return current_app.config["BASE_URL"].rstrip("/") + path


def profile_reply(profile: TelegramProfile) -> dict:
    """The person's own public profile in short, with a button to the page."""
    user = registered(profile)
    found = profiles.profile(user.id)
    with speaking_to(user):
        lines = [found.name + (" ✦ " + _("Premium") if found.premium else "")]
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

"""Replies about the person's account in the bot: /status."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from babel.dates import format_date
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _

from auction import stars
from auction.bot.calls import speaking_to
from auction.bot.replies import registered
from auction.bot.replies.payments import wallet_button
from auction.services import account
from auction.services.users import TelegramProfile


def status_reply(profile: TelegramProfile) -> dict:
    """/status: Stars available and reserved, subscription, leading, outbid and sealed bids."""
    user = registered(profile)
    state = account.account_status(user.id)
    with speaking_to(user):
        locale = str(get_locale())
        if state.subscription_until:
            zone = ZoneInfo(user.timezone or "UTC")
            subscription = _("active until %(date)s", date=format_date(state.subscription_until.astimezone(zone), "long", locale=locale))
        else:
            subscription = _("none")
        lines = [
            _("Your account"),
            _("Available: %(amount)s ⭐", amount=stars.format(state.available)),
            _("Reserved for bids: %(amount)s ⭐", amount=stars.format(state.held)),
            _("Subscription: %(state)s", state=subscription),
            ngettext("Leading in %(num)s auction", "Leading in %(num)s auctions", state.leading),
            ngettext("Outbid in %(num)s auction", "Outbid in %(num)s auctions", state.outbid),
        ]
        if state.sealed:
            lines.append(ngettext("Sealed bids in %(num)s auction", "Sealed bids in %(num)s auctions", state.sealed))
        return {"text": "\n".join(lines), "buttons": wallet_button()}

"""Replies about the person's account in the bot: /status."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import ngettext

from auction import stars
from auction.bot.calls import speaking_to
from auction.bot.replies import registered
from auction.bot.replies.payments import wallet_button
from auction.bot.replies.premium import premium_line
from auction.services import account
from auction.services.users import TelegramProfile


def status_reply(profile: TelegramProfile) -> dict:
    """/status: Stars available and reserved, Premium (as the dashboard shows it), leading, outbid and sealed bids."""
    user = registered(profile)
    state = account.account_status(user.id)
    with speaking_to(user):
        lines = [
            _("Your account"),
            _("Available: %(amount)s ⭐", amount=stars.format(state.available)),
            _("Reserved for bids: %(amount)s ⭐", amount=stars.format(state.held)),
            premium_line(user, state.premium),
            ngettext("Leading in %(num)s auction", "Leading in %(num)s auctions", state.leading),
            ngettext("Outbid in %(num)s auction", "Outbid in %(num)s auctions", state.outbid),
        ]
        if state.sealed:
            lines.append(ngettext("Sealed bids in %(num)s auction", "Sealed bids in %(num)s auctions", state.sealed))
        return {"text": "\n".join(lines), "buttons": wallet_button()}

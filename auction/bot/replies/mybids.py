"""Replies of the bot's mybids command (built in a worker thread, in the person's language)."""

from __future__ import annotations

import html
from datetime import timedelta

from flask_babel import format_decimal, format_timedelta
from flask_babel import gettext as _

from auction.bot.calls import speaking_to
from auction.bot.replies import registered
from auction.bot.replies.help import suspended_reply
from auction.models import utcnow
from auction.services.my_bids import MyBid, my_bids
from auction.services.users import TelegramProfile


def _heading(group: str) -> str:
    return {
        "leading": _("You lead"),
        "outbid": _("Outbid"),
        "sealed": _("Sealed bids, waiting for the end"),
        "won": _("Won"),
        "lost": _("Not won"),
    }[group]


def _line(row: MyBid) -> str:
    price = _("%(amount)s ⭐", amount=format_decimal(row.price))
    title = html.escape(row.title, quote=False)
    if row.group in ("won", "lost"):
        return f"• {title} — {price}"
    left = format_timedelta(max(row.ends_at - utcnow(), timedelta(0)), add_direction=True)
    return f"• {title} — {price} · {_('ends %(when)s', when=left)}"


def mybids_reply(profile: TelegramProfile, page: int = 1) -> dict:
    """The reply to /mybids (or a page button) in the person's language."""
    user = registered(profile)
    with speaking_to(user):
        if user.is_suspended:
            return suspended_reply()
        found = my_bids(user.id, page)
        if not found.items:
            return {"text": _("You have not bid on anything yet. Open an auction and place a bid; it shows up here.")}
        lines, buttons, group = [_("Your bids (page %(page)s of %(pages)s):", page=found.page, pages=found.pages)], [], None
        for row in found.items:
            if row.group != group:
                group = row.group
                lines.append(f"\n<b>{_heading(group)}</b>")
            lines.append(_line(row))
            label = row.title[:32]
            line_buttons = []
            if row.min_next is not None:
                line_buttons.append({"text": _("Bid %(amount)s ⭐", amount=format_decimal(row.min_next)), "callback_data": f"bid:{row.auction_id}:{row.min_next}"})
            line_buttons.append({"text": _("Open “%(title)s”", title=label), "callback_data": f"card:{row.auction_id}"})
            buttons.append(line_buttons)
        pager = []
        if found.page > 1:
            pager.append({"text": _("« Previous"), "callback_data": f"mybids:{found.page - 1}"})
        if found.page < found.pages:
            pager.append({"text": _("Next »"), "callback_data": f"mybids:{found.page + 1}"})
        if pager:
            buttons.append(pager)
        return {"text": "\n".join(lines), "parse_mode": "HTML", "buttons": buttons}

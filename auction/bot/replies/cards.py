"""The auction card as a bot message: photo, price, time left and the buttons one press acts on."""

from __future__ import annotations

import html
from dataclasses import dataclass

from flask import current_app
from flask_babel import format_timedelta
from flask_babel import gettext as _

from auction import stars
from auction.bot.calls import speaking_to
from auction.models import User, utcnow
from auction.services.auction_view import AuctionCard, auction_card


@dataclass(frozen=True)
class Outcome:
    """What the bot does after a press or a typed amount: a toast, a new message, the card redrawn."""

    toast: str = ""
    alert: bool = False
    reply: dict | None = None
    card: dict | None = None
    keep_asking: bool = False


def not_found() -> str:
    return _("This auction was not found. It may have been removed.")


def time_line(card: AuctionCard) -> str:
    now = utcnow()
    if card.status == "live" and card.ends_at > now:
        return _("Ends %(when)s", when=format_timedelta(card.ends_at - now, add_direction=True))
    if card.status == "scheduled":
        return _("Starts %(when)s", when=format_timedelta(card.starts_at - now, add_direction=True))
    if card.status == "canceled":
        return _("This auction was canceled.")
    return _("This auction has ended.")


def card_payload(card: AuctionCard) -> dict:
    """The card as a bot message in the active language (HTML caption under its photo)."""
    if card.kind == "dutch":
        price = _("Price now: %(amount)s ⭐", amount=stars.format(card.price))
    else:
        price = _("Current price: %(amount)s ⭐", amount=stars.format(card.price))
    lines = [f"<b>{html.escape(card.title, quote=False)}</b>", price]
    if card.biddable:
        lines.append(_("Minimum bid: %(amount)s ⭐", amount=stars.format(card.min_bid)))
    lines.append(time_line(card))
    if card.viewer_leading and card.viewer_max is not None:
        lines.append(_("You are the highest bidder; your maximum is %(amount)s ⭐.", amount=stars.format(card.viewer_max)))
    elif card.viewer_sealed is not None:
        lines.append(_("Your sealed bid: %(amount)s ⭐.", amount=stars.format(card.viewer_sealed)))
    if card.viewer_is_seller and card.running:
        lines.append(_("This is your auction."))
    elif card.kind == "dutch" and card.is_open:
        lines.append(_("A Dutch auction is bought on the site at the price of the moment."))

    rows: list[list[dict]] = []
    if card.biddable:
        rows.append(bid_row(card))
    second = []
    if card.biddable:
        second.append({"text": _("Other amount"), "callback_data": f"bidask:{card.auction_id}"})
    if card.watchable:
        if card.watching:
            second.append({"text": _("Unwatch"), "callback_data": f"unwatch:{card.auction_id}"})
        else:
            second.append({"text": _("Watch"), "callback_data": f"watch:{card.auction_id}"})
    if second:
        rows.append(second)
    base_url = current_app.config["BASE_URL"].rstrip("/")
    rows.append([{"text": _("Open on the site"), "url": f"{base_url}/auctions/{card.auction_id}"}])
    return {
        "text": "\n".join([lines[0], *(html.escape(line, quote=False) for line in lines[1:])]),
        "parse_mode": "HTML",
        "buttons": rows,
        "photo": card.photo,
    }


def bid_row(card: AuctionCard) -> list[dict]:
    """The quick bid buttons: `bid:<auction>:<amount>`."""
    return [
        {"text": _("Bid %(amount)s ⭐", amount=stars.format(amount)), "callback_data": f"bid:{card.auction_id}:{amount}"}
        for amount in card.quick_bids
    ]


def card_for(user: User, auction_id: int) -> dict | None:
    """The card `user` sees for an auction, in their language; None when it does not exist."""
    card = auction_card(auction_id, user.id)
    if card is None:
        return None
    with speaking_to(user):
        return card_payload(card)

"""Replies to watching from the bot: Watch / Unwatch on a card, /watchlist and its card buttons."""

from __future__ import annotations

from flask_babel import gettext as _

from auction import stars
from auction.bot.calls import speaking_to
from auction.bot.replies import registered
from auction.bot.replies.cards import Outcome, card_for, card_payload, not_found, time_line
from auction.services import watchlist
from auction.services.auction_view import auction_card
from auction.services.errors import ServiceError
from auction.services.users import TelegramProfile

WATCHLIST_LIMIT = 10


def watch_reply(profile: TelegramProfile, auction_id: int | None, on: bool) -> Outcome:
    """Add the auction to the person's watchlist or take it off; the card shows the other button."""
    user = registered(profile)
    if auction_id is None:
        with speaking_to(user):
            return Outcome(toast=not_found(), alert=True)
    try:
        watchlist.set_watching(user.id, auction_id, on)
    except ServiceError as refused:
        card = auction_card(auction_id, user.id)
        with speaking_to(user):
            if card is None:
                return Outcome(toast=not_found(), alert=True)
            return Outcome(toast=str(refused), alert=True, card=card_payload(card))
    card = auction_card(auction_id, user.id)
    with speaking_to(user):
        if card is None:
            return Outcome(toast=not_found(), alert=True)
        toast = _("Added to your watchlist.") if on else _("Removed from your watchlist.")
        return Outcome(toast=toast, card=card_payload(card))


def card_reply(profile: TelegramProfile, auction_id: int | None) -> Outcome:
    """A fresh card as a new message (from the watchlist)."""
    user = registered(profile)
    card = card_for(user, auction_id) if auction_id is not None else None
    if card is None:
        with speaking_to(user):
            return Outcome(toast=not_found(), alert=True)
    return Outcome(reply=card)


def watchlist_reply(profile: TelegramProfile) -> dict:
    """/watchlist: the open auctions the person watches, soonest end first, each opening its card."""
    user = registered(profile)
    cards = [auction_card(auction.id, user.id) for auction in watchlist.watched_auctions(user.id)[:WATCHLIST_LIMIT]]
    with speaking_to(user):
        if not cards:
            return {"text": _("You watch no auctions yet. Press “Watch” on an auction card to follow it here.")}
        lines = [_("Auctions you watch:")]
        rows = []
        for card in cards:
            lines.append(f"• {card.title} — {stars.with_sign(card.price)} · {time_line(card)}")
            rows.append([{"text": f"{card.title[:48]} · {stars.with_sign(card.price)}", "callback_data": f"card:{card.auction_id}"}])
        return {"text": "\n".join(lines), "buttons": rows}


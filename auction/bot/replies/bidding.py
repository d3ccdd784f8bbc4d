"""Replies to bidding from the bot: a quick bid button, "Other amount" and the amount typed after it."""

from __future__ import annotations

import html

from flask_babel import format_timedelta
from flask_babel import gettext as _

from auction import stars
from auction.bot.calls import speaking_to
from auction.bot.replies import known_user, registered
from auction.bot.replies.cards import Outcome, bid_row, card_payload, not_found
from auction.models import User, utcnow
from auction.services.auction_view import AuctionCard, auction_card
from auction.services.bidding import BidResult, place_bid
from auction.services.errors import (
    AuctionClosed,
    AuctionNotStarted,
    BidTooLow,
    InsufficientFunds,
    NotFound,
    OwnAuction,
    ServiceError,
)
from auction.services.users import TelegramProfile


def _why_not_biddable(card: AuctionCard) -> str:
    if card.viewer_is_seller:
        return str(OwnAuction())
    if card.status == "scheduled":
        return str(AuctionNotStarted())
    if card.kind == "dutch" and card.is_open:
        return _("A Dutch auction is bought on the site at the price of the moment.")
    return str(AuctionClosed())


def _bid_buttons(card: AuctionCard | None) -> list[list[dict]]:
    """The card's bid row alone, to put under a refusal the person can act on at once."""
    if card is None or not card.biddable:
        return []
    return [bid_row(card)]


def _accepted_text(card: AuctionCard, result: BidResult, offered: int) -> tuple[str, str]:
    """(message, toast) for an accepted bid."""
    if result.sealed:
        message = _("Your sealed bid of %(amount)s ⭐ is in. Amounts stay hidden until the end.", amount=stars.format(offered))
        toast = _("Sealed bid placed.")
    elif result.leading and offered > result.price:
        message = _(
            "You are the highest bidder at %(price)s ⭐, with your maximum of %(maximum)s ⭐. "
            "We bid for you only as much as needed.",
            price=stars.format(result.price),
            maximum=stars.format(offered),
        )
        toast = _("You are the highest bidder.")
    elif result.leading:
        message = _("You are the highest bidder at %(price)s ⭐.", price=stars.format(result.price))
        toast = _("You are the highest bidder.")
    else:
        message = _(
            "Another bidder's maximum is higher: the price is now %(price)s ⭐. Bid at least %(minimum)s ⭐ to lead.",
            price=stars.format(result.price),
            minimum=stars.format(result.min_next),
        )
        toast = _("Outbid: the price is now %(price)s ⭐.", price=stars.format(result.price))
    if result.extended:
        message += "\n" + _(
            "A bid near the end extends the auction: it now ends %(when)s.",
            when=format_timedelta(result.ends_at - utcnow(), add_direction=True),
        )
    return f"<b>{html.escape(card.title, quote=False)}</b>\n{html.escape(message, quote=False)}", toast


def bid_reply(profile: TelegramProfile, auction_id: int | None, amount: int | None, typed: bool) -> Outcome:
    """Place a bid for the person (a button's amount, or one they typed) and say what happened.

    `amount` None is button data of another shape: the button is stale. `auction_id` None is an
    id no auction can have (e.g. beyond the database's range): "not found".
    """
    user = registered(profile)
    if amount is None:
        with speaking_to(user):
            return Outcome(toast=_("This button is no longer valid. Open the auction again."), alert=True)
    if auction_id is None:
        with speaking_to(user):
            return Outcome(toast=not_found(), alert=True, reply={"text": not_found()})
    try:
        result = place_bid(auction_id, user.id, amount, source="bot")
    except ServiceError as refused:
        return _refusal(user, auction_id, refused, typed)
    card = auction_card(auction_id, user.id)
    with speaking_to(user):
        text, toast = _accepted_text(card, result, amount)
        return Outcome(toast=toast, reply={"text": text, "parse_mode": "HTML"}, card=card_payload(card))


def _refusal(user: User, auction_id: int, refused: ServiceError, typed: bool) -> Outcome:
    card = auction_card(auction_id, user.id)
    with speaking_to(user):
        fresh = card_payload(card) if card is not None else None
        if card is None or isinstance(refused, NotFound):
            return Outcome(toast=not_found(), alert=True, reply={"text": not_found()})
        if isinstance(refused, InsufficientFunds):
            text = str(refused) + "\n" + _("Send /buy_stars or press the button to buy Stars.")
            buttons = [[{"text": _("Buy Stars"), "callback_data": "buy_stars:"}]]
            return Outcome(toast=_("Not enough Stars."), reply={"text": text, "buttons": buttons}, card=fresh)
        if isinstance(refused, BidTooLow) and card.biddable:
            if card.viewer_leading or card.viewer_sealed is not None:
                text = str(refused)  # the service says why: a leader or a sealed bid can only go up
            else:
                text = _("Too low: the minimum is now %(minimum)s ⭐.", minimum=stars.format(card.min_bid))
            if typed:
                text += "\n" + _("Send another amount, or /cancel.")
                return Outcome(toast=text, reply={"text": text, "buttons": _bid_buttons(card)}, card=fresh, keep_asking=True)
            return Outcome(toast=text, alert=True, card=fresh)
        text = str(refused)
        return Outcome(toast=text, alert=True, reply={"text": text}, card=fresh)


def ask_amount(profile: TelegramProfile, auction_id: int | None) -> Outcome:
    """The "Other amount" question, or why this auction takes no bid from the person."""
    user = registered(profile)
    card = auction_card(auction_id, user.id) if auction_id is not None else None
    with speaking_to(user):
        if card is None:
            return Outcome(toast=not_found(), alert=True)
        if not card.biddable:
            return Outcome(toast=_why_not_biddable(card), alert=True, card=card_payload(card))
        text = _(
            "How many Stars at most will you bid on “%(title)s”? Send a whole number, at least %(minimum)s ⭐, or /cancel.",
            title=card.title,
            minimum=stars.format(card.min_bid),
        )
        return Outcome(reply={"text": text}, keep_asking=True)


def typed_amount_reply(profile: TelegramProfile, auction_id: int, text: str) -> Outcome:
    """The answer to "Other amount": a bid when `text` is a number of Stars (auction.stars), else ask again."""
    try:
        amount = stars.parse(text)
    except stars.InvalidStars:
        return _not_a_number(profile, auction_id)
    return bid_reply(profile, auction_id, amount, True)


def _not_a_number(profile: TelegramProfile, auction_id: int) -> Outcome:
    user = registered(profile)
    card = auction_card(auction_id, user.id)
    with speaking_to(user):
        minimum = stars.format(card.min_bid) if card is not None else "1"
        text = _("That is not a number of Stars. Send a whole number, at least %(minimum)s ⭐, or /cancel.", minimum=minimum)
        return Outcome(reply={"text": text}, keep_asking=True)


def cancel_reply(language_code: str | None, telegram_id: int, pending: bool) -> str:
    """/cancel's answer in the person's language; needs no write."""
    with speaking_to(known_user(telegram_id), language_code):
        return _("Cancelled. No bid was placed.") if pending else _("There is nothing to cancel.")

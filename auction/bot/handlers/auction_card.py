"""The auction card in the bot: quick bid buttons, "Other amount", watch/unwatch and a link to the site.

Button data is compact and never trusted: `bid:<auction>:<amount>`, `bidask:<auction>`,
`watch:<auction>`, `unwatch:<auction>`, `card:<auction>` (from /watchlist). Every press runs the same services as the site
(place_bid with source="bot", the watchlist), which re-check everything; a card whose
price has moved is redrawn in place with fresh buttons.

"Other amount" asks for a number: the next plain text message from that person in that
chat is taken as their maximum (kept in PTB's user_data, so it lasts until the process
restarts); /cancel or any other command ends the question.
"""

from __future__ import annotations

import html
import logging
import re
from dataclasses import dataclass

from flask import current_app
from flask_babel import format_decimal, format_timedelta
from flask_babel import gettext as _
from sqlalchemy import select
from telegram import Message, Update
from telegram.error import TelegramError
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes, MessageHandler, filters

from auction.bot.bridge import call_service, flask_app, profile_of, sender, speaking_to
from auction.extensions import db
from auction.models import User, utcnow
from auction.services import outbox, watchlist
from auction.services.auction_card import AuctionCard, auction_card
from auction.services.bidding import AuctionClosed, AuctionNotStarted, BidResult, BidTooLow, OwnAuction, place_bid
from auction.services.errors import NotFound, ServiceError
from auction.services.ledger import InsufficientFunds
from auction.services.users import TelegramProfile, upsert_telegram_user

log = logging.getLogger("auction.bot")

BID_DATA = re.compile(r"bid:([0-9]{1,9}):([0-9]{1,9})")  # ASCII digits within SQL INTEGER
CARD_DATA = re.compile(r"(bidask|watch|unwatch|card):([0-9]{1,9})")
STARS_TEXT = re.compile(r"[0-9]{1,12}")
PENDING = "pending_bid"  # user_data key: {"chat_id", "auction_id", "card"} while "Other amount" waits for a number
TOAST_LIMIT = 200  # answerCallbackQuery's text limit
WATCHLIST_LIMIT = 10


def register(application: Application) -> None:
    # Group -1 runs before every other handler: any command but /cancel drops a pending question.
    application.add_handler(MessageHandler(filters.COMMAND & ~filters.Regex(r"^/cancel(@\w+)?(\s|$)"), forget_question), group=-1)
    application.add_handler(CallbackQueryHandler(card_button, pattern=r"^(bid|bidask|watch|unwatch|card):"))
    application.add_handler(CommandHandler("cancel", cancel))
    application.add_handler(CommandHandler("watchlist", watchlist_command))
    # New messages only: editing an old message must not place a bid.
    application.add_handler(MessageHandler(filters.UpdateType.MESSAGE & filters.TEXT & ~filters.COMMAND, amount_message))


# --- service side (runs in a worker thread inside an app context) ---------------------


@dataclass(frozen=True)
class Outcome:
    """What the bot does after a press or an amount: a toast, a new message, the card redrawn."""

    toast: str = ""
    alert: bool = False
    reply: dict | None = None
    card: dict | None = None
    keep_asking: bool = False


def registered(profile: TelegramProfile) -> User:
    """The person behind an update, registered on first contact (a card button can be their first)."""
    user = upsert_telegram_user(profile, admin_ids=current_app.config["ADMIN_TELEGRAM_IDS"])
    if user.bot_blocked:  # they are writing to the bot, so it is not blocked any more
        outbox.mark_reachable(user.id)
    return user


def stars(amount: int) -> str:
    return format_decimal(amount)


def parse_stars(text: str) -> int | None:
    """A whole number of Stars as people type it: `120`, `1 000`, `250 ⭐`; None for anything else."""
    value = re.sub(r"[\s\u00a0\u202f⭐]", "", text or "")
    return int(value) if STARS_TEXT.fullmatch(value) else None


def _time_line(card: AuctionCard) -> str:
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
        price = _("Price now: %(amount)s ⭐", amount=stars(card.price))
    else:
        price = _("Current price: %(amount)s ⭐", amount=stars(card.price))
    lines = [f"<b>{html.escape(card.title, quote=False)}</b>", price]
    if card.biddable:
        lines.append(_("Minimum bid: %(amount)s ⭐", amount=stars(card.min_bid)))
    lines.append(_time_line(card))
    if card.viewer_leading and card.viewer_max is not None:
        lines.append(_("You are the highest bidder; your maximum is %(amount)s ⭐.", amount=stars(card.viewer_max)))
    elif card.viewer_sealed is not None:
        lines.append(_("Your sealed bid: %(amount)s ⭐.", amount=stars(card.viewer_sealed)))
    if card.viewer_is_seller and card.status in watchlist.OPEN_STATUSES:
        lines.append(_("This is your auction."))
    elif card.kind == "dutch" and card.is_open:
        lines.append(_("A Dutch auction is bought on the site at the price of the moment."))

    rows: list[list[dict]] = []
    if card.biddable:
        rows.append(
            [{"text": _("Bid %(amount)s ⭐", amount=stars(amount)), "callback_data": f"bid:{card.auction_id}:{amount}"} for amount in card.quick_bids]
        )
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


def card_for(user: User, auction_id: int) -> dict | None:
    """The card `user` sees for an auction, in their language; None when it does not exist."""
    card = auction_card(auction_id, user.id)
    if card is None:
        return None
    with speaking_to(user):
        return card_payload(card)


def _not_found() -> str:
    return _("This auction was not found. It may have been removed.")


def _why_not_biddable(card: AuctionCard) -> str:
    if card.viewer_is_seller:
        return str(OwnAuction())
    if card.status == "scheduled":
        return str(AuctionNotStarted())
    if card.kind == "dutch" and card.is_open:
        return _("A Dutch auction is bought on the site at the price of the moment.")
    return str(AuctionClosed())


def _bid_buttons(card: AuctionCard | None) -> list[list[dict]]:
    """The card's bid rows alone, to put under a refusal the person can act on at once."""
    if card is None or not card.biddable:
        return []
    return [row for row in card_payload(card)["buttons"] if any("callback_data" in b and b["callback_data"].startswith("bid:") for b in row)]


def _accepted_text(card: AuctionCard, result: BidResult, offered: int) -> tuple[str, str]:
    """(message, toast) for an accepted bid."""
    if card.kind in ("sealed_first", "sealed_second"):
        message = _("Your sealed bid of %(amount)s ⭐ is in. Amounts stay hidden until the end.", amount=stars(offered))
        toast = _("Sealed bid placed.")
    elif result.leading and offered > result.price:
        message = _(
            "You are the highest bidder at %(price)s ⭐, with your maximum of %(maximum)s ⭐. "
            "We bid for you only as much as needed.",
            price=stars(result.price),
            maximum=stars(offered),
        )
        toast = _("You are the highest bidder.")
    elif result.leading:
        message = _("You are the highest bidder at %(price)s ⭐.", price=stars(result.price))
        toast = _("You are the highest bidder.")
    else:
        message = _(
            "Another bidder's maximum is higher: the price is now %(price)s ⭐. Bid at least %(minimum)s ⭐ to lead.",
            price=stars(result.price),
            minimum=stars(result.min_next),
        )
        toast = _("Outbid: the price is now %(price)s ⭐.", price=stars(result.price))
    if result.extended:
        message += "\n" + _(
            "A bid near the end extends the auction: it now ends %(when)s.",
            when=format_timedelta(result.ends_at - utcnow(), add_direction=True),
        )
    return f"<b>{html.escape(card.title, quote=False)}</b>\n{html.escape(message, quote=False)}", toast


def bid_from_bot(profile: TelegramProfile, auction_id: int, amount: int, typed: bool) -> Outcome:
    """Place a bid for the person (a button's amount, or one they typed) and say what happened."""
    user = registered(profile)
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
            return Outcome(toast=_not_found(), alert=True, reply={"text": _not_found()})
        if isinstance(refused, InsufficientFunds):
            text = str(refused) + "\n" + _("Send /buy_stars or press the button to buy Stars.")
            buttons = [[{"text": _("Buy Stars"), "callback_data": "buy_stars:"}]]
            return Outcome(toast=_("Not enough Stars."), reply={"text": text, "buttons": buttons}, card=fresh)
        if isinstance(refused, BidTooLow) and card.biddable:
            if card.viewer_leading or card.viewer_sealed is not None:
                text = str(refused)  # the service says why: a leader or a sealed bid can only go up
            else:
                text = _("Too low: the minimum is now %(minimum)s ⭐.", minimum=stars(card.min_bid))
            if typed:
                text += "\n" + _("Send another amount, or /cancel.")
                return Outcome(toast=text, reply={"text": text, "buttons": _bid_buttons(card)}, card=fresh, keep_asking=True)
            return Outcome(toast=text, alert=True, card=fresh)
        text = str(refused)
        return Outcome(toast=text, alert=True, reply={"text": text}, card=fresh)


def ask_amount(profile: TelegramProfile, auction_id: int) -> Outcome:
    """The "Other amount" question, or why this auction takes no bid from the person."""
    user = registered(profile)
    card = auction_card(auction_id, user.id)
    with speaking_to(user):
        if card is None:
            return Outcome(toast=_not_found(), alert=True)
        if not card.biddable:
            return Outcome(toast=_why_not_biddable(card), alert=True, card=card_payload(card))
        text = _(
            "How many Stars at most will you bid on “%(title)s”? Send a whole number, at least %(minimum)s ⭐, or /cancel.",
            title=card.title,
            minimum=stars(card.min_bid),
        )
        return Outcome(reply={"text": text}, keep_asking=True)


def not_a_number(profile: TelegramProfile, auction_id: int) -> Outcome:
    user = registered(profile)
    card = auction_card(auction_id, user.id)
    with speaking_to(user):
        minimum = stars(card.min_bid) if card is not None else "1"
        text = _("That is not a number of Stars. Send a whole number, at least %(minimum)s ⭐, or /cancel.", minimum=minimum)
        return Outcome(reply={"text": text}, keep_asking=True)


def toggle_watch(profile: TelegramProfile, auction_id: int, on: bool) -> Outcome:
    """Add the auction to the person's watchlist or take it off; the card shows the other button."""
    user = registered(profile)
    try:
        watchlist.set_watching(user.id, auction_id, on)
    except ServiceError as refused:
        card = auction_card(auction_id, user.id)
        with speaking_to(user):
            if card is None:
                return Outcome(toast=_not_found(), alert=True)
            return Outcome(toast=str(refused), alert=True, card=card_payload(card))
    card = auction_card(auction_id, user.id)
    with speaking_to(user):
        if card is None:
            return Outcome(toast=_not_found(), alert=True)
        toast = _("Added to your watchlist.") if on else _("Removed from your watchlist.")
        return Outcome(toast=toast, card=card_payload(card))


def show_card(profile: TelegramProfile, auction_id: int) -> Outcome:
    """A fresh card as a new message (from the watchlist)."""
    user = registered(profile)
    card = card_for(user, auction_id)
    if card is None:
        with speaking_to(user):
            return Outcome(toast=_not_found(), alert=True)
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
            lines.append(f"• {card.title} — {stars(card.price)} ⭐ · {_time_line(card)}")
            rows.append([{"text": f"{card.title[:48]} · {stars(card.price)} ⭐", "callback_data": f"card:{card.auction_id}"}])
        return {"text": "\n".join(lines), "buttons": rows}


def short_answer(language_code: str | None, telegram_id: int, what: str) -> str:
    """Short answers that need no service call, in the person's language."""
    user = db.session.scalar(select(User).where(User.telegram_id == telegram_id))
    with speaking_to(user, language_code):
        texts = {
            "stale": _("This button is no longer valid. Open the auction again."),
            "cancelled": _("Cancelled. No bid was placed."),
            "nothing": _("There is nothing to cancel."),
        }
        return texts[what]


# --- Telegram side ----------------------------------------------------------------------


async def _deliver(update: Update, context: ContextTypes.DEFAULT_TYPE, outcome: Outcome, card_message: object) -> None:
    if outcome.card is not None and isinstance(card_message, Message):
        try:
            await sender(context).edit(card_message, outcome.card)
        except TelegramError as error:  # deleted or too old to edit: the reply still tells them
            log.info("bot: could not redraw auction card %s: %s", card_message.message_id, error)
    if outcome.reply is not None:
        await sender(context).send(update.effective_chat.id, outcome.reply)


async def _press(update: Update, context: ContextTypes.DEFAULT_TYPE, data: str) -> Outcome:
    app, profile = flask_app(context), profile_of(update.effective_user)
    bid = BID_DATA.fullmatch(data)
    if bid:
        return await call_service(app, bid_from_bot, profile, int(bid[1]), int(bid[2]), False)
    action = CARD_DATA.fullmatch(data)
    if action is None:
        user = update.effective_user
        return Outcome(toast=await call_service(app, short_answer, user.language_code, user.id, "stale"), alert=True)
    verb, auction_id = action[1], int(action[2])
    if verb == "card":
        return await call_service(app, show_card, profile, auction_id)
    if verb == "bidask":
        outcome = await call_service(app, ask_amount, profile, auction_id)
        if outcome.keep_asking:
            context.user_data[PENDING] = {"chat_id": update.effective_chat.id, "auction_id": auction_id, "card": update.callback_query.message}
        return outcome
    return await call_service(app, toggle_watch, profile, auction_id, verb == "watch")


async def card_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A press on a card button; the query is always answered, also when handling it fails."""
    query = update.callback_query
    outcome: Outcome | None = None
    try:
        if update.effective_chat is not None and update.effective_user is not None:
            outcome = await _press(update, context, query.data or "")
    finally:
        try:
            if outcome is not None:
                await query.answer(outcome.toast[:TOAST_LIMIT] or None, show_alert=outcome.alert)
            else:
                await query.answer()
        except TelegramError as error:
            # Too late to answer (the press waited while the bot was down): the bid is placed
            # all the same, and the reply below still tells the person.
            log.info("bot: could not answer callback query %s: %s", query.id, error)
    if outcome is not None:
        await _deliver(update, context, outcome, query.message)


async def amount_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The number asked for by "Other amount" (any other plain text is left alone)."""
    pending = context.user_data.get(PENDING) if context.user_data is not None else None
    chat = update.effective_chat
    if not pending or chat is None or pending["chat_id"] != chat.id or update.effective_user is None:
        return
    app, profile = flask_app(context), profile_of(update.effective_user)
    amount = parse_stars(update.effective_message.text)
    if amount is None:
        outcome = await call_service(app, not_a_number, profile, pending["auction_id"])
    else:
        outcome = await call_service(app, bid_from_bot, profile, pending["auction_id"], amount, True)
    if not outcome.keep_asking:
        context.user_data.pop(PENDING, None)
    await _deliver(update, context, outcome, pending.get("card"))


async def cancel(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/cancel: forget the "Other amount" question."""
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None:
        return
    pending = context.user_data.pop(PENDING, None)
    text = await call_service(flask_app(context), short_answer, user.language_code, user.id, "cancelled" if pending else "nothing")
    await sender(context).send(chat.id, {"text": text})


async def watchlist_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/watchlist: the auctions the person follows, each a button to its card."""
    if update.effective_user is None or update.effective_chat is None:
        return
    reply = await call_service(flask_app(context), watchlist_reply, profile_of(update.effective_user))
    await sender(context).send(update.effective_chat.id, reply)


async def forget_question(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if context.user_data is not None:
        context.user_data.pop(PENDING, None)

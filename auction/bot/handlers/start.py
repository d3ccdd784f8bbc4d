"""/start: register the person, greet them in their language, open a deep-linked auction card."""

from __future__ import annotations

import html
import re

from flask import current_app
from flask_babel import format_decimal, format_timedelta
from flask_babel import gettext as _
from telegram import Update
from telegram.ext import Application, CommandHandler, ContextTypes

from auction.bot.bridge import call_service, flask_app, profile_of, sender, speaking_to
from auction.models import Auction, utcnow
from auction.services import catalog, outbox
from auction.services.users import TelegramProfile, upsert_telegram_user

AUCTION_LINK = re.compile(r"auction_(\d{1,18})")


def register(application: Application) -> None:
    application.add_handler(CommandHandler("start", start))


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Reply with the welcome, or with the auction card a `t.me/<bot>?start=auction_<id>` link asked for."""
    if update.effective_user is None or update.effective_chat is None:
        return
    argument = context.args[0] if context.args else ""
    reply = await call_service(flask_app(context), start_reply, profile_of(update.effective_user), argument)
    await sender(context).send(update.effective_chat.id, reply)


def start_reply(profile: TelegramProfile, argument: str) -> dict:
    """Register or refresh the user and build the reply payload in their language."""
    user = upsert_telegram_user(profile, admin_ids=current_app.config["ADMIN_TELEGRAM_IDS"])
    if user.bot_blocked:  # they are writing to the bot, so it is not blocked any more
        outbox.mark_reachable(user.id)
    base_url = current_app.config["BASE_URL"]
    with speaking_to(user):
        match = AUCTION_LINK.fullmatch(argument)
        if match:
            auction = catalog.get_auction(int(match[1]))
            if auction is not None:
                return auction_card(auction, base_url)
            return {
                "text": _("This auction was not found. It may have been removed."),
                "buttons": [[{"text": _("Open Bot-Auction"), "url": base_url}]],
            }
        return {
            "text": _(
                "Welcome to Bot-Auction, %(name)s! Bid on live auctions, sell your things and pay with Telegram Stars.",
                name=user.first_name or user.display_name,
            ),
            "buttons": [[{"text": _("Open Bot-Auction"), "url": base_url}]],
        }


def auction_card(auction: Auction, base_url: str) -> dict:
    """An auction as a bot message: title, current price, time left, its photo and a link (HTML)."""
    now = utcnow()
    if auction.status == "live" and auction.ends_at > now:
        when = _("Ends %(when)s", when=format_timedelta(auction.ends_at - now, add_direction=True))
    elif auction.status == "scheduled":
        when = _("Starts %(when)s", when=format_timedelta(auction.starts_at - now, add_direction=True))
    elif auction.status == "canceled":
        when = _("This auction was canceled.")
    else:
        when = _("This auction has ended.")
    price = _("Current price: %(amount)s ⭐", amount=format_decimal(auction.current_price))
    cover = auction.cover
    return {
        "text": f"<b>{html.escape(auction.title)}</b>\n{html.escape(price)}\n{html.escape(when)}",
        "parse_mode": "HTML",
        "buttons": [[{"text": _("Open the auction"), "url": f"{base_url}/auctions/{auction.id}"}]],
        "photo": cover.large_path if cover else None,
    }

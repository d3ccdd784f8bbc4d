"""/search words: up to five matching open auctions, each a button to its card, and the rest on the site."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import current_app
from flask_babel import format_decimal, format_timedelta
from flask_babel import gettext as _
from sqlalchemy import select
from telegram import Update
from telegram.ext import Application, CommandHandler, ContextTypes

from auction.bot.bridge import call_service, flask_app, sender, speaking_to
from auction.extensions import db
from auction.models import User, utcnow
from auction.services import search

CARDS = 5


def register(application: Application) -> None:
    application.add_handler(CommandHandler("search", search_command))


def search_reply(words: str, telegram_id: int, language_code: str | None) -> dict:
    """The answer to `/search words` in the person's language (runs in a worker thread)."""
    user = db.session.scalar(select(User).where(User.telegram_id == telegram_id))
    words = words.strip()[: search.MAX_QUERY_CHARS]
    with speaking_to(user, language_code):
        if not search.parse_terms(words):
            return {"text": _("Write what you are looking for after the command, for example: /search dragon")}
        results = search.search_auctions(words, search.SearchFilters(), "relevance", 1, per_page=CARDS)
        base_url = current_app.config["BASE_URL"].rstrip("/")
        more = {"text": _("More on the site"), "url": f"{base_url}/search?{urlencode({'q': words})}"}
        if not results.auctions:
            return {"text": _("No open auctions match “%(words)s”.", words=words), "buttons": [[more]]}
        now = utcnow()
        lines = [_("Open auctions matching “%(words)s”:", words=words)]
        rows = []
        for auction in results.auctions:
            price = format_decimal(auction.current_price)
            if auction.ends_at > now:
                left = _("ends %(when)s", when=format_timedelta(auction.ends_at - now, add_direction=True))
            else:
                left = _("ending now")
            lines.append(f"• {auction.title} — {price} ⭐ · {left}")
            rows.append([{"text": f"{auction.title[:48]} · {price} ⭐", "callback_data": f"card:{auction.id}"}])
        rows.append([more])
        return {"text": "\n".join(lines), "buttons": rows}


async def search_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/search words: the best matches among open auctions."""
    if update.effective_user is None or update.effective_chat is None:
        return
    words = " ".join(context.args or [])
    reply = await call_service(
        flask_app(context), search_reply, words, update.effective_user.id, update.effective_user.language_code
    )
    await sender(context).send(update.effective_chat.id, reply)

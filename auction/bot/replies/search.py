"""The reply to `/search words`: up to five matching open auctions, each a button to its card."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import current_app
from flask_babel import format_timedelta
from flask_babel import gettext as _

from auction import stars
from auction.bot.calls import speaking_to
from auction.bot.replies import known_user
from auction.models import utcnow
from auction.services import search

CARDS = 5


def search_reply(words: str, telegram_id: int, language_code: str | None) -> dict:
    """The answer to `/search words` in the person's language (runs in a worker thread)."""
    words = words.strip()[: search.MAX_QUERY_CHARS]
    with speaking_to(known_user(telegram_id), language_code):
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
            price = stars.format(auction.current_price)
            if auction.ends_at > now:
                left = _("ends %(when)s", when=format_timedelta(auction.ends_at - now, add_direction=True))
            else:
                left = _("ending now")
            lines.append(f"• {auction.title} — {price} ⭐ · {left}")
            rows.append([{"text": f"{auction.title[:48]} · {price} ⭐", "callback_data": f"card:{auction.id}"}])
        rows.append([more])
        return {"text": "\n".join(lines), "buttons": rows}

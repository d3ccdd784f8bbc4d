"""The Telegram webhook: updates from Telegram when BOT_MODE=webhook."""

from __future__ import annotations

import hmac
import logging

from flask import Blueprint, abort, current_app, request

from auction.bot.runtime import bot_runtime
from auction.extensions import csrf
from auction.web.limits import body_limit

bp = Blueprint("telegram", __name__)
csrf.exempt(bp)  # Telegram cannot send a CSRF token; the secret header authenticates it instead
log = logging.getLogger("auction.bot")

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


@bp.post("/telegram/webhook")
@body_limit(1 << 20)  # an update is small; Telegram sends nothing near 1 MB
def webhook():
    """Take an update only when it carries our secret; the bot handles it on its own loop."""
    if current_app.config["BOT_MODE"] != "webhook":
        abort(404)
    expected = current_app.config["TELEGRAM_WEBHOOK_SECRET"].encode()
    given = request.headers.get(SECRET_HEADER, "").encode()
    if not expected or not hmac.compare_digest(given, expected):
        log.warning("bot: webhook call without the right secret from %s", request.remote_addr)
        abort(403)
    update = request.get_json(silent=True)
    if not isinstance(update, dict) or not isinstance(update.get("update_id"), int):
        abort(400)
    try:
        accepted = bot_runtime().submit_update(update)
    except (KeyError, TypeError, ValueError):
        abort(400)
    if not accepted:
        # Telegram retries later; by then the bot will be up.
        return {"ok": False, "description": "the bot is not running"}, 503
    return {"ok": True}

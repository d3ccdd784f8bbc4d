"""Rate limits: Flask-Limiter for the web, the same budgets and storage for the bot.

Limits are Flask-Limiter strings in config (`RATE_LIMIT_SIGN_IN`, `RATE_LIMIT_BIDS`, ...).
Counters live in memory for one process, or in Redis when `RATELIMIT_STORAGE_URI`,
`REDIS_URL` or a redis:// `BROKER_URL` names one, so several processes share one budget.
A web request over its budget gets the translated 429 page (a fragment for htmx) with
`Retry-After`; a bot update over its budget gets a polite reply and goes no further.

Keys: per person where signed in (`user:<id>`), per client address otherwise, and per
Telegram user in the bot (`telegram:<id>`). The client address is the peer uvicorn saw,
or the one a proxy named in `FORWARDED_ALLOW_IPS` forwarded (see auction/runtime.py).
"""

from __future__ import annotations

import time

from flask import current_app, request
from flask_login import current_user
from limits import parse_many

from auction.extensions import limiter


def client_address() -> str:
    """The client's address as the server trusts it (never a header from an untrusted peer)."""
    return request.remote_addr or "unknown"


def person_or_address() -> str:
    """`user:<id>` for a signed-in person, else the client address."""
    if current_user.is_authenticated:
        return f"user:{current_user.id}"
    return client_address()


def _configured(kind: str):
    return lambda: current_app.config[f"RATE_LIMIT_{kind}"]


def limit(kind: str, methods: list[str] | None = None, per: str = "person"):
    """Decorator: the view shares the `kind` budget (SIGN_IN, BIDS, LISTINGS, INVOICES, SUPPORT).

    `per` is "person" (signed-in user, else address) or "address".
    """
    return limiter.shared_limit(
        _configured(kind),
        scope=kind.lower(),
        key_func=person_or_address if per == "person" else client_address,
        methods=methods,
    )


def bot_allowance(app, telegram_id: int, kinds: tuple[str, ...] = ("BOT",)) -> float:
    """Count one bot action of a Telegram user against each kind's budget.

    Returns 0 when allowed, else the seconds until the first exhausted budget frees up.
    Uses the web's storage (memory or Redis), so processes share one budget.
    Raises nothing when rate limiting is off (`RATELIMIT_ENABLED=0`): returns 0.
    """
    if not app.config.get("RATELIMIT_ENABLED", True):
        return 0.0
    strategy = limiter.limiter  # the strategy over the storage the web's limits use
    wait = 0.0
    for kind in kinds:
        for item in parse_many(app.config[f"RATE_LIMIT_{kind}"]):
            if not strategy.hit(item, "bot", kind.lower(), f"telegram:{telegram_id}"):
                reset, _ = strategy.get_window_stats(item, "bot", kind.lower(), f"telegram:{telegram_id}")
                wait = max(wait, reset - time.time(), 1.0)
    return wait

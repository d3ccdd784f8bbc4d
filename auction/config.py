"""Settings read from the environment; `.env` fills in what the real environment lacks."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

from dotenv import dotenv_values

from auction.i18n import LANGUAGES

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SECRET_KEYS = {"", "change-me", "dev", "secret"}


class ConfigError(RuntimeError):
    """The configuration cannot run; the message is one line for the operator."""


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def _int(value: str | None, default: int) -> int:
    return int(value) if value not in (None, "") else default


def _ids(value: str | None) -> frozenset[int]:
    return frozenset(int(part) for part in (value or "").replace(" ", "").split(",") if part)


def _redis_url(value: str | None) -> str:
    """Where Flask-Limiter keeps its counters: the broker's Redis if there is one, else memory."""
    return value if (value or "").startswith(("redis://", "rediss://", "unix://")) else "memory://"


def load_config(env: Mapping[str, str] | None = None, env_file: Path = ROOT / ".env") -> dict:
    """Build the Flask config mapping; `env` defaults to os.environ over `env_file`."""
    if env is None:
        # A variable set in the real environment wins over `.env`.
        from_file = {key: value for key, value in dotenv_values(env_file).items() if value is not None}
        env = {**from_file, **os.environ}
    get = env.get
    instance = ROOT / "instance"
    token = get("TELEGRAM_BOT_TOKEN", "")
    bot_mode = get("BOT_MODE") or ("polling" if token else "off")
    return {
        "SECRET_KEY": get("SECRET_KEY", ""),
        "TELEGRAM_BOT_TOKEN": token,
        "TELEGRAM_BOT_USERNAME": get("TELEGRAM_BOT_USERNAME", ""),
        "TELEGRAM_API_BASE_URL": get("TELEGRAM_API_BASE_URL") or "https://api.telegram.org/bot",
        "PROVIDER_TOKEN": get("PROVIDER_TOKEN", ""),
        "BOT_MODE": bot_mode,
        "TELEGRAM_WEBHOOK_SECRET": get("TELEGRAM_WEBHOOK_SECRET", ""),
        "BASE_URL": (get("BASE_URL") or f"http://127.0.0.1:{_int(get('PORT'), 8000)}").rstrip("/"),
        "PORT": _int(get("PORT"), 8000),
        "SQLALCHEMY_DATABASE_URI": get("DATABASE_URL") or f"sqlite:///{instance / 'auction.db'}",
        "BROKER_URL": get("BROKER_URL", ""),
        "BROKER_NAMESPACE": get("BROKER_NAMESPACE") or "auction",
        "LIVE_REPLAY_SIZE": _int(get("LIVE_REPLAY_SIZE"), 200),
        "LIVE_MAX_CHANNELS": _int(get("LIVE_MAX_CHANNELS"), 20),
        "LIVE_MAX_CONNECTIONS_PER_CLIENT": _int(get("LIVE_MAX_CONNECTIONS_PER_CLIENT"), 50),
        "LIVE_HEARTBEAT_SECONDS": _int(get("LIVE_HEARTBEAT_SECONDS"), 15),
        "LIVE_RETRY_MS": 3000,
        "WEB_THREADS": _int(get("WEB_THREADS"), 4),
        "SCHEDULER_ENABLED": _flag(get("SCHEDULER_ENABLED") or "1"),
        "SMTP_URL": get("SMTP_URL", ""),
        "EMAIL_SERVICE_API_KEY": get("EMAIL_SERVICE_API_KEY", ""),
        "MAIL_FROM": get("MAIL_FROM", ""),
        "EMAIL_CONFIRM_HOURS": _int(get("EMAIL_CONFIRM_HOURS"), 48),
        "PUSH_NOTIFICATION_SERVICE_KEY": get("PUSH_NOTIFICATION_SERVICE_KEY", ""),
        "PUSH_CONTACT": get("PUSH_CONTACT", ""),
        # The push services of Chrome/Edge/Opera/Samsung (FCM), Firefox, Edge on Windows (WNS) and Safari.
        "PUSH_SERVICES": get("PUSH_SERVICES") or "fcm.googleapis.com,push.services.mozilla.com,notify.windows.com,push.apple.com",
        "ADMIN_TELEGRAM_IDS": _ids(get("ADMIN_TELEGRAM_IDS")),
        "SUPPORT_CHAT_ID": get("SUPPORT_CHAT_ID", ""),
        "DEV_LOGIN": _flag(get("DEV_LOGIN")),
        "PLATFORM_FEE_PERCENT": _int(get("PLATFORM_FEE_PERCENT"), 5),
        "PAYOUT_MIN": _int(get("PAYOUT_MIN"), 100),
        "PREMIUM_PRICE": _int(get("PREMIUM_PRICE"), 250),
        "PREMIUM_PERIOD_DAYS": _int(get("PREMIUM_PERIOD_DAYS"), 30),
        "PREMIUM_FEE_PERCENT": _int(get("PREMIUM_FEE_PERCENT"), 2),
        "FREE_LIVE_AUCTIONS": _int(get("FREE_LIVE_AUCTIONS"), 3),
        "PREMIUM_LIVE_AUCTIONS": _int(get("PREMIUM_LIVE_AUCTIONS"), 50),
        "FREE_PHOTOS": _int(get("FREE_PHOTOS"), 3),
        "PREMIUM_PHOTOS": _int(get("PREMIUM_PHOTOS"), 10),
        "STARS_MIN": _int(get("STARS_MIN"), 1),
        "STARS_MAX": _int(get("STARS_MAX"), 10_000),
        "PURCHASE_TTL_HOURS": _int(get("PURCHASE_TTL_HOURS"), 24),
        "LOGIN_MAX_AGE_SECONDS": _int(get("LOGIN_MAX_AGE_SECONDS"), 24 * 3600),
        "MAX_CONTENT_LENGTH": _int(get("MAX_UPLOAD_MB"), 110) * 1024 * 1024,
        "SMALL_BODY_LIMIT": _int(get("SMALL_BODY_KB"), 64) * 1024,
        "REQUEST_BODY_TIMEOUT": _int(get("REQUEST_BODY_TIMEOUT"), 15),
        "FORWARDED_ALLOW_IPS": get("FORWARDED_ALLOW_IPS", "").replace(" ", ""),
        "PHOTO_PIXEL_BUDGET": _int(get("PHOTO_PIXEL_BUDGET_MP"), 120) * 1_000_000,
        "PHOTO_WORKERS": _int(get("PHOTO_WORKERS"), 1),
        "PHOTO_QUEUE": _int(get("PHOTO_QUEUE"), 2),
        "RATELIMIT_STORAGE_URI": get("RATELIMIT_STORAGE_URI") or _redis_url(get("REDIS_URL") or get("BROKER_URL")),
        "RATELIMIT_ENABLED": _flag(get("RATELIMIT_ENABLED") or "1"),
        "RATE_LIMIT_SIGN_IN": get("RATE_LIMIT_SIGN_IN") or "10 per minute;50 per hour",
        "RATE_LIMIT_BIDS": get("RATE_LIMIT_BIDS") or "30 per minute",
        "RATE_LIMIT_LISTINGS": get("RATE_LIMIT_LISTINGS") or "5 per minute;30 per day",
        "RATE_LIMIT_INVOICES": get("RATE_LIMIT_INVOICES") or "5 per minute;30 per hour",
        "RATE_LIMIT_SUPPORT": get("RATE_LIMIT_SUPPORT") or "5 per minute;30 per hour",
        "RATE_LIMIT_BOT": get("RATE_LIMIT_BOT") or "30 per minute",
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "WTF_CSRF_TIME_LIMIT": None,
        "WTF_CSRF_HEADERS": ["X-CSRFToken"],
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": (get("BASE_URL") or "").startswith("https://"),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": (get("BASE_URL") or "").startswith("https://"),
        "BABEL_TRANSLATION_DIRECTORIES": str(ROOT / "translations"),
        "BABEL_DEFAULT_LOCALE": "en",
        "LANGUAGES": LANGUAGES,
    }


def check_config(config: dict) -> None:
    """Refuse settings that would be unsafe to serve with."""
    if not config.get("DEV_LOGIN") and config.get("SECRET_KEY", "") in DEFAULT_SECRET_KEYS:
        raise ConfigError(
            "SECRET_KEY is missing or a default value; set a long random SECRET_KEY in .env "
            "(or DEV_LOGIN=1 for a local trial)."
        )
    if config.get("DEV_LOGIN") and str(config.get("BASE_URL", "")).startswith("https://"):
        # Dev login hands out demo accounts (one of them an admin) and sandbox Stars to anyone.
        raise ConfigError("DEV_LOGIN=1 is for a local trial only; turn it off when BASE_URL is a public https address.")
    if config.get("BOT_MODE") not in {"polling", "webhook", "off"}:
        raise ConfigError(f"BOT_MODE must be polling, webhook or off, not {config.get('BOT_MODE')!r}.")
    if config.get("BOT_MODE") == "webhook" and config.get("TELEGRAM_BOT_TOKEN") and not re.fullmatch(
        r"[A-Za-z0-9_-]{1,256}", config.get("TELEGRAM_WEBHOOK_SECRET") or ""
    ):
        raise ConfigError("BOT_MODE=webhook needs TELEGRAM_WEBHOOK_SECRET: 1-256 characters of A-Z, a-z, 0-9, _ and -.")

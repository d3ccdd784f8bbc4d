"""Template helpers: Stars, times in the viewer's zone, htmx awareness."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Flask, request
from flask_babel import get_locale, ngettext
from flask_login import current_user


def stars(amount: int | None) -> str:
    """`1 234 ⭐` style, grouped the way the viewer's language groups numbers."""
    if amount is None:
        return "—"
    from babel.numbers import format_decimal

    return f"{format_decimal(amount, locale=str(get_locale()))} ⭐"


def local_time(value: datetime | None, fmt: str = "medium") -> str:
    if value is None:
        return ""
    zone = "UTC"
    if current_user.is_authenticated and current_user.timezone:
        zone = current_user.timezone
    # Babel's own formatter with an explicit zone: flask-babel's would convert back to
    # its default time zone (UTC) and show every reader the server's clock.
    from babel.dates import format_datetime as format_in_zone

    return format_in_zone(value, fmt, tzinfo=ZoneInfo(zone), locale=get_locale())


def is_htmx() -> bool:
    return request.headers.get("HX-Request") == "true" and request.headers.get("HX-Boosted") != "true"


def register_template_helpers(app: Flask) -> None:
    app.jinja_env.filters["stars"] = stars
    app.jinja_env.filters["local_time"] = local_time

    @app.context_processor
    def globals_for_templates():
        return {"current_locale": str(get_locale()), "is_htmx": is_htmx(), "ngettext": ngettext}

"""Template helpers: Stars, times in the viewer's zone, htmx awareness."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask import Flask, session
from flask_babel import get_locale, ngettext
from flask_login import current_user
from markupsafe import Markup

from auction import stars as stars_module
from auction.i18n import language_choices
from auction.services.users import is_timezone
from auction.web.htmx import is_htmx


def grouped(amount: int) -> str:
    """`1,234` or `1 234`: digits grouped the way the viewer's language groups them."""
    return stars_module.format(amount)


def stars(amount: int | None) -> str:
    """`1 234 ⭐` style, grouped the way the viewer's language groups numbers."""
    if amount is None:
        return "—"
    return stars_module.with_sign(amount)


def viewer_timezone() -> str:
    """The zone times are shown and typed in: the signed-in user's, else this browser session's, else UTC."""
    # Every account starts as "UTC": until the browser reports a zone, a session's own wins.
    if current_user.is_authenticated and current_user.timezone != "UTC" and is_timezone(current_user.timezone):
        return current_user.timezone
    if is_timezone(session.get("timezone")):
        return session["timezone"]
    return "UTC"


def stored_timezone() -> str:
    """The zone the server keeps for this reader (the user's, else the session's): app.js reports the browser's when it differs."""
    if current_user.is_authenticated:
        return current_user.timezone or "UTC"
    return session.get("timezone") or "UTC"


def local_time(value: datetime | None, fmt: str = "medium") -> str:
    if value is None:
        return ""
    zone = viewer_timezone()
    # Babel's own formatter with an explicit zone: flask-babel's would convert back to
    # its default time zone (UTC) and show every reader the server's clock.
    from babel.dates import format_datetime as format_in_zone

    return format_in_zone(value, fmt, tzinfo=ZoneInfo(zone), locale=get_locale())


def time_tag(value: datetime | None, fmt: str = "short") -> Markup:
    """One moment as `<time datetime="…Z">`: the server writes it in the viewer's zone, app.js
    rewrites it in the page's zone with Intl.DateTimeFormat, so a fragment rendered once for
    every reader (live updates) still reads right in each reader's zone. `fmt`: "short" or "medium"."""
    if value is None:
        return Markup("")
    utc = value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return Markup('<time datetime="{}" data-local="{}">{}</time>').format(utc, fmt, local_time(value, fmt))


def server_now_ms() -> int:
    """The server's clock in milliseconds since the epoch: pages count down by it, not the device's."""
    return int(datetime.now(UTC).timestamp() * 1000)


def register_template_helpers(app: Flask) -> None:
    app.jinja_env.filters["stars"] = stars
    app.jinja_env.filters["local_time"] = local_time
    app.jinja_env.filters["time_tag"] = time_tag
    app.jinja_env.globals["language_choices"] = language_choices

    @app.context_processor
    def globals_for_templates():
        return {"current_locale": str(get_locale()), "is_htmx": is_htmx(), "ngettext": ngettext, "viewer_timezone": viewer_timezone,
                "stored_timezone": stored_timezone, "server_now_ms": server_now_ms}

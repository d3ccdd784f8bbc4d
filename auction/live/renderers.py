"""What an event looks like on a page: HTML fragments rendered once per event and locale.

A renderer turns one committed event into the server-sent events a page swaps in:
`fn(app, data, locale) -> [(sse_event_name, html), ...]`. Each module that draws fragments
names its renderers in a `RENDERERS` table ({event name: fn}); create_app's `register_live`
step gives every app its own copy (`register_renderers`), nothing registers at import.
It runs in a worker thread inside a request context for BASE_URL with `locale` forced, so
`render_template`, `url_for` and `_()` work; the stream caches its result for every
connection that shows the same event in the same language. Events without a renderer go
out as JSON under their own name.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from flask import Flask
from flask_babel import force_locale

Renderer = Callable[[Flask, dict, str], list[tuple[str, str]]]

RENDERERS_KEY = "live_renderers"  # the app.extensions key of an app's {event name: renderer}


def register_renderers(app: Flask, table: Mapping[str, Renderer]) -> None:
    """Make `app` render the events of `table` ({event name: renderer}); a name given twice keeps the last."""
    app.extensions.setdefault(RENDERERS_KEY, {}).update(table)


def renderers_of(app: Flask) -> dict[str, Renderer]:
    """The renderers `app` knows ({event name: renderer}); empty before `register_renderers`."""
    return app.extensions.setdefault(RENDERERS_KEY, {})


def render_event(app: Flask, name: str, data: dict, locale: str) -> list[tuple[str, str]] | None:
    """The fragments for one event in one language, or None when no renderer knows the event."""
    renderer = renderers_of(app).get(name)
    if renderer is None:
        return None
    with app.test_request_context("/", base_url=app.config["BASE_URL"]), force_locale(locale):
        return renderer(app, data, locale)

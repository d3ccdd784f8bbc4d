"""What an event looks like on a page: HTML fragments rendered once per event and locale.

A renderer turns one committed event into the server-sent events a page swaps in:
`renderers["bid_placed"] = fn` where `fn(app, data, locale) -> [(sse_event_name, html), ...]`.
It runs in a worker thread inside a request context for BASE_URL with `locale` forced, so
`render_template`, `url_for` and `_()` work; the stream caches its result for every
connection that shows the same event in the same language. Events without a renderer go
out as JSON under their own name.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from flask_babel import force_locale

Renderer = Callable[[Flask, dict, str], list[tuple[str, str]]]

renderers: dict[str, Renderer] = {}


def renders(event_name: str) -> Callable[[Renderer], Renderer]:
    """Register the decorated function as the renderer of `event_name`."""

    def register(fn: Renderer) -> Renderer:
        renderers[event_name] = fn
        return fn

    return register


def render_event(app: Flask, name: str, data: dict, locale: str) -> list[tuple[str, str]] | None:
    """The fragments for one event in one language, or None when no renderer knows the event."""
    renderer = renderers.get(name)
    if renderer is None:
        return None
    with app.test_request_context("/", base_url=app.config["BASE_URL"]), force_locale(locale):
        return renderer(app, data, locale)

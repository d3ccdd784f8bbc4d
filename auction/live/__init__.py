"""Live updates: the event broker, the renderers of pushed fragments, and the SSE endpoint."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from urllib.parse import urlencode

from flask import Flask, current_app
from flask_login import current_user

from auction.live.broker import CHANNEL, Broker, Event, create_broker
from auction.live.renderers import register_renderers, renderers_of

log = logging.getLogger("auction.live")

__all__ = ["CHANNEL", "Broker", "Event", "init_app", "live_url", "publish_committed", "register_renderers", "renderers_of"]


def publish_committed(events: list[tuple[str, str, dict]]) -> None:
    """Event sink: hand committed events to the broker of the app whose session committed."""
    broker: Broker | None = current_app.extensions.get("broker")
    if broker is not None:
        broker.publish_many(events)


def live_url(channels: Iterable[str] | str = ()) -> str | None:
    """The /events address for a page showing `channels` (plus the viewer's own channel).

    It carries the channels' current ids, so an event committed between rendering the page
    and the browser connecting still reaches it. None when there is nothing to follow.
    """
    if isinstance(channels, str):
        channels = channels.replace(",", " ").split()
    wanted = [channel for channel in dict.fromkeys(channels) if CHANNEL.match(channel)]
    if current_user.is_authenticated:
        wanted.append(f"user:{current_user.id}")
        wanted = list(dict.fromkeys(wanted))
    if not wanted:
        return None
    broker: Broker = current_app.extensions["broker"]
    params = {"channels": ",".join(wanted)}
    try:
        params["since"] = broker.position(broker.current_ids(wanted))
    except Exception:  # Redis unreachable: the page still renders, its stream starts from "now"
        log.warning("live: could not read the channels' positions", exc_info=True)
    return "/events?" + urlencode(params, safe=":,~=")


def init_app(app: Flask) -> None:
    """Create the broker BROKER_URL names and give templates `live_url` (create_app's
    `register_live` then routes committed events to the broker through `publish_committed`)."""
    app.extensions["broker"] = create_broker(app.config)
    app.jinja_env.globals["live_url"] = live_url

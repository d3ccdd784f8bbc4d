"""Per-route request body limits, read by the runtime before a byte of the body arrives.

Every route takes a small body (`SMALL_BODY_LIMIT`, 64 KB by default). A view marked
`@accepts_uploads` takes up to `MAX_CONTENT_LENGTH` from a signed-in person; a view marked
`@body_limit(n)` takes up to n bytes from anyone. See auction.runtime.BufferedWSGI.
"""

from __future__ import annotations


def accepts_uploads(view):
    """Mark `view` as taking photo uploads: the large body limit, for signed-in people only."""
    view.accepts_uploads = True
    return view


def body_limit(size: int):
    """Mark a view as taking bodies of up to `size` bytes from anyone (e.g. Telegram's webhook)."""

    def mark(view):
        view.body_limit = size
        return view

    return mark

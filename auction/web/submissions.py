"""`@one_effect(kind)`: a creating view runs once per submission key (auction.services.submissions).

The form carries `<input type="hidden" name="submission_key" value="{{ submission_key() }}">`.
A view's redirect (a 3xx Location or htmx's HX-Redirect) is its result; anything else (the
form again, with errors) lets the key go so the corrected form can be sent with it.
"""

from __future__ import annotations

import functools
import secrets

from flask import Flask, make_response, redirect, request
from flask_login import current_user

from auction.services import submissions
from auction.web.htmx import is_htmx


def new_submission_key() -> str:
    """A fresh key for a form being rendered (or the one it was sent with, when shown again)."""
    sent = request.form.get("submission_key") if request.method == "POST" else None
    return sent if submissions.is_key(sent) else secrets.token_urlsafe(24)


def register(app: Flask) -> None:
    app.jinja_env.globals["submission_key"] = new_submission_key


def _result_of(response) -> str | None:
    if response.status_code in (301, 302, 303, 307, 308):
        return response.headers.get("Location")
    return response.headers.get("HX-Redirect")


def _go(target: str):
    if is_htmx():
        return "", 204, {"HX-Redirect": target}
    return redirect(target, 303)


def one_effect(kind: str):
    """Decorator for a signed-in person's creating view (`kind`: "listing", "purchase")."""

    def decorate(view):
        @functools.wraps(view)
        def once(*args, **kwargs):
            key = request.form.get("submission_key")
            if not current_user.is_authenticated or not submissions.is_key(key):
                return view(*args, **kwargs)  # an old page without a key: as before
            earlier = submissions.claim(key, current_user.id, kind)  # SubmissionPending: a 409 page
            if earlier is not None:
                return _go(earlier)
            try:
                response = make_response(view(*args, **kwargs))
            except BaseException:
                submissions.forget(key)
                raise
            result = _result_of(response)
            if result:
                submissions.finish(key, result)
            else:
                submissions.forget(key)
            return response

        return once

    return decorate

"""One action, one effect: a creating form's one-time submission key.

Every creating form (a new listing, a Stars purchase) carries a random key. The first
request that claims it does the work and records where its result is; a second request
with the same key (a double click, a browser or proxy retry, even arriving at the same
moment) waits for the first to finish and is sent to the same result. A first attempt
that ends without a result (a form error) forgets its key, so the corrected form can be
sent again with it.
"""

from __future__ import annotations

import re
import time
from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from auction.extensions import db
from auction.models import Submission, utcnow
from auction.services.errors import ServiceError
from auction.services.transaction import atomic

KEY = re.compile(r"[A-Za-z0-9_-]{16,64}")
WAIT_SECONDS = 60  # the longest a repeated request waits for the first (photos take a while)
KEPT_FOR = timedelta(days=1)


class SubmissionPending(ServiceError):
    """The same form is still being processed by an earlier request."""

    message = _l("This form is still being processed. Please wait a moment and reload the page.")
    status = 409


def is_key(value: str | None) -> bool:
    """Whether `value` looks like a key this site hands out (16-64 URL-safe characters)."""
    return bool(value) and KEY.fullmatch(value) is not None


@atomic
def _insert(key: str, user_id: int, kind: str) -> None:
    db.session.execute(delete(Submission).where(Submission.user_id == user_id, Submission.created_at < utcnow() - KEPT_FOR))
    db.session.add(Submission(key=key, user_id=user_id, kind=kind))
    db.session.flush()


def claim(key: str, user_id: int, kind: str, wait_seconds: float = WAIT_SECONDS) -> str | None:
    """Claim `key` for this request: None when this request is the first and must do the work,
    else the URL of the first request's result (waiting up to `wait_seconds` for it).

    Raises SubmissionPending when the first request is still at work after the wait, or when
    another person or form holds the key (keys are random: a copied one leads nowhere).
    """
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            _insert(key, user_id, kind)
            return None
        except IntegrityError:
            pass  # claimed already
        db.session.rollback()
        row = db.session.execute(select(Submission.user_id, Submission.kind, Submission.result_url).where(Submission.key == key)).first()
        db.session.rollback()  # a fresh snapshot on the next look
        if row is None:
            continue  # the first attempt failed and let go of it: this one does the work
        if row.user_id != user_id or row.kind != kind:
            raise SubmissionPending()
        if row.result_url:
            return row.result_url
        if time.monotonic() > deadline:
            raise SubmissionPending()
        time.sleep(0.2)


@atomic
def finish(key: str, result_url: str) -> None:
    """Record where the claimed submission's result is (a path on this site)."""
    submission = db.session.get(Submission, key)
    if submission is not None:
        submission.result_url = result_url[:300]


@atomic
def forget(key: str) -> None:
    """Let go of a claimed key whose request ended without a result."""
    db.session.execute(delete(Submission).where(Submission.key == key, Submission.result_url.is_(None)))

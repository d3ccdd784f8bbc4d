"""Photos kept between sends of a listing form: stored once, named in the form by a signed token.

A form that comes back with an error (a missing title, a price too low) would otherwise ask for
its photos again: no browser refills a file input. So every photo that passes its checks is
stored at once as a `PhotoUpload` row with its files, and the page carries a token for it
(itsdangerous, signed with the app's SECRET_KEY, bound to the uploader's user id, valid for
`UPLOAD_TTL`). Sending the form again uses the stored photo without uploading it again.

Why rows and not a staging folder: a listing takes its uploads over in the same transaction
that stores it (the rows go, its AuctionImages come). A transaction that fails leaves the
uploads where they were, to be sent again; one that commits can never have its photos cleaned
away under it. The clean-up job finds what nobody used, and whose, with one indexed query
instead of walking the disk, and removes files only after the rows' deletion committed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select

from auction.extensions import db
from auction.models import PhotoUpload, utcnow
from auction.services.errors import ServiceError
from auction.services.photos import (
    PhotoRejected,
    StoredPhoto,
    check_pixel_budget,
    delete_photo,
    photo_pool,
    store_photo,
)
from auction.services.transaction import atomic

UPLOAD_TTL = timedelta(hours=2)
# Rows live a little longer than their tokens, so a form sent in the token's last second still finds its photo.
CLEANUP_GRACE = timedelta(minutes=10)
TOKEN_SALT = "listing-photo-upload"


class UploadRefused(ServiceError):
    """A kept photo's token that cannot be used: expired, forged, or someone else's."""

    message = _l("A photo kept from before cannot be used any more. Choose it again.")


@dataclass(frozen=True)
class KeptPhoto:
    """One stored upload as the form shows it: its token (the form's hidden value) and thumbnail."""

    upload_id: int
    token: str
    thumb_path: str  # relative to static/


@dataclass(frozen=True)
class StagedPhotos:
    """What became of a form's new files: those kept (in the order sent) and why others were refused."""

    kept: list[KeptPhoto]
    problems: list[str]


def _serializer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=TOKEN_SALT)


def sign_upload(upload_id: int, user_id: int, secret: str) -> str:
    """The token a form carries for a kept photo: names the upload and its uploader, signed with `secret`."""
    return _serializer(secret).dumps({"p": upload_id, "u": user_id})


def read_upload(token: str, user_id: int, secret: str, max_age: timedelta = UPLOAD_TTL) -> int:
    """The upload id a token names, for `user_id` only, within `max_age` of signing.

    Raises UploadRefused: expired (older than `max_age`), not signed by `secret`, or signed
    for another person.
    """
    try:
        data = _serializer(secret).loads(token, max_age=int(max_age.total_seconds()))
    except SignatureExpired:
        raise UploadRefused(_l("A photo kept from before has expired (after %(hours)d hours). Choose it again.",
                               hours=int(max_age.total_seconds() // 3600))) from None
    except BadSignature:
        raise UploadRefused() from None
    if not isinstance(data, dict) or not isinstance(data.get("p"), int) or data.get("u") != user_id:
        raise UploadRefused(_l("A kept photo belongs to someone else's form. Choose your own photos."))
    return data["p"]


def stage_photos(user_id: int, photos: list[bytes], secret: str, first_number: int = 1) -> StagedPhotos:
    """Check and store each of a form's new photos; keep those that pass, say why the others do not.

    The request's pixel budget (`PHOTO_PIXEL_BUDGET`, from the headers) is checked first; over
    it, nothing is stored. Photos are processed on the photo pool (PhotosBusy when it is full).
    Problems read "Photo 2: …", numbered from `first_number` (the photos already kept come first).
    """
    config = current_app.config
    try:
        check_pixel_budget(photos, config.get("PHOTO_PIXEL_BUDGET", 120_000_000))
    except PhotoRejected as exc:
        return StagedPhotos([], [str(exc)])
    pool = photo_pool(config.get("PHOTO_WORKERS", 1), config.get("PHOTO_QUEUE", 2))
    results = pool.run(lambda: [_store_or_refuse(data) for data in photos])
    stored = [r for r in results if isinstance(r, StoredPhoto)]
    problems = [
        str(_l("Photo %(num)d: %(problem)s", num=number, problem=str(r)))
        for number, r in enumerate(results, start=first_number)
        if isinstance(r, PhotoRejected)
    ]
    try:
        ids = _record_uploads(user_id, stored)
    except BaseException:
        for photo in stored:
            delete_photo(photo)
        raise
    kept = [KeptPhoto(upload_id, sign_upload(upload_id, user_id, secret), photo.thumb_path) for upload_id, photo in zip(ids, stored, strict=True)]
    return StagedPhotos(kept, problems)


def _store_or_refuse(data: bytes) -> StoredPhoto | PhotoRejected:
    try:
        return store_photo(data)
    except PhotoRejected as exc:
        return exc


@atomic
def _record_uploads(user_id: int, stored: list[StoredPhoto]) -> list[int]:
    rows = [
        PhotoUpload(user_id=user_id, thumb_path=p.thumb_path, large_path=p.large_path, width=p.width, height=p.height)
        for p in stored
    ]
    db.session.add_all(rows)
    db.session.flush()
    return [row.id for row in rows]


def kept_photos(user_id: int, upload_ids: list[int]) -> dict[int, PhotoUpload]:
    """`user_id`'s uploads among `upload_ids` that are still stored, by id (others' are left out)."""
    if not upload_ids:
        return {}
    rows = db.session.scalars(select(PhotoUpload).where(PhotoUpload.id.in_(upload_ids), PhotoUpload.user_id == user_id))
    return {row.id: row for row in rows}


def discard_expired_uploads(now: datetime | None = None) -> int:
    """The job: remove uploads no listing took within UPLOAD_TTL (plus a grace); returns how many.

    Rows are deleted first and their files only after that commit, so a photo a listing
    took over meanwhile is never lost.
    """
    gone = _delete_expired_rows((now or utcnow()) - UPLOAD_TTL - CLEANUP_GRACE)
    for photo in gone:
        delete_photo(photo)
    return len(gone)


@atomic
def _delete_expired_rows(before: datetime) -> list[StoredPhoto]:
    rows = list(db.session.scalars(select(PhotoUpload).where(PhotoUpload.created_at < before).limit(500).with_for_update()))
    gone = [StoredPhoto(row.thumb_path, row.large_path, row.width, row.height) for row in rows]
    for row in rows:
        db.session.delete(row)
    return gone

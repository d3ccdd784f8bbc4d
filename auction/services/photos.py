"""Auction photos: validate an upload with Pillow and store clean WebP renditions.

Only JPEG, PNG and WebP are accepted. The file is verified, then reopened (verify()
leaves the image unusable), checked against size and pixel limits (decompression
bombs), turned upright by its EXIF orientation and re-encoded, which drops every bit
of metadata. Two renditions are written under random names: a 400 px thumbnail and a
1600 px large version.
"""

from __future__ import annotations

import io
import secrets
import warnings
from dataclasses import dataclass
from pathlib import Path

from flask_babel import lazy_gettext as _l
from PIL import Image, ImageOps

from auction.config import ROOT
from auction.services.errors import ServiceError

MAX_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 40_000_000
ALLOWED_FORMATS = {"JPEG", "PNG", "WEBP"}
THUMB_SIZE = 400
LARGE_SIZE = 1600
UPLOAD_DIR = "uploads"


class PhotoRejected(ServiceError):
    message = _l("This photo cannot be used.")


@dataclass(frozen=True)
class StoredPhoto:
    thumb_path: str  # relative to static/
    large_path: str
    width: int
    height: int


def _open_checked(data: bytes) -> Image.Image:
    if len(data) > MAX_BYTES:
        raise PhotoRejected(_l("The photo is larger than 10 MB."))
    if not data:
        raise PhotoRejected(_l("The photo file is empty."))
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data)) as probe:
                if probe.format not in ALLOWED_FORMATS:
                    raise PhotoRejected(_l("Only JPEG, PNG and WebP photos are accepted."))
                if probe.width * probe.height > MAX_PIXELS:
                    raise PhotoRejected(_l("The photo has more than 40 megapixels."))
                probe.verify()
            image = Image.open(io.BytesIO(data))
            image.load()
        except PhotoRejected:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise PhotoRejected(_l("The photo has more than 40 megapixels.")) from None
        except Exception:
            raise PhotoRejected(_l("The file is not a readable JPEG, PNG or WebP image.")) from None
    return image


def store_photo(data: bytes, static_root: Path = ROOT / "static") -> StoredPhoto:
    """Validate `data` and write its renditions; returns their static-relative paths."""
    image = _open_checked(data)
    image = ImageOps.exif_transpose(image)
    image = image.convert("RGBA" if image.mode in ("RGBA", "LA", "P") else "RGB")
    name = secrets.token_urlsafe(16)
    folder = static_root / UPLOAD_DIR / name[:2]
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for label, size in (("thumb", THUMB_SIZE), ("large", LARGE_SIZE)):
        rendition = image.copy()
        rendition.thumbnail((size, size), Image.Resampling.LANCZOS)
        target = folder / f"{name}-{label}.webp"
        rendition.save(target, "WEBP", quality=82, method=4)
        paths[label] = f"{UPLOAD_DIR}/{name[:2]}/{target.name}"
    return StoredPhoto(paths["thumb"], paths["large"], image.width, image.height)


def delete_photo(photo: StoredPhoto, static_root: Path = ROOT / "static") -> None:
    """Remove both renditions of a stored photo (already gone is fine)."""
    for relative in (photo.thumb_path, photo.large_path):
        (static_root / relative).unlink(missing_ok=True)

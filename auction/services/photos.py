"""Auction photos: validate an upload with Pillow and store clean WebP renditions.

JPEG (also MPO, a phone's multi-picture JPEG: its first picture), PNG, WebP and HEIC/HEIF
(iPhones' default, through pillow-heif) are accepted. The file is verified, then reopened (verify()
leaves the image unusable), checked against size and pixel limits (decompression
bombs), turned upright by its EXIF orientation and re-encoded, which drops every bit
of metadata. Two renditions are written under random names: a 400 px thumbnail and a
1600 px large version.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import io
import secrets
import threading
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pillow_heif
from flask_babel import lazy_gettext as _l
from PIL import Image, ImageOps

from auction.config import ROOT
from auction.services.errors import ServiceError

MAX_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 40_000_000
ALLOWED_FORMATS = {"JPEG", "MPO", "PNG", "WEBP", "HEIF"}
THUMB_SIZE = 400
LARGE_SIZE = 1600
UPLOAD_DIR = "uploads"


pillow_heif.register_heif_opener()  # HEIC/HEIF opens like any Pillow image, format "HEIF"
T = TypeVar("T")


class PhotoRejected(ServiceError):
    message = _l("This photo cannot be used.")


class PhotosBusy(ServiceError):
    """Every photo worker is busy and the queue is full; the person tries again shortly."""

    message = _l("We are busy processing other photos. Please send the form again in a minute.")
    status = 503


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
                    raise PhotoRejected(_l("Only JPEG, PNG, WebP and HEIC photos are accepted."))
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
            raise PhotoRejected(_l("The file is not a readable JPEG, PNG, WebP or HEIC image.")) from None
    return image


def pixel_count(data: bytes) -> int:
    """Width × height as the file's header declares it, without decoding the picture.

    Raises PhotoRejected for a file Pillow cannot even identify.
    """
    try:
        with Image.open(io.BytesIO(data)) as probe:
            return probe.width * probe.height
    except Exception:
        raise PhotoRejected(_l("The file is not a readable JPEG, PNG, WebP or HEIC image.")) from None


def check_pixel_budget(photos: list[bytes], budget: int) -> None:
    """Refuse a set of photos whose declared pixels add up to more than `budget` (pixels).

    Read from the headers before anything is decoded. Raises PhotoRejected.
    """
    total = 0
    for data in photos:
        with contextlib.suppress(PhotoRejected):  # refused with its number when the photos are processed
            total += pixel_count(data) if len(data) <= MAX_BYTES else 0
    if total > budget:
        raise PhotoRejected(
            _l(
                "These photos have %(total)s megapixels together; one listing takes at most %(budget)s. "
                "Send smaller pictures or fewer of them.",
                total=round(total / 1_000_000),
                budget=budget // 1_000_000,
            )
        )


_libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")


def _give_memory_back() -> None:
    """Hand freed image memory back to the system (glibc keeps large freed blocks otherwise)."""
    trim = getattr(_libc, "malloc_trim", None)
    if trim is not None:
        trim(0)


class PhotoPool:
    """A few threads for photo work, apart from the page threads, with a bounded queue.

    `workers` photos batches run at once and `queue` more may wait; one more is refused at
    once with PhotosBusy. Pillow releases the GIL while it decodes and resizes, so pages keep
    being served meanwhile. Memory is handed back to the system after each batch.
    """

    def __init__(self, workers: int, queue: int) -> None:
        self.executor = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="photos")
        self.slots = threading.BoundedSemaphore(max(1, workers) + max(0, queue))

    def run(self, work: Callable[[], T]) -> T:
        """Run `work` on a photo thread and wait for its result; raises PhotosBusy when full."""
        if not self.slots.acquire(blocking=False):
            raise PhotosBusy()
        try:
            return self.executor.submit(self._run, work).result()
        finally:
            self.slots.release()

    @staticmethod
    def _run(work: Callable[[], T]) -> T:
        try:
            return work()
        finally:
            _give_memory_back()


_pools: dict[tuple[int, int], PhotoPool] = {}
_pools_lock = threading.Lock()


def photo_pool(workers: int, queue: int) -> PhotoPool:
    """The process's photo pool for these settings (one per process and setting)."""
    with _pools_lock:
        pool = _pools.get((workers, queue))
        if pool is None:
            pool = _pools[(workers, queue)] = PhotoPool(workers, queue)
        return pool


def store_photo(data: bytes, static_root: Path = ROOT / "static") -> StoredPhoto:
    """Validate `data` and write its renditions; returns their static-relative paths."""
    image = _open_checked(data)  # an MPO's first picture: the frame it opens at
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
        rendition.close()
    image.close()
    return StoredPhoto(paths["thumb"], paths["large"], image.width, image.height)


def delete_photo(photo: StoredPhoto, static_root: Path = ROOT / "static") -> None:
    """Remove both renditions of a stored photo (already gone is fine)."""
    for relative in (photo.thumb_path, photo.large_path):
        (static_root / relative).unlink(missing_ok=True)

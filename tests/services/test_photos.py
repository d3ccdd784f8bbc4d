"""Photo uploads: only real JPEG/PNG/WebP, no bombs, no metadata, upright WebP renditions."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import ExifTags, Image

from auction.services.photos import MAX_BYTES, PhotoRejected, store_photo


def encode(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def two_tone(width: int, height: int, mode: str = "RGB") -> Image.Image:
    """Left half red, right half blue: shows which way a picture was turned."""
    image = Image.new("RGB", (width, height), (220, 30, 30))
    image.paste((30, 30, 220), (width // 2, 0, width, height))
    return image.convert(mode) if mode != "RGB" else image


def opened(static_root, relative: str) -> Image.Image:
    image = Image.open(static_root / relative)
    image.load()
    return image


def rejection(data: bytes, tmp_path) -> str:
    with pytest.raises(PhotoRejected) as refused:
        store_photo(data, static_root=tmp_path)
    assert not (tmp_path / "uploads").exists() or not any((tmp_path / "uploads").rglob("*.webp"))
    return str(refused.value)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_accepted_formats_become_two_webp_renditions(tmp_path, fmt):
    stored = store_photo(encode(two_tone(2400, 1200), fmt), static_root=tmp_path)
    thumb = opened(tmp_path, stored.thumb_path)
    large = opened(tmp_path, stored.large_path)
    assert (thumb.format, large.format) == ("WEBP", "WEBP")
    assert thumb.size == (400, 200)
    assert large.size == (1600, 800)
    assert (stored.width, stored.height) == (2400, 1200)
    assert stored.thumb_path.startswith("uploads/") and stored.thumb_path.endswith(".webp")
    assert stored.large_path.startswith("uploads/") and stored.large_path.endswith(".webp")


def test_tall_photo_is_bounded_by_its_height(tmp_path):
    stored = store_photo(encode(two_tone(1000, 3000), "JPEG"), static_root=tmp_path)
    assert max(opened(tmp_path, stored.thumb_path).size) == 400
    assert opened(tmp_path, stored.large_path).size == (533, 1600)


def test_small_photo_is_not_blown_up(tmp_path):
    stored = store_photo(encode(two_tone(300, 200), "PNG"), static_root=tmp_path)
    assert opened(tmp_path, stored.thumb_path).size == (300, 200)
    assert opened(tmp_path, stored.large_path).size == (300, 200)


def test_file_names_are_random_not_derived_from_the_content(tmp_path):
    data = encode(two_tone(500, 500), "JPEG")
    first = store_photo(data, static_root=tmp_path)
    second = store_photo(data, static_root=tmp_path)
    assert first.thumb_path != second.thumb_path
    assert first.large_path != second.large_path
    name = first.thumb_path.rsplit("/", 1)[1].removesuffix("-thumb.webp")
    assert len(name) >= 20  # 128 random bits, not guessable from other uploads


@pytest.mark.parametrize("mode", ["RGBA", "LA", "P", "L", "1", "CMYK", "I;16"])
def test_unusual_colour_modes_are_stored(tmp_path, mode):
    fmt = "JPEG" if mode in ("CMYK", "L", "1") else "PNG"
    stored = store_photo(encode(two_tone(640, 480, mode), fmt), static_root=tmp_path)
    large = opened(tmp_path, stored.large_path)
    assert large.size == (640, 480)
    assert large.mode in ("RGB", "RGBA")


def test_transparency_survives(tmp_path):
    image = Image.new("RGBA", (200, 100), (0, 0, 0, 0))
    image.paste((10, 200, 10, 255), (0, 0, 100, 100))
    stored = store_photo(encode(image, "PNG"), static_root=tmp_path)
    large = opened(tmp_path, stored.large_path)
    assert large.mode == "RGBA"
    assert large.getpixel((150, 50))[3] == 0
    assert large.getpixel((50, 50))[3] == 255


def test_gif_is_refused(tmp_path):
    message = rejection(encode(two_tone(100, 100), "GIF"), tmp_path)
    assert message == "Only JPEG, PNG, WebP and HEIC photos are accepted."


def test_other_image_formats_are_refused(tmp_path):
    assert rejection(encode(two_tone(100, 100), "BMP"), tmp_path) == "Only JPEG, PNG, WebP and HEIC photos are accepted."
    assert rejection(encode(two_tone(100, 100), "TIFF"), tmp_path) == "Only JPEG, PNG, WebP and HEIC photos are accepted."


def test_text_file_is_refused(tmp_path):
    message = rejection(b"Hello, this is not a picture.\n" * 20, tmp_path)
    assert message == "The file is not a readable JPEG, PNG, WebP or HEIC image."


def test_svg_is_refused(tmp_path):
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    assert rejection(svg, tmp_path) == "The file is not a readable JPEG, PNG, WebP or HEIC image."


def test_empty_file_is_refused(tmp_path):
    assert rejection(b"", tmp_path) == "The photo file is empty."


def test_truncated_jpeg_is_refused(tmp_path):
    data = encode(two_tone(800, 600), "JPEG")
    assert rejection(data[: len(data) // 3], tmp_path) == "The file is not a readable JPEG, PNG, WebP or HEIC image."


def test_photo_over_10_mb_is_refused(tmp_path):
    # A valid JPEG padded past the limit: the size check comes before any decoding.
    data = encode(two_tone(100, 100), "JPEG") + b"\0" * MAX_BYTES
    assert rejection(data, tmp_path) == "The photo is larger than 10 MB."


def png_header_only(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims `width`×`height` pixels."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")
    )


def test_decompression_bomb_header_is_refused(tmp_path):
    data = png_header_only(50_000, 50_000)
    assert len(data) < 200
    assert rejection(data, tmp_path) == "The photo has more than 40 megapixels."


def test_huge_dimensions_saved_small_are_refused(tmp_path):
    # 8000×6000 of one colour compresses to a few kilobytes but would take 48 megapixels.
    data = encode(Image.new("L", (8000, 6000), 128), "PNG", optimize=True)
    assert len(data) < 200_000
    assert rejection(data, tmp_path) == "The photo has more than 40 megapixels."


def test_forty_megapixels_limit_counts_width_times_height(tmp_path):
    data = png_header_only(100_000, 300)  # 30 MP: narrow but within the limit
    # It is within the pixel limit, so it gets as far as decoding, where the fake data fails.
    assert rejection(data, tmp_path) == "The file is not a readable JPEG, PNG, WebP or HEIC image."


def jpeg_with_exif(image: Image.Image, orientation: int) -> bytes:
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.Base.Make] = "SecretCam"
    exif[ExifTags.Base.Model] = "Model 9000"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (55.0, 45.0, 21.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (37.0, 37.0, 4.0)
    return encode(image, "JPEG", exif=exif, quality=95)


def test_exif_is_removed_and_the_photo_turned_upright(tmp_path):
    data = jpeg_with_exif(two_tone(800, 400), orientation=6)
    with Image.open(io.BytesIO(data)) as original:  # the test image really carries the tags
        assert original.getexif()[ExifTags.Base.Orientation] == 6
        assert original.getexif().get_ifd(ExifTags.IFD.GPSInfo)[ExifTags.GPS.GPSLatitudeRef] == "N"

    stored = store_photo(data, static_root=tmp_path)
    assert (stored.width, stored.height) == (400, 800)
    for relative in (stored.thumb_path, stored.large_path):
        raw = (tmp_path / relative).read_bytes()
        assert b"Exif" not in raw and b"SecretCam" not in raw and b"XMP" not in raw
        image = opened(tmp_path, relative)
        assert not image.getexif()
        assert "exif" not in image.info
    large = opened(tmp_path, stored.large_path).convert("RGB")
    assert large.size == (400, 800)
    # Orientation 6 means "turn 90° clockwise to view": the red left half ends up on top.
    top, bottom = large.getpixel((200, 100)), large.getpixel((200, 700))
    assert top[0] > 150 and top[2] < 100
    assert bottom[2] > 150 and bottom[0] < 100


def test_png_text_metadata_is_removed(tmp_path):
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Secret Person")
    info.add_text("Location", "55.75N 37.61E")
    stored = store_photo(encode(two_tone(300, 300), "PNG", pnginfo=info), static_root=tmp_path)
    raw = (tmp_path / stored.large_path).read_bytes()
    assert b"Secret Person" not in raw and b"55.75N" not in raw


def test_broken_exif_orientation_does_not_crash(tmp_path):
    data = jpeg_with_exif(two_tone(300, 200), orientation=42)
    stored = store_photo(data, static_root=tmp_path)
    assert opened(tmp_path, stored.large_path).size == (300, 200)


def test_stored_photos_and_vendor_files_are_served_with_a_long_cache_life(app, client):
    from auction.config import ROOT
    from auction.services.demo import demo_photo
    from auction.services.photos import delete_photo, store_photo

    stored = store_photo(demo_photo("Cache", 1), static_root=ROOT / "static")
    try:
        response = client.get(f"/static/{stored.thumb_path}")
        assert response.status_code == 200
        assert response.mimetype == "image/webp"
        assert "max-age=31536000" in response.headers["Cache-Control"]
    finally:
        delete_photo(stored)
    vendor = client.get("/static/vendor/htmx-2.0.11.min.js")
    assert "max-age=31536000" in vendor.headers["Cache-Control"]
    assert "max-age=31536000" not in client.get("/static/css/app.css").headers.get("Cache-Control", "")

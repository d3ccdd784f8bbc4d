"""Listing photos are written before the listing's transaction and removed when it fails."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from PIL import Image
from sqlalchemy import func, select

from auction.config import ROOT
from auction.extensions import db
from auction.models import Auction, AuctionImage
from auction.services.listings import InvalidListing, ListingDraft, create_listing

UPLOADS = ROOT / "static" / "uploads"


def png_bytes(size=(64, 48)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (40, 120, 200)).save(buffer, "PNG")
    return buffer.getvalue()


def stored_files() -> set:
    return set(UPLOADS.rglob("*.webp")) if UPLOADS.exists() else set()


def draft(**fields) -> ListingDraft:
    values = {"title": "Pocket watch", "description": "Runs well.", "start_price": 10, "duration": timedelta(hours=1)}
    return ListingDraft(**{**values, **fields})


def test_a_listing_keeps_its_photos(app, make_user):
    seller = make_user("Seller")
    before = stored_files()
    with app.app_context():
        auction_id = create_listing(seller, draft(photos=[png_bytes(), png_bytes((30, 30))]))
        images = db.session.scalars(select(AuctionImage).where(AuctionImage.auction_id == auction_id)).all()
        assert len(images) == 2
        for image in images:
            assert (ROOT / "static" / image.thumb_path).is_file() and (ROOT / "static" / image.large_path).is_file()
    assert len(stored_files() - before) == 4


def test_a_failed_insert_leaves_no_photos_behind(app, make_user):
    seller = make_user("Seller")
    before = stored_files()
    with app.app_context():
        # Valid by the listing rules, but beyond what a BIGINT column holds: the database refuses the row.
        with pytest.raises(Exception) as failed:
            create_listing(seller, draft(start_price=10**20, photos=[png_bytes(), png_bytes()]))
        assert not isinstance(failed.value, InvalidListing)
        assert db.session.scalar(select(func.count()).select_from(Auction)) == 0
    assert stored_files() - before == set()


def test_a_rejected_photo_removes_the_photos_stored_before_it(app, make_user):
    seller = make_user("Seller")
    before = stored_files()
    with app.app_context():
        with pytest.raises(InvalidListing, match="Photo 2:"):
            create_listing(seller, draft(photos=[png_bytes(), b"not an image"]))
        assert db.session.scalar(select(func.count()).select_from(Auction)) == 0
    assert stored_files() - before == set()

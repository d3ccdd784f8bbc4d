"""Helpers for money tests: real auctions to hold Stars against, and paid purchases."""

from __future__ import annotations

from datetime import timedelta
from functools import cache

from auction.services.demo import demo_photo
from auction.services.listings import ListingDraft, create_listing


@cache
def _photo() -> bytes:
    return demo_photo("Ledger", 3)


def make_auction(app, seller_id: int, title: str = "Brass telescope", start_price: int = 10) -> int:
    """A live English auction created through the listing service; returns its id."""
    with app.app_context():
        return create_listing(
            seller_id,
            ListingDraft(
                title=title,
                description="For the wallet tests.",
                start_price=start_price,
                duration=timedelta(hours=1),
                photos=[_photo()],
            ),
        )

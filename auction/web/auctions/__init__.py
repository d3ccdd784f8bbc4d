"""Auction pages: one auction live with its actions (page.py), the listing form (listing_form.py)
and its inline validation (validation.py). One blueprint, "auctions", under /auctions."""

from __future__ import annotations

from auction.web.auctions import listing_form, page, validation  # noqa: F401  (each adds its routes to bp)
from auction.web.auctions.blueprint import bp

__all__ = ["bp"]

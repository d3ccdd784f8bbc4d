"""The "auctions" blueprint the page, the listing form and its validation add their routes to."""

from __future__ import annotations

from flask import Blueprint

from auction.services import listings

bp = Blueprint("auctions", __name__, url_prefix="/auctions")
# Templates ask the service, not bid_count, whether the seller may still edit or cancel.
bp.add_app_template_global(listings.editable, "listing_editable")

"""Inline validation of the listing form: one field's message while the person types."""

from __future__ import annotations

from flask import abort, render_template, request
from flask_login import current_user, login_required

from auction.services import listings, premium
from auction.services.errors import PremiumRequired
from auction.web.auctions.blueprint import bp
from auction.web.auctions.listing_form import FormErrors, form_page, own_listing, read_listing_form
from auction.web.formatting import grouped
from auction.web.htmx import is_htmx

# The error slots each input owns: the first is where its own error goes; a shared rule
# (the duration, anti-sniping, the Dutch terms) reports under its group's slot.
FIELD_SLOTS = {
    "title": ("title",),
    "category_id": ("category_id",),
    "kind": ("kind",),
    "start_price": ("start_price",),
    "reserve_price": ("reserve_price",),
    "buy_now_price": ("buy_now_price",),
    "increment": ("increment",),
    "starts_at": ("starts_at",),
    "duration_value": ("duration_value", "duration"),
    "duration_unit": ("duration_value", "duration"),
    "snipe_window_minutes": ("snipe_window_minutes", "snipe"),
    "snipe_extension_minutes": ("snipe_extension_minutes", "snipe"),
    "dutch_floor": ("dutch_floor", "dutch"),
    "dutch_step": ("dutch_step", "dutch"),
    "dutch_interval_minutes": ("dutch_interval_minutes", "dutch"),
}


def _validation_response(errors: FormErrors, auction_id: int | None = None, kind: str | None = None):
    """The error slot of the field just left, plus (out of band) those of every field already filled in.

    Filled-in fields are re-checked too because rules tie them together (a reserve below a
    start price that just went up); empty ones stay quiet until the user reaches them or submits.
    """
    form = request.form
    if not is_htmx():
        return form_page({**form.to_dict(), **({"kind": kind} if kind else {})}, errors, auction_id)
    left = FIELD_SLOTS.get(request.headers.get("HX-Trigger-Name", ""))
    if left is None:
        abort(400)
    slots = list(left)
    for name, owned in FIELD_SLOTS.items():
        if form.get(name, "").strip():
            slots.extend(owned)
    return render_template("auctions/_field_error.html", slots=list(dict.fromkeys(slots)), errors={k: str(v) for k, v in errors.items()})


@bp.post("/new/validate")
@login_required
def validate_new():
    """Check the listing form without saving it (photos are checked on submit); a Premium type a free seller chose is said at once."""
    draft, errors = read_listing_form(request.form, request.files, editing=False)
    errors.update({k: v for k, v in listings.listing_errors(draft, photos_required=False).items() if k not in errors})
    if "kind" not in errors:
        try:
            premium.check_kind(draft.kind, premium.seller_limits(current_user.id))
        except PremiumRequired as exc:
            errors["kind"] = exc.render(grouped)
    return _validation_response(errors)


@bp.post("/<int:auction_id>/edit/validate")
@login_required
def validate_edit(auction_id: int):
    """Check the edit form without saving it."""
    auction = own_listing(auction_id)
    draft, errors = read_listing_form(request.form, request.files, editing=True)
    draft.kind = auction.kind
    errors.update({k: v for k, v in listings.listing_errors(draft, photos_required=False).items() if k not in errors})
    return _validation_response(errors, auction_id, auction.kind)

"""Auction pages: one auction live, bidding, buy now, Dutch accept, cancel, and the listing form."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required

from auction import numbers, rate_limits, stars
from auction.services import auction_view, bidding, catalog, lifecycle, listings
from auction.services.errors import CannotEdit, InsufficientFunds, ServiceError
from auction.services.listings import MAX_PHOTOS, ListingDraft
from auction.services.photos import PhotosBusy
from auction.web.chart import with_chart
from auction.web.formatting import grouped, viewer_timezone
from auction.web.htmx import fragment_or_page, is_htmx, redirect_or_hx
from auction.web.limits import accepts_uploads
from auction.web.submissions import one_effect

bp = Blueprint("auctions", __name__, url_prefix="/auctions")
# Templates ask the service, not bid_count, whether the seller may still edit or cancel.
bp.add_app_template_global(listings.editable, "listing_editable")


def _viewer_id() -> int | None:
    return current_user.id if current_user.is_authenticated else None


def _viewer_is_admin() -> bool:
    return current_user.is_authenticated and current_user.is_admin


def _page_or_404(auction_id: int, full: bool = True) -> auction_view.AuctionPage:
    page = auction_view.auction_page(auction_id, _viewer_id(), full=full, is_admin=_viewer_is_admin())
    if page is None or not page.visible:
        abort(404)
    return with_chart(page)


@bp.get("/<int:auction_id>")
def show(auction_id: int):
    """The auction page: gallery, price, bid form, history, live through SSE."""
    return render_template("auctions/show.html", page=_page_or_404(auction_id), form={}, error=None)


def _bid_response(
    auction_id: int, form: dict, error: str | None = None, funds: bool = False, message: str | None = None, page=None, warning: bool = False
):
    """The bid form again: the fragment (plus the fresh price panel) for htmx, else the full page.

    `page` is what an accepted bid's transaction already holds; without it the page is read.
    The bid history reaches every open page, this one included, through the live stream.
    """
    page = page or _page_or_404(auction_id, full=not is_htmx())
    status = 200 if error is None else (402 if funds else 422)
    return fragment_or_page(
        "auctions/_bid_response.html", "auctions/show.html", status,
        page=page, form=form, error=error, funds_link=funds, message=message, message_warning=warning,
    )


@bp.post("/<int:auction_id>/bids")
@login_required
@rate_limits.limit("BIDS")
def place_bid(auction_id: int):
    """Place a bid (or raise a proxy maximum, or a sealed bid)."""
    form = {"amount": request.form.get("amount", ""), "max_amount": request.form.get("max_amount", "")}
    try:
        amount = stars.read(form["amount"])
        maximum = stars.read(form["max_amount"])
    except stars.InvalidStars as exc:
        return _bid_response(auction_id, form, str(exc))
    if amount is None and maximum is None:
        return _bid_response(auction_id, form, _("Enter your bid."))
    try:
        result = bidding.place_bid(auction_id, current_user.id, maximum, source="web", amount=amount)
    except InsufficientFunds as exc:
        return _bid_response(auction_id, form, exc.render(grouped), funds=True)
    except ServiceError as exc:
        if exc.status == 404:
            abort(404)
        return _bid_response(auction_id, form, exc.render(grouped))
    if result.leading:
        message = _("Your bid is in: you are the highest bidder.")
    elif result.sealed:
        message = _("Your sealed bid is in. Amounts stay hidden until the end.")
    else:
        message = _("Your bid is in, but another bidder's maximum is higher. You have been outbid.")
    outbid = not result.leading and not result.sealed
    if not is_htmx():
        flash(message, "warning" if outbid else "success")
        return redirect(url_for("auctions.show", auction_id=auction_id), 303)
    return _bid_response(auction_id, {}, message=message, page=auction_view.page_after_bid(result.box, result.viewer), warning=outbid)


@bp.get("/<int:auction_id>/bids")
def bids_address(auction_id: int):
    """A reload of the address a plain-form bid error left in the bar: back to the auction."""
    return redirect(url_for("auctions.show", auction_id=auction_id), 303)


def _run_and_report(auction_id: int, action) -> object:
    """Run a one-shot action (buy now, accept, cancel); report the outcome on the auction page."""
    try:
        message = action()
    except ServiceError as exc:
        if exc.status == 404:
            abort(404)
        # "funds" renders as an error with a link to the wallet (templates/_partials/flashes.html).
        flash(exc.render(grouped), "funds" if isinstance(exc, InsufficientFunds) else "error")
    else:
        flash(message, "success")
    return redirect(url_for("auctions.show", auction_id=auction_id), 303)


# The one-press actions that move money or end an auction; each asks for a confirming press first.
CONFIRMS = ("buy-now", "accept", "cancel")


@bp.get("/<int:auction_id>/<any('buy-now', accept, cancel):action>")
@login_required
def confirm(auction_id: int, action: str):
    """A second look before buying now, accepting a Dutch price or cancelling: what happens, and the amount."""
    page = _page_or_404(auction_id, full=False)
    allowed = {"buy-now": page.viewer.can_buy_now, "accept": page.viewer.can_accept, "cancel": page.viewer.cancellable}[action]
    return fragment_or_page("auctions/_confirm.html", "auctions/confirm.html", 200 if allowed else 409, page=page, action=action, allowed=allowed)


@bp.post("/<int:auction_id>/buy-now")
@login_required
@rate_limits.limit("BIDS")
def buy_now(auction_id: int):
    """Buy at the buy-it-now price; ends the auction."""

    def act():
        result = lifecycle.buy_now(auction_id, current_user.id, source="web")
        return _("You bought it for %(price)s Stars.", price=grouped(result.price))

    return _run_and_report(auction_id, act)


@bp.post("/<int:auction_id>/accept")
@login_required
def accept(auction_id: int):
    """Accept the current Dutch price."""

    def act():
        result = lifecycle.accept_dutch(auction_id, current_user.id, source="web")
        return _("You bought it for %(price)s Stars.", price=grouped(result.price))

    return _run_and_report(auction_id, act)


@bp.post("/<int:auction_id>/cancel")
@login_required
def cancel(auction_id: int):
    """Cancel a listing (the seller before the first bid, an admin any time)."""

    def act():
        lifecycle.cancel_auction(auction_id, current_user.id)
        return _("The auction was cancelled.")

    return _run_and_report(auction_id, act)


# --- the listing form -------------------------------------------------------------------

DURATION_UNITS = {"minutes": 60, "hours": 3600, "days": 86400}


class FormErrors(dict):
    """Field name -> message, filled while reading the form."""


# Far above any real price or duration, and small enough that no timedelta or column overflows.
MAX_FORM_NUMBER = 100_000_000


def _int_field(form, name: str, errors: FormErrors, required: bool = False) -> int | None:
    # A minus sign is read, not refused: the listing rules say what a negative value breaks.
    text = (form.get(name) or "").strip()
    negative = text.startswith(("-", "\u2212"))
    try:
        value = stars.read(text[1:] if negative else text)
    except stars.InvalidStars:
        errors[name] = _("Enter a whole number.")
        return None
    if value is None:
        if negative:
            errors[name] = _("Enter a whole number.")
        elif required:
            errors[name] = _("This field is required.")
        return None
    if negative:
        value = -value
    if abs(value) > MAX_FORM_NUMBER:
        errors[name] = _("This number is too large.")
        return None
    return value


def _read_listing_form(form, files, editing: bool) -> tuple[ListingDraft | None, FormErrors]:
    """The draft the form describes, and what could not even be read."""
    errors = FormErrors()
    start_price = _int_field(form, "start_price", errors, required=True)
    duration_value = _int_field(form, "duration_value", errors, required=True)
    unit = DURATION_UNITS.get(form.get("duration_unit", "days"))
    if unit is None:
        errors["duration"] = _("Choose minutes, hours or days.")
        unit = 0
    window = _int_field(form, "snipe_window_minutes", errors)
    extension = _int_field(form, "snipe_extension_minutes", errors)
    dutch_interval = _int_field(form, "dutch_interval_minutes", errors)
    category = form.get("category_id") or None
    if category is not None and numbers.read_id(category) is None:
        errors["category_id"] = _("Choose a category from the list.")
        category = None
    starts_at = None
    if not editing and form.get("start_mode") == "later":
        starts_at = _parse_local_time(form.get("starts_at", ""))
        if starts_at is None:
            errors["starts_at"] = _("Pick the date and time the auction opens.")
    photos = []
    if not editing:
        photos = [f.read() for f in files.getlist("photos") if f and f.filename]
    draft = ListingDraft(
        title=form.get("title", ""),
        description=form.get("description", ""),
        start_price=start_price or 0,
        duration=timedelta(seconds=(duration_value or 0) * unit),
        kind=form.get("kind", "english"),
        category_id=int(category) if category else None,
        reserve_price=_int_field(form, "reserve_price", errors),
        buy_now_price=_int_field(form, "buy_now_price", errors),
        increment=_int_field(form, "increment", errors),
        starts_at=starts_at,
        snipe_window_seconds=None if window is None else window * 60,
        snipe_extension_seconds=None if extension is None else extension * 60,
        dutch_floor=_int_field(form, "dutch_floor", errors),
        dutch_step=_int_field(form, "dutch_step", errors),
        dutch_interval_seconds=None if dutch_interval is None else dutch_interval * 60,
        photos=photos,
        relists=0 if editing else (_int_field(form, "relists", errors) or 0),
    )
    return draft, errors


EARLIEST_DATE = datetime(2000, 1, 1, tzinfo=UTC)
LATEST_DATE = datetime(2100, 1, 1, tzinfo=UTC)  # far past every rule, far from datetime's end


def _parse_local_time(value: str) -> datetime | None:
    """A `datetime-local` value, read in the zone the form names next to it."""
    try:
        naive = datetime.fromisoformat(value.strip())
        local = naive.replace(tzinfo=ZoneInfo(viewer_timezone())) if naive.tzinfo is None else naive
        moment = local.astimezone(UTC)
    except (ValueError, OverflowError):  # not a date, or beyond year 1-9999 once moved to UTC
        return None
    if not EARLIEST_DATE <= moment <= LATEST_DATE:
        return None  # "pick the date": the listing rules then say how far ahead it may be
    return moment


def _form_page(form: dict, errors: dict, auction_id: int | None = None):
    context = {
        "form": form,
        "errors": {k: str(v) for k, v in errors.items()},
        "categories": catalog.categories(),
        "auction_id": auction_id,
        "max_photos": MAX_PHOTOS,
        "kind_terms": listings.KIND_TERMS,
        "default_snipe_minutes": listings.DEFAULT_SNIPE_SECONDS // 60,
        "max_auto_relists": listings.MAX_AUTO_RELISTS,
    }
    return fragment_or_page("auctions/_listing_form.html", "auctions/new.html", 422 if errors else 200, **context)


# The anti-sniping fields start empty (their placeholder shows the usual 2 minutes): a Dutch
# auction, which has none, is then listed as it is without JavaScript too.
LISTING_DEFAULTS = {"kind": "english", "duration_value": "7", "duration_unit": "days", "start_mode": "now"}


@bp.get("/new")
@login_required
def new():
    """The listing form."""
    return _form_page(dict(LISTING_DEFAULTS), {})


@bp.post("/new")
@rate_limits.limit("LISTINGS")
@accepts_uploads
@login_required
@one_effect("listing")
def create():
    """Store a new listing; errors come back next to their fields."""
    form = request.form.to_dict()
    draft, errors = _read_listing_form(request.form, request.files, editing=False)
    errors.update({k: v for k, v in listings.listing_errors(draft).items() if k not in errors})
    if errors:
        return _form_page(form, _photos_again(errors, draft))
    try:
        auction_id = listings.create_listing(current_user.id, draft)
    except listings.InvalidListing as exc:
        return _form_page(form, _photos_again(exc.errors or {"form": exc}, draft))
    except PhotosBusy as exc:
        return _form_page(form, _photos_again({"form": exc}, draft))
    flash(_("Your auction is listed."), "success")
    return redirect_or_hx(url_for("auctions.show", auction_id=auction_id))


def _photos_again(errors: dict, draft: ListingDraft) -> dict:
    """Say that the chosen photos are gone: no browser refills a file input in a page sent back."""
    if draft.photos and "photos" not in errors:
        errors = {**errors, "photos": ngettext(
            "Your photo was not kept because of the errors above. Choose it again.",
            "Your %(num)d photos were not kept because of the errors above. Choose them again.",
            len(draft.photos),
        )}
    return errors


def _edit_values(auction) -> dict:
    seconds = int((auction.ends_at - auction.starts_at).total_seconds())
    unit = next(u for u in ("days", "hours", "minutes") if seconds % DURATION_UNITS[u] == 0)
    values = {name: "" if getattr(auction, name) is None else str(getattr(auction, name)) for name in listings.EDITABLE_FIELDS}
    values.update(
        kind=auction.kind,
        duration_value=str(seconds // DURATION_UNITS[unit]),
        duration_unit=unit,
        snipe_window_minutes=str(auction.snipe_window_seconds // 60),
        snipe_extension_minutes=str(auction.snipe_extension_seconds // 60),
        dutch_interval_minutes=str(auction.dutch_interval_seconds // 60) if auction.dutch_interval_seconds else "",
    )
    return values


def _own_listing(auction_id: int):
    """The signed-in seller's own auction, else 404 (no such auction) or 403 (someone else's)."""
    auction = catalog.get_auction(auction_id)
    if auction is None:
        abort(404)
    if auction.seller_id != current_user.id:
        abort(403)
    return auction


@bp.route("/<int:auction_id>/edit", methods=["GET", "POST"])
@rate_limits.limit("LISTINGS", methods=["POST"])
@accepts_uploads
@login_required
def edit(auction_id: int):
    """Change a listing before its first bid (seller only)."""
    auction = _own_listing(auction_id)
    if not listings.editable(auction):
        flash(str(CannotEdit()), "error")
        return redirect(url_for("auctions.show", auction_id=auction_id))
    if request.method == "GET":
        return _form_page(_edit_values(auction), {}, auction_id)
    form = {**request.form.to_dict(), "kind": auction.kind}
    draft, errors = _read_listing_form(request.form, request.files, editing=True)
    draft.kind = auction.kind
    errors.update({k: v for k, v in listings.listing_errors(draft, photos_required=False).items() if k not in errors})
    if errors:
        return _form_page(form, errors, auction_id)
    try:
        listings.update_listing(auction_id, current_user.id, draft)
    except listings.InvalidListing as exc:
        return _form_page(form, exc.errors or {"form": exc}, auction_id)
    except ServiceError as exc:
        flash(str(exc), "error")
    else:
        flash(_("Your changes are saved."), "success")
    return redirect_or_hx(url_for("auctions.show", auction_id=auction_id))


# --- inline validation of the listing form ----------------------------------------------

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
        return _form_page({**form.to_dict(), **({"kind": kind} if kind else {})}, errors, auction_id)
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
    """Check the listing form without saving it (photos are checked on submit)."""
    draft, errors = _read_listing_form(request.form, request.files, editing=False)
    errors.update({k: v for k, v in listings.listing_errors(draft, photos_required=False).items() if k not in errors})
    return _validation_response(errors)


@bp.post("/<int:auction_id>/edit/validate")
@login_required
def validate_edit(auction_id: int):
    """Check the edit form without saving it."""
    auction = _own_listing(auction_id)
    draft, errors = _read_listing_form(request.form, request.files, editing=True)
    draft.kind = auction.kind
    errors.update({k: v for k, v in listings.listing_errors(draft, photos_required=False).items() if k not in errors})
    return _validation_response(errors, auction_id, auction.kind)

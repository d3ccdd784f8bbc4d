"""The listing form: reading it, its photos (kept uploads, order, cover), new and edit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import abort, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from auction import numbers, rate_limits, stars
from auction.services import catalog, listings, premium, uploads
from auction.services.errors import CannotEdit, PremiumRequired, ServiceError
from auction.services.listings import ListingDraft, PhotoRef
from auction.services.photos import PhotosBusy
from auction.web.auctions.blueprint import bp
from auction.web.formatting import grouped, viewer_timezone
from auction.web.htmx import fragment_or_page, redirect_or_hx
from auction.web.limits import accepts_uploads
from auction.web.submissions import one_effect

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


def read_listing_form(form, files, editing: bool) -> tuple[ListingDraft | None, FormErrors]:
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
        starts_at = parse_local_time(form.get("starts_at", ""))
        if starts_at is None:
            errors["starts_at"] = _("Pick the date and time the auction opens.")
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
        relists=0 if editing else (_int_field(form, "relists", errors) or 0),
    )
    return draft, errors


EARLIEST_DATE = datetime(2000, 1, 1, tzinfo=UTC)
LATEST_DATE = datetime(2100, 1, 1, tzinfo=UTC)  # far past every rule, far from datetime's end


def parse_local_time(value: str) -> datetime | None:
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


def form_page(
    form: dict,
    errors: dict,
    auction_id: int | None = None,
    photos: list[FormPhoto] | None = None,
    fee_percent: int | None = None,
    premium_field: str | None = None,
):
    """The listing form; `premium_field` is the field a Premium refusal belongs to.

    The fee stated is the one the listing will get (the seller's plan now), or an edited auction's own.
    """
    limits = premium.seller_limits(current_user.id)
    if auction_id is not None and fee_percent is None:
        fee_percent = catalog.get_auction(auction_id).fee_percent
    context = {
        "form": form,
        "photos": photos or [],
        "errors": {k: str(v) for k, v in errors.items()},
        "categories": catalog.categories(),
        "auction_id": auction_id,
        "max_photos": limits.allowance.photos,
        "limits": limits,
        "fee_percent": limits.allowance.fee_percent if fee_percent is None else fee_percent,
        "premium_field": premium_field,
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
    return form_page(dict(LISTING_DEFAULTS), {})


@bp.post("/new")
@rate_limits.limit("LISTINGS")
@accepts_uploads
@login_required
@one_effect("listing")
def create():
    """Store a new listing; errors come back next to their fields, the photos already sent kept."""
    form = request.form.to_dict()
    draft, errors = read_listing_form(request.form, request.files, editing=False)
    photos = _form_photos(draft, errors, None)
    errors.update({k: v for k, v in listings.listing_errors(draft, max_photos=listings.photo_limit(current_user.id)).items() if k not in errors})
    if errors:
        return form_page(form, errors, photos=photos)
    try:
        auction_id = listings.create_listing(current_user.id, draft)
    except listings.InvalidListing as exc:
        return form_page(form, exc.errors or {"form": exc}, photos=photos)
    except PhotosBusy as exc:
        return form_page(form, {"form": exc}, photos=photos)
    except (PremiumRequired, premium.LiveLimitReached, premium.TooManyPhotos) as exc:
        refusal = exc.render(grouped)
        return form_page(form, {exc.field: refusal}, photos=photos, premium_field=exc.field if isinstance(exc, PremiumRequired) else None)
    flash(_("Your auction is listed."), "success")
    return redirect_or_hx(url_for("auctions.show", auction_id=auction_id))


# More photo entries than any real form lists are ignored (each costs a signature check).
MAX_FORM_PHOTOS = 50


@dataclass(frozen=True)
class FormPhoto:
    """A photo the listing form lists: its key in the form, what it is, its thumbnail (static-relative)."""

    key: str  # "image-<id>" (the auction's own) or "upload-<signed token>" (a kept upload)
    ref: PhotoRef
    thumb_path: str


def _listed_photos(auction) -> list[FormPhoto]:
    return [FormPhoto(f"image-{image.id}", PhotoRef(image_id=image.id), image.thumb_path) for image in auction.images]


def _form_photos(draft: ListingDraft, errors: FormErrors, auction) -> list[FormPhoto]:
    """Read the form's photos into `draft.photo_order` (kept ones in the chosen order, cover first, then the new files).

    New files that pass their checks are stored at once as kept uploads, so an error anywhere
    on the form does not ask for them again; what is wrong with a photo goes to errors["photos"].
    """
    form, problems = request.form, []
    keys = list(dict.fromkeys(form.getlist("photo")))[:MAX_FORM_PHOTOS]
    files = [f.read() for f in request.files.getlist("photos") if f and f.filename]
    if auction is not None and not keys and not files:
        return _listed_photos(auction)  # a form without the photo list (an older page): the photos stay
    chosen = []
    for index, key in enumerate(keys):
        if form.get(f"remove-{key}"):
            continue
        position = numbers.read_id((form.get(f"position-{key}") or "").strip())
        chosen.append((position if position is not None else index + 1, index, key))
    chosen.sort()
    order = [key for _position, _index, key in chosen]
    cover = form.get("cover")
    if cover in order:
        order.remove(cover)
        order.insert(0, cover)
    photos = _resolve_photos(order, auction, problems)
    limit = listings.photo_limit(current_user.id)
    if len(photos) + len(files) > limit:
        problems.append(_("A listing has at most %(max)d photos; you chose %(num)d. Choose fewer.", max=limit, num=len(photos) + len(files)))
    elif files:
        try:
            staged = uploads.stage_photos(current_user.id, files, current_app.config["SECRET_KEY"], first_number=len(photos) + 1)
        except PhotosBusy as exc:
            problems.append(str(exc))
        else:
            photos += [FormPhoto(f"upload-{kept.token}", PhotoRef(upload_id=kept.upload_id), kept.thumb_path) for kept in staged.kept]
            problems += staged.problems
    draft.photo_order = [photo.ref for photo in photos]
    if problems:
        errors["photos"] = " ".join(dict.fromkeys(problems))
    return photos


def _resolve_photos(keys: list[str], auction, problems: list) -> list[FormPhoto]:
    """The form's photo keys as photos; a key that names nothing usable adds its reason to `problems`."""
    own = {f"image-{image.id}": image for image in auction.images} if auction is not None else {}
    photos, upload_keys = [], {}
    for key in keys:
        if key.startswith("upload-"):
            try:
                upload_keys[key] = uploads.read_upload(key.removeprefix("upload-"), current_user.id, current_app.config["SECRET_KEY"])
            except uploads.UploadRefused as exc:
                problems.append(str(exc))
    stored = uploads.kept_photos(current_user.id, list(upload_keys.values()))
    for key in keys:
        if key in own:
            photos.append(FormPhoto(key, PhotoRef(image_id=own[key].id), own[key].thumb_path))
        elif upload_keys.get(key) in stored:
            photos.append(FormPhoto(key, PhotoRef(upload_id=upload_keys[key]), stored[upload_keys[key]].thumb_path))
        elif key in upload_keys or not key.startswith("upload-"):  # a refused token has said why already
            problems.append(_("A photo of this form is no longer stored. Choose it again."))
    return photos


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


def own_listing(auction_id: int):
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
    auction = own_listing(auction_id)
    if not listings.editable(auction):
        flash(str(CannotEdit()), "error")
        return redirect(url_for("auctions.show", auction_id=auction_id))
    if request.method == "GET":
        return form_page(_edit_values(auction), {}, auction_id, _listed_photos(auction), auction.fee_percent)
    form = {**request.form.to_dict(), "kind": auction.kind}
    draft, errors = read_listing_form(request.form, request.files, editing=True)
    draft.kind = auction.kind
    photos = _form_photos(draft, errors, auction)
    errors.update({k: v for k, v in listings.listing_errors(draft, photos_required=False, max_photos=listings.photo_limit(current_user.id)).items() if k not in errors})
    if errors:
        return form_page(form, errors, auction_id, photos, auction.fee_percent)
    try:
        listings.update_listing(auction_id, current_user.id, draft)
    except listings.InvalidListing as exc:
        return form_page(form, exc.errors or {"form": exc}, auction_id, photos, auction.fee_percent)
    except (PremiumRequired, premium.TooManyPhotos) as exc:
        refusal = exc.render(grouped)
        return form_page(form, {exc.field: refusal}, auction_id, photos, auction.fee_percent,
                          premium_field=exc.field if isinstance(exc, PremiumRequired) else None)
    except ServiceError as exc:
        flash(str(exc), "error")
    else:
        flash(_("Your changes are saved."), "success")
    return redirect_or_hx(url_for("auctions.show", auction_id=auction_id))

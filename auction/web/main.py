"""Public pages: the home page with live auctions, the language and time zone switches, liveness."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, session, url_for
from flask_login import current_user

from auction import i18n
from auction.services import catalog, users
from auction.web.auth import safe_next
from auction.web.htmx import is_htmx

bp = Blueprint("main", __name__)


@bp.get("/")
def index():
    """The live auctions (of one category with ?category=<slug>): featured (Premium sellers') first, then ending soonest."""
    categories = catalog.categories()
    slug = request.args.get("category", "")
    category = next((c for c in categories if c.slug == slug), None)
    if slug and category is None:
        abort(404)
    shown = catalog.showcase(category=category)
    context = {"auctions": shown.auctions, "featured_ids": shown.featured, "categories": categories, "category": category}
    # A history restore after a pill was pressed needs the whole page, not the grid.
    if is_htmx() and request.headers.get("HX-History-Restore-Request") != "true":
        return render_template("_partials/listing.html", **context)
    return render_template("index.html", **context)


@bp.post("/locale")
def set_locale():
    """Switch the interface language for this visitor (and remember it for a user)."""
    locale = i18n.supported(request.form.get("locale")) or i18n.DEFAULT_LANGUAGE
    session["locale"] = locale
    if current_user.is_authenticated:
        users.set_locale(current_user.id, locale)
    return redirect(safe_next(request.form.get("next")) or url_for("main.index"))


@bp.post("/timezone")
def set_timezone():
    """Remember the time zone app.js read from the browser (the session's, and the user's when signed in)."""
    name = request.form.get("timezone", "").strip()
    if not users.is_timezone(name):
        return {"error": str(users.InvalidTimezone())}, 400
    session["timezone"] = name
    if current_user.is_authenticated:
        users.set_timezone(current_user.id, name)
    return "", 204


@bp.get("/healthz")
def healthz():
    """Liveness: a trivial 200 (also the benchmarks' baseline)."""
    return {"status": "ok"}

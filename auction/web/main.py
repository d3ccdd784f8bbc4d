"""Public pages: the home page with live auctions, the language switch, liveness."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, session, url_for
from flask_login import current_user

from auction.services import catalog, users
from auction.web.auth import safe_next

bp = Blueprint("main", __name__)


@bp.get("/")
def index():
    """The live auctions, newest ending first."""
    return render_template("index.html", auctions=catalog.live_auctions(), categories=catalog.categories())


@bp.post("/locale")
def set_locale():
    """Switch the interface language for this visitor (and remember it for a user)."""
    locale = request.form.get("locale", "en")
    if locale not in ("en", "ru"):
        locale = "en"
    session["locale"] = locale
    if current_user.is_authenticated:
        users.set_locale(current_user.id, locale)
    return redirect(safe_next(request.form.get("next")) or url_for("main.index"))


@bp.get("/healthz")
def healthz():
    """Liveness: a trivial 200 (also the benchmarks' baseline)."""
    return {"status": "ok"}

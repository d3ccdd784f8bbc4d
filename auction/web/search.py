"""The search page: words, filters and sorts in the URL, results live like the home page, saved searches."""

from __future__ import annotations

from urllib.parse import parse_qsl

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from auction.services import catalog, saved_searches, search
from auction.services.errors import ServiceError
from auction.web.htmx import is_htmx

bp = Blueprint("search", __name__)


@bp.get("/search")
def index():
    """Auctions matching the words and filters in the URL; an htmx request gets the results alone."""
    search_request = search.parse_request(request.args)
    context = _context(search_request)
    # A history restore needs the whole page, not the results.
    if is_htmx() and request.headers.get("HX-History-Restore-Request") != "true":
        # The form sends every field, empty ones too: the address bar gets the short, canonical URL.
        return render_template("search/_results.html", **context), {"HX-Push-Url": context["page_url"](search_request.page)}
    return render_template("search/index.html", **context)


@bp.post("/search/saved")
def save():
    """Keep the search described by the form's `query` (the page's URL query) for the signed-in person."""
    search_request = search.parse_request(dict(parse_qsl(request.form.get("query", "")[:2000])))
    back = url_for("search.index") + ("?" + search_request.query_string() if search_request.query_string() else "")
    if not current_user.is_authenticated:
        target = url_for("auth.login", next=back)
        return ("", 204, {"HX-Redirect": target}) if is_htmx() else redirect(target)
    try:
        saved_searches.save_search(current_user.id, search_request)
    except ServiceError as exc:
        return _saved_answer(back, error=str(exc))
    return _saved_answer(back, notice=_("Search saved. We will tell you in Telegram when a new auction matches it."))


@bp.post("/search/saved/<int:saved_search_id>/delete")
def delete(saved_search_id: int):
    """Forget one of the signed-in person's saved searches."""
    if not current_user.is_authenticated:
        abort(404)
    try:
        saved_searches.delete_saved_search(current_user.id, saved_search_id)
    except ServiceError as exc:
        abort(exc.status if exc.status in (403, 404) else 400)
    return _saved_answer(request.form.get("back") or url_for("search.index"), notice=_("Saved search deleted."))


def _saved_answer(back: str, notice: str | None = None, error: str | None = None):
    if not back.startswith("/search"):
        back = url_for("search.index")
    if is_htmx():
        return render_template("search/_saved.html", saved=_saved_rows(), notice=notice, error=error, back=back)
    flash(error or notice, "error" if error else "success")
    return redirect(back)


def _saved_rows() -> list:
    if not current_user.is_authenticated:
        return []
    return saved_searches.saved_searches(current_user.id, str(get_locale()))


def _context(search_request: search.SearchRequest) -> dict:
    results = search.search(search_request)
    here = url_for("search.index") + ("?" + search_request.query_string() if search_request.query_string() else "")
    return {
        "results": results,
        "search_request": search_request,
        "categories": catalog.categories(),
        "saved": _saved_rows(),
        "here": here,
        "page_url": lambda page: url_for("search.index", **search_request.args(page=page)),
    }

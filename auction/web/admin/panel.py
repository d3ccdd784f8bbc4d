"""The admin panel's blueprint and what its views share: the 404 gate, running a service, going back."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, request, url_for
from flask_login import current_user

from auction.services import ratings, staff
from auction.services.errors import ServiceError
from auction.web.formatting import grouped

bp = Blueprint("admin", __name__, url_prefix="/admin")


def admin_ids() -> frozenset[int]:
    return current_app.config["ADMIN_TELEGRAM_IDS"]


@bp.app_template_global("is_admin_viewer")
def is_admin_viewer() -> bool:
    """Whether the signed-in person is an admin (the header's "Admin" link)."""
    return current_user.is_authenticated and staff.is_admin(current_user, admin_ids())


@bp.app_template_global("admin_endpoints")
def admin_endpoints() -> set[str]:
    """The admin pages this app has (the tabs link only to those)."""
    return {rule.endpoint for rule in current_app.url_map.iter_rules() if rule.endpoint.startswith("admin.")}


@bp.context_processor
def nav_counts() -> dict:
    """What waits for an admin, for the count badges on the panel's tabs."""
    return {"open_review_reports": ratings.open_report_count()}


@bp.before_request
def only_admins():
    # 404, not 403: the panel does not admit it exists to anyone else.
    if not is_admin_viewer():
        abort(404)


def run(action, *args, success: str | None = None, **kwargs) -> bool:
    """Call a service for a form post; a refusal is flashed in the admin's language. True when it went through."""
    try:
        action(*args, **kwargs)
    except ServiceError as exc:
        flash(exc.render(grouped), "error")
        return False
    if success:
        flash(success, "success")
    return True


def back(endpoint: str, **values):
    """Redirect (303) to `endpoint`, keeping the list's query (search, filter) the form carried."""
    query = {key: value for key, value in request.form.items() if key.startswith("q_") and value}
    return redirect(url_for(endpoint, **values, **{key[2:]: value for key, value in query.items()}), 303)

"""The web notification centre (/notifications, the bell, the toast) and the settings page (/settings)."""

from __future__ import annotations

import logging

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from auction.extensions import csrf
from auction.services import notifications, push
from auction.services.errors import ServiceError
from auction.web.htmx import is_htmx

bp = Blueprint("notifications", __name__)
log = logging.getLogger("auction.push")

MAX_PAGE = 100_000
CHANNEL_NAMES = {"telegram": _l("Telegram"), "web": _l("On the site"), "email": _l("Email"), "push": _l("Push")}


@bp.app_template_global("unread_notifications")
def unread_notifications() -> int:
    """The signed-in reader's unread count, for the bell in the header."""
    return notifications.unread_count(current_user.id) if current_user.is_authenticated else 0


@bp.get("/notifications")
@login_required
def index():
    """The reader's notifications, newest first, a page at a time."""
    page = min(max(1, request.args.get("page", 1, type=int)), MAX_PAGE)
    listing = notifications.page_of(current_user.id, page)
    template = "notifications/_list.html" if is_htmx() and request.headers.get("HX-Target") == "notification-list" else "notifications/index.html"
    return render_template(template, listing=listing)


@bp.post("/notifications/<int:notification_id>/read")
@login_required
def mark_read(notification_id: int):
    """Mark one notification read."""
    try:
        unread = notifications.mark_read(current_user.id, notification_id)
    except ServiceError as exc:
        abort(exc.status)
    if is_htmx():
        item = notifications.one(current_user.id, notification_id)
        if item is None:
            abort(404)
        return render_template("notifications/_item.html", item=item, unread=unread, oob_bell=True)
    return redirect(request.form.get("next") or url_for("notifications.index"), 303)


@bp.post("/notifications/read-all")
@login_required
def mark_all_read():
    """Mark every notification read."""
    notifications.mark_all_read(current_user.id)
    if is_htmx():
        listing = notifications.page_of(current_user.id, 1)
        return render_template("notifications/_list.html", listing=listing, oob_bell=True)
    flash(_("All notifications are marked as read."), "success")
    return redirect(url_for("notifications.index"), 303)


@bp.get("/settings")
@login_required
def settings():
    """Notification preferences per kind and channel, quiet hours, reminders and the email address."""
    from auction.services import email

    key = _push_public_key()
    return render_template(
        "notifications/settings.html",
        rows=notifications.preferences(current_user.id),
        quiet=notifications.quiet_hours(current_user.id),
        channels=[c for c in notifications.CHANNELS if c != "push" or key],
        channel_names=CHANNEL_NAMES,
        email_state=email.email_state(current_user.id),
        email_enabled=email.enabled(),
        push_key=key,
        push_browsers=push.browsers(current_user.id) if key else [],
    )


def _push_public_key() -> str | None:
    """The VAPID public key browsers subscribe with, or None when push is off (or its key is broken)."""
    if not push.enabled():
        return None
    try:
        return push.public_key(current_app.config["PUSH_NOTIFICATION_SERVICE_KEY"])
    except ValueError as error:
        log.error("push: %s", error)
        return None


@bp.post("/settings/notifications")
@login_required
def set_preference():
    """Turn one kind on one channel on or off (an htmx toggle, or a plain form)."""
    kind, channel = request.form.get("kind", ""), request.form.get("channel", "")
    enabled = request.form.get("enabled") == "1"
    try:
        notifications.set_preference(current_user.id, kind, channel, enabled)
    except ServiceError as exc:
        abort(exc.status if exc.status in (400, 404) else 400)
    if is_htmx():
        row = next(r for r in notifications.preferences(current_user.id) if r.kind == kind)
        return render_template("notifications/_toggle.html", row=row, channel=channel, channel_names=CHANNEL_NAMES)
    flash(_("Your notification settings are saved."), "success")
    return redirect(url_for("notifications.settings") + f"#kind-{kind}", 303)


@bp.post("/settings/quiet-hours")
@login_required
def set_quiet_hours():
    """Store quiet hours and reminder lead times."""
    error = None
    try:
        notifications.set_quiet_hours(
            current_user.id, request.form.get("quiet_from"), request.form.get("quiet_until"), request.form.get("reminders")
        )
    except ServiceError as exc:
        error = str(exc)
    if is_htmx():
        quiet = notifications.quiet_hours(current_user.id)
        form = request.form if error else None
        return render_template("notifications/_quiet_hours.html", quiet=quiet, error=error, form=form, saved=not error)
    flash(error or _("Your notification settings are saved."), "error" if error else "success")
    return redirect(url_for("notifications.settings"), 303)


def render_created(app: Flask, data: dict, locale: str) -> list[tuple[str, str]]:
    """The bell's new count and a toast, pushed on the person's own channel."""
    from auction.extensions import db
    from auction.models import Notification

    row = db.session.get(Notification, data["notification_id"])
    if row is None:
        return []
    view = notifications.one(row.user_id, row.id)
    unread = notifications.unread_count(row.user_id)
    fragments = [("notification-bell", render_template("notifications/_bell_count.html", unread=unread))]
    if view is not None:
        fragments.append(("notification-toast", render_template("notifications/_toast.html", item=view)))
    return fragments


def render_read(app: Flask, data: dict, locale: str) -> list[tuple[str, str]]:
    """The bell's count after the person read some (in another tab, or the bot)."""
    unread = notifications.unread_count(data["user_id"])
    return [("notification-bell", render_template("notifications/_bell_count.html", unread=unread))]


# -- web push --------------------------------------------------------------------------------


def _subscription_json() -> dict:
    data = request.get_json(silent=True)
    return data if isinstance(data, dict) else {}


@bp.post("/settings/push")
@login_required
def subscribe_push():
    """Store this browser's push subscription (the Push API's `PushSubscription.toJSON()`, as JSON)."""
    data = _subscription_json()
    keys = data.get("keys") if isinstance(data.get("keys"), dict) else {}
    values = [data.get("endpoint"), keys.get("p256dh"), keys.get("auth")]
    if not all(isinstance(value, str) for value in values):
        return jsonify(error=str(push.InvalidSubscription.message)), 400
    try:
        push.subscribe(current_user.id, *values, user_agent=request.user_agent.string)
    except ServiceError as exc:
        return jsonify(error=str(exc)), exc.status
    return jsonify(ok=True, message=_("Push is on for this browser."))


@bp.post("/settings/push/remove")
@login_required
def unsubscribe_push():
    """Forget this browser's push subscription ({"endpoint": ...} as JSON)."""
    endpoint = _subscription_json().get("endpoint")
    if not isinstance(endpoint, str) or not endpoint:
        return jsonify(error=str(push.InvalidSubscription.message)), 400
    push.unsubscribe(current_user.id, endpoint)
    return jsonify(ok=True, message=_("Push is off for this browser."))


@bp.get("/sw.js")
def service_worker():
    """The push service worker, from the site's root so it may control every page."""
    response = send_from_directory(current_app.static_folder, "js/service-worker.js", mimetype="text/javascript", max_age=0)
    response.headers["Service-Worker-Allowed"] = "/"
    response.headers["Cache-Control"] = "no-cache"
    return response


# -- email -----------------------------------------------------------------------------------


@bp.post("/settings/email")
@login_required
def set_email():
    """Add (or replace) the address and mail it a confirmation link; or remove it."""
    from auction.services import email

    try:
        if request.form.get("remove"):
            email.remove_address(current_user.id)
            message = _("Your email address was removed; no more emails will be sent.")
        else:
            address = email.request_confirmation(current_user.id, request.form.get("email", ""))
            message = _("We sent a confirmation link to %(address)s. Open it to start getting emails.", address=address)
        error = None
    except ServiceError as exc:
        error, message = str(exc), None
    if is_htmx():
        return render_template(
            "notifications/_email.html", email_state=email.email_state(current_user.id), email_enabled=email.enabled(),
            error=error, message=message, typed=request.form.get("email", "") if error else None,
        )
    flash(error or message, "error" if error else "success")
    return redirect(url_for("notifications.settings"), 303)


@bp.route("/settings/email/confirm", methods=["GET", "POST"])
def confirm_email():
    """GET shows a button (mail scanners open links); the POST confirms the address."""
    from auction.services import email

    token = request.values.get("token", "")
    if request.method == "GET":
        return render_template("notifications/confirm_email.html", token=token)
    try:
        email.confirm(token)
    except ServiceError as exc:
        return render_template("notifications/confirm_email.html", token=None, error=str(exc)), exc.status
    flash(_("Your email address is confirmed. Choose which emails you get below."), "success")
    return redirect(url_for("notifications.settings"), 303)


@bp.route("/unsubscribe", methods=["GET", "POST"])
@csrf.exempt  # RFC 8058: the mail client POSTs "List-Unsubscribe=One-Click"; the signed token is the proof
def unsubscribe():
    """Turn one kind of email off from the link in that email (GET shows the button)."""
    from auction.services import email

    token = request.values.get("token", "")
    try:
        _, kind = email.read_unsubscribe(token)
        label = str(notifications.KINDS[kind].label) if kind in notifications.KINDS else None
        if label is None:
            raise email.BadLink()
        if request.method == "POST":
            notifications.unsubscribe_email(token)
    except ServiceError as exc:
        return render_template("notifications/unsubscribe.html", error=str(exc)), exc.status
    return render_template("notifications/unsubscribe.html", token=token, label=label, done=request.method == "POST")


# The events this module draws (create_app's register_live registers them).
RENDERERS = {
    "notification_created": render_created,
    "notifications_read": render_read,
}

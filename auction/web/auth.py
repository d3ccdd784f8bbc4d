"""Signing in (Telegram Login Widget, dev login) and out."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from auction import numbers, rate_limits
from auction.extensions import db
from auction.models import User
from auction.services import users
from auction.services.errors import LoginRejected

bp = Blueprint("auth", __name__)
# Registered only when DEV_LOGIN=1: with it off, /dev-login does not exist at all.
dev_bp = Blueprint("dev", __name__)


def safe_next(target: str | None) -> str | None:
    """`target` if it points inside this site, else None (no open redirects)."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or any(ch in target for ch in "\r\n\\"):
        return None
    return target


def _finish_login(user: User):
    session.clear()  # a fresh session: nothing from before sign-in carries over
    login_user(user, remember=True)
    flash(_("Welcome, %(name)s!", name=user.display_name), "success")
    return redirect(safe_next(request.args.get("next") or request.form.get("next")) or url_for("main.index"))


@bp.get("/login")
def login():
    """Sign-in page: the Telegram Login Widget, and demo users when dev login is on."""
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    next_url = safe_next(request.args.get("next")) or ""
    auth_url = url_for("auth.telegram_callback", next=next_url or None, _external=False)
    return render_template(
        "auth/login.html",
        bot_username=current_app.config["TELEGRAM_BOT_USERNAME"],
        auth_url=current_app.config["BASE_URL"] + auth_url,
        dev_login=current_app.config["DEV_LOGIN"],
        next_url=next_url,
    )


@bp.get("/login/telegram")
@rate_limits.limit("SIGN_IN", per="address")
def telegram_callback():
    """The widget's `data-auth-url`: Telegram redirects here with the signed profile."""
    try:
        user_id = users.sign_in_with_telegram(
            {key: value for key, value in request.args.items() if key != "next"},  # `next` is ours, unsigned
            current_app.config["TELEGRAM_BOT_TOKEN"],
            current_app.config["LOGIN_MAX_AGE_SECONDS"],
            current_app.config["ADMIN_TELEGRAM_IDS"],
        )
    except LoginRejected as exc:
        return render_template("errors/error.html", status=403, title=_("Sign-in refused"), message=str(exc)), 403
    return _finish_login(db.session.get(User, user_id))


@dev_bp.route("/dev-login", methods=["GET", "POST"])
@rate_limits.limit("SIGN_IN", methods=["POST"], per="address")
def dev_login():
    """One-click sign-in as a demo user; exists only with DEV_LOGIN=1."""
    if request.method == "POST":
        user = db.session.get(User, numbers.read_id(request.form.get("user_id")) or 0)
        if user is None or not user.is_demo or user.is_suspended:
            flash(_("Pick one of the demo users."), "error")
            return redirect(url_for("dev.dev_login"))
        return _finish_login(user)
    return render_template("auth/dev_login.html", demo_users=users.demo_users(), next_url=safe_next(request.args.get("next")) or "")


@bp.post("/logout")
@login_required
def logout():
    """Sign out here and everywhere: old cookies of this user stop working."""
    users.end_all_sessions(current_user.id)
    session.clear()
    logout_user()  # after clearing: it marks the remember cookie for deletion in the session
    flash(_("You are signed out."), "info")
    return redirect(url_for("main.index"))

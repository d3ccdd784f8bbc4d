"""Admin: the front page (analytics over a date range) and the audit log."""

from __future__ import annotations

from datetime import date

from flask import render_template, request
from flask_babel import get_locale

from auction.models import utcnow
from auction.services import analytics, audit
from auction.web.admin.panel import bp


def _date(name: str) -> date | None:
    try:
        return date.fromisoformat(request.args.get(name, ""))
    except ValueError:
        return None  # a missing or mistyped date falls back to the default range


@bp.get("/")
def dashboard():
    """Analytics over a chosen date range (UTC days; the last 30 by default)."""
    start, end = analytics.date_range(_date("start"), _date("end"), utcnow().date())
    return render_template("admin/dashboard.html", report=analytics.report(start, end, str(get_locale())))


@bp.get("/audit")
def audit_log():
    """Every admin action, newest first."""
    page = min(max(1, request.args.get("page", 1, type=int)), 100_000)
    return render_template("admin/audit.html", log=audit.entries(page))

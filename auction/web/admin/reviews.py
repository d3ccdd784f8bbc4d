"""Admin: reported reviews — keep a review (the reports are dismissed) or remove it from profiles and averages."""

from __future__ import annotations

from flask import render_template
from flask_babel import gettext as _
from flask_login import current_user

from auction.services import ratings
from auction.web.admin.panel import admin_ids, back, bp, run


@bp.get("/reviews")
def reviews():
    """Open reports, oldest first: the review, the reporter's reason, both people and the auction."""
    return render_template("admin/reviews.html", reports=ratings.reported_reviews())


@bp.post("/reviews/reports/<int:report_id>/keep")
def review_keep(report_id: int):
    """Keep the review: this report is dismissed."""
    run(ratings.resolve_report, report_id, current_user.id, False, admin_ids(), success=_("The review stays; the report is dismissed."))
    return back("admin.reviews")


@bp.post("/reviews/reports/<int:report_id>/remove")
def review_remove(report_id: int):
    """Remove the review from profiles and averages; every open report on it is closed."""
    run(ratings.resolve_report, report_id, current_user.id, True, admin_ids(),
        success=_("The review is removed from the profile and the averages."))
    return back("admin.reviews")

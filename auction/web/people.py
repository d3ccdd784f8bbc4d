"""People: my activity (/dashboard), public profiles, rating a sale, reporting a review, relisting."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from auction import numbers
from auction.services import activity, catalog, names, profiles, ratings, relisting, seller_stats, subscriptions
from auction.services.errors import PremiumRequired, ServiceError
from auction.web.chart import statistics_chart
from auction.web.formatting import grouped
from auction.web.htmx import is_htmx

bp = Blueprint("people", __name__)

TABS = ("bidding", "selling", "watching")


@bp.app_template_global("public_name")
def public_name_of(user) -> str:
    """The name other people see (first name and last initial, or @username)."""
    return names.public_name(user)


@bp.app_template_global("public_initials")
def public_initials_of(user) -> str:
    """The initials of the public name, for an avatar without a photo."""
    return names.public_initials(user)


@bp.get("/dashboard")
@login_required
def dashboard():
    """My activity: bidding, selling and watching, one tab at a time (links, so no script is needed)."""
    tab = request.args.get("tab", "bidding")
    if tab not in TABS:
        tab = "bidding"
    board = activity.dashboard(current_user.id)
    stats = seller_stats.seller_statistics(current_user.id) if tab == "selling" else None
    template = "people/_dashboard_tab.html" if is_htmx() else "people/dashboard.html"
    return render_template(
        template, board=board, tab=tab, tabs=TABS, premium=subscriptions.state(current_user.id), stats=stats, chart_of=statistics_chart
    )


@bp.get("/users/<int:user_id>")
def profile(user_id: int):
    """A person's public profile: rating, reviews, badges, live auctions and past sales."""
    found = profiles.profile(user_id)
    if found is None:
        abort(404)
    return render_template("people/profile.html", profile=found)


@bp.route("/auctions/<int:auction_id>/rate", methods=["GET", "POST"])
@login_required
def rate(auction_id: int):
    """Rate the other side of a settled sale (or change one's rating within 48 hours)."""
    auction = catalog.get_auction(auction_id)
    if auction is None:
        abort(404)
    prompt = ratings.prompt(auction_id, current_user.id)
    form = {"score": request.form.get("score", ""), "comment": request.form.get("comment", "")}
    if prompt is not None and prompt.existing is not None and request.method == "GET":
        form = {"score": str(prompt.existing.score), "comment": prompt.existing.comment}
    error = None
    if request.method == "POST":
        try:
            score = numbers.read_whole(form["score"].strip(), max_digits=1) or 0
            ratings.rate(auction_id, current_user.id, score, form["comment"])
        except ServiceError as exc:
            if exc.status == 404:
                abort(404)
            error = exc.render(grouped)
        else:
            flash(_("Thank you: your rating is saved."), "success")
            return redirect(url_for("people.dashboard", tab="selling" if auction.seller_id == current_user.id else "bidding"), 303)
    status = 422 if error else 403 if prompt is None and request.method == "GET" else 200
    return render_template("people/rate.html", auction=auction, prompt=prompt, form=form, error=error), status


@bp.post("/reviews/<int:rating_id>/report")
@login_required
def report(rating_id: int):
    """Report a review to the admins."""
    back = request.form.get("next") or url_for("main.index")
    if not back.startswith("/") or back.startswith("//"):
        back = url_for("main.index")
    try:
        ratings.report_review(rating_id, current_user.id, request.form.get("reason", ""))
    except ServiceError as exc:
        if exc.status == 404:
            abort(404)
        flash(str(exc), "error")
    else:
        flash(_("Thank you: an admin will look at this review."), "success")
    return redirect(back, 303)


@bp.post("/auctions/<int:auction_id>/relist")
@login_required
def relist(auction_id: int):
    """Relist an unsold auction with the same photos and terms, now or at a chosen time."""
    from auction.web.auctions.listing_form import parse_local_time

    starts_at = None
    if request.form.get("when") == "later":
        starts_at = parse_local_time(request.form.get("starts_at", ""))
        if starts_at is None:
            flash(_("Pick the date and time the auction opens."), "error")
            return redirect(url_for("people.dashboard", tab="selling"), 303)
    try:
        new_id = relisting.relist(auction_id, current_user.id, starts_at)
    except PremiumRequired as exc:
        flash(str(exc), "premium")  # an error with a link to /premium (templates/_partials/flashes.html)
        return redirect(url_for("people.dashboard", tab="selling"), 303)
    except ServiceError as exc:
        if exc.status in (403, 404):
            abort(exc.status)
        flash(str(exc), "error")
        return redirect(url_for("people.dashboard", tab="selling"), 303)
    flash(_("Relisted: this is the new auction."), "success")
    return redirect(url_for("auctions.show", auction_id=new_id), 303)

"""Admin: people (suspend, restore), auctions (cancel) and categories (create, edit)."""

from __future__ import annotations

from flask import render_template, request
from flask_babel import gettext as _
from flask_login import current_user

from auction import numbers
from auction.models.auctions import AUCTION_STATUSES
from auction.services import catalog, moderation
from auction.web.admin.panel import admin_ids, back, bp, run


@bp.get("/people")
def people():
    """Find people by name, username or Telegram id; suspend or restore them."""
    query = request.args.get("q", "")[:100]
    return render_template("admin/people.html", people=moderation.find_people(query), q=query)


@bp.post("/people/<int:user_id>/suspend")
def suspend(user_id: int):
    """Suspend a person: no sign-in, bids, listings or payments; their open auctions are cancelled."""
    run(moderation.suspend_person, current_user.id, user_id, request.form.get("reason", ""), admin_ids(),
        success=_("The person is suspended; their open auctions were cancelled."))
    return back("admin.people")


@bp.post("/people/<int:user_id>/restore")
def restore(user_id: int):
    """Lift a suspension."""
    run(moderation.restore_person, current_user.id, user_id, admin_ids(), success=_("The suspension is lifted."))
    return back("admin.people")


@bp.get("/auctions")
def auctions():
    """Find auctions by title or number, of one status; cancel them."""
    query = request.args.get("q", "")[:100]
    status = request.args.get("status", "")
    status = status if status in AUCTION_STATUSES else ""
    hidden = request.args.get("hidden") == "1"
    return render_template("admin/auctions.html", auctions=moderation.find_auctions(query, status or None, hidden=hidden), q=query,
                           status=status, statuses=AUCTION_STATUSES, hidden=hidden)


@bp.post("/auctions/<int:auction_id>/cancel")
def cancel_auction(auction_id: int):
    """Cancel an auction: holds released, bidders and seller told."""
    run(moderation.cancel_auction, current_user.id, auction_id, request.form.get("reason", ""), admin_ids(),
        success=_("Auction #%(id)s is cancelled; every hold was released.", id=auction_id))
    return back("admin.auctions")


@bp.post("/auctions/<int:auction_id>/hide")
def hide_auction(auction_id: int):
    """Hide an auction from every listing, with a reason the seller is told; it takes no new bids while hidden."""
    run(moderation.hide_auction, current_user.id, auction_id, request.form.get("reason", ""), admin_ids(),
        success=_("Auction #%(id)s is hidden; the seller was told why.", id=auction_id))
    return back("admin.auctions")


@bp.post("/auctions/<int:auction_id>/unhide")
def unhide_auction(auction_id: int):
    """Show a hidden auction again everywhere."""
    run(moderation.unhide_auction, current_user.id, auction_id, admin_ids(),
        success=_("Auction #%(id)s is shown again.", id=auction_id))
    return back("admin.auctions")


@bp.get("/categories")
def categories():
    """Every category, with a form to edit each and one to add a new one."""
    return render_template("admin/categories.html", categories=catalog.categories())


@bp.post("/categories")
def category_create():
    """Add a category."""
    _save(None)
    return back("admin.categories")


@bp.post("/categories/<int:category_id>")
def category_update(category_id: int):
    """Rename, re-slug or move a category."""
    _save(category_id)
    return back("admin.categories")


def _save(category_id: int | None) -> None:
    form = request.form
    position = form.get("position", "0").strip()
    run(moderation.save_category, current_user.id, category_id, form.get("slug", ""), form.get("name_en", ""),
        form.get("name_ru", ""), numbers.read_whole(position, max_digits=5) or 0, admin_ids(),
        success=_("The category is saved."))

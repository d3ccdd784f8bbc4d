"""The audit log: every admin action, who did it, when, and the state before and after. Append-only."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from auction.extensions import db
from auction.models import AdminAction
from auction.services.transaction import atomic


def record(admin_id: int, action: str, target_type: str, target_id: int | None, before: dict | None, after: dict | None) -> None:
    """Write one entry in the caller's transaction, so the entry exists exactly when the action was committed."""
    db.session.add(
        AdminAction(admin_id=admin_id, action=action, target_type=target_type, target_id=target_id, before=before, after=after)
    )


@atomic
def record_now(admin_id: int, action: str, target_type: str, target_id: int | None, before: dict | None, after: dict | None) -> None:
    """Write one entry in a transaction of its own, for an action that spans several (a refund through Telegram)."""
    record(admin_id, action, target_type, target_id, before, after)


@dataclass(frozen=True)
class AuditPage:
    entries: list[AdminAction]
    page: int
    pages: int


def entries(page: int = 1, per_page: int = 50, target_type: str | None = None) -> AuditPage:
    """The newest entries first, `per_page` at a time (of one target type when given)."""
    query = select(AdminAction)
    if target_type:
        query = query.where(AdminAction.target_type == target_type)
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    rows = db.session.scalars(
        query.options(selectinload(AdminAction.admin)).order_by(AdminAction.id.desc()).offset((page - 1) * per_page).limit(per_page)
    )
    return AuditPage(list(rows), page, max(1, -(-total // per_page)))

"""The ledger's invariants as a test assertion, for any test that moved money."""

from __future__ import annotations

from sqlalchemy import inspect

from auction.extensions import db
from auction.services.ledger_check import check_invariants


def ledger_violations(app) -> list[str]:
    """Every broken invariant on the app's database (none when it has no ledger tables yet)."""
    with app.app_context():
        try:
            if not inspect(db.engine).has_table("ledger_accounts"):
                return []
            return check_invariants()
        finally:
            db.session.remove()


def assert_ledger_clean(app) -> None:
    problems = ledger_violations(app)
    assert not problems, "ledger invariants broken:\n" + "\n".join(problems)

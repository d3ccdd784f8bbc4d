"""INSERT … ON CONFLICT DO NOTHING: a row whose unique key exists already is skipped by the
database itself, in one statement, without a savepoint or a look-up first.

SQLite (3.24+) and PostgreSQL both support the clause; SQLAlchemy builds it through each
dialect's own `insert` (sqlalchemy.dialects.sqlite / postgresql).
"""

from __future__ import annotations

from sqlalchemy.dialects import postgresql, sqlite

from auction.extensions import db


def insert_once(model: type, key: str):
    """An INSERT into `model`'s table that quietly skips a row whose unique column `key` is taken.

    Returns a statement for `db.session.execute`; add `.values(...)`/`.returning(...)` as usual.
    """
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(model).on_conflict_do_nothing(index_elements=[key])

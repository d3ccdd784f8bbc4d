"""Saved searches, and the full-text index over auctions' titles and descriptions.

The index lives outside the models because each database builds it its own way:
- SQLite: `auctions_fts`, an FTS5 external-content table over `auctions` (tokenizer
  `unicode61 remove_diacritics 2`, prefix indexes for 2 to 8 characters: a prefix query without
  its own index merges every matching term's positions and costs tens of times more), kept in step by
  three triggers; only a change of title or description touches it, never a bid.
- PostgreSQL: `auctions.search_vector`, a `tsvector` set by a trigger (again only when the
  title or description changes) with a GIN index. The 'russian' configuration stems Cyrillic
  words with the Russian Snowball stemmer and ASCII words with the English one; the title
  weighs more (A) than the description (B).
The same DDL runs after `db.create_all()` (an `after_create` event on the auctions table) and
in migration 0014_search; Alembic's comparisons skip these objects (`is_search_index`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DDL, ForeignKey, Index, String, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column

from auction.extensions import db
from auction.models.auctions import Auction
from auction.models.types import UTCDateTime, utcnow

FTS_TABLE = "auctions_fts"
VECTOR_COLUMN = "search_vector"
VECTOR_INDEX = "ix_auctions_search_vector"

SQLITE_INDEX = [
    f"CREATE VIRTUAL TABLE {FTS_TABLE} USING fts5(title, description, content='auctions', content_rowid='id',"
    " tokenize='unicode61 remove_diacritics 2', prefix='2 3 4 5 6 7 8')",
    f"CREATE TRIGGER {FTS_TABLE}_insert AFTER INSERT ON auctions BEGIN"
    f" INSERT INTO {FTS_TABLE}(rowid, title, description) VALUES (new.id, new.title, new.description); END",
    f"CREATE TRIGGER {FTS_TABLE}_delete AFTER DELETE ON auctions BEGIN"
    f" INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, title, description) VALUES ('delete', old.id, old.title, old.description); END",
    f"CREATE TRIGGER {FTS_TABLE}_update AFTER UPDATE OF title, description ON auctions BEGIN"
    f" INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, title, description) VALUES ('delete', old.id, old.title, old.description);"
    f" INSERT INTO {FTS_TABLE}(rowid, title, description) VALUES (new.id, new.title, new.description); END",
]
SQLITE_REBUILD = f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')"
SQLITE_DROP = [
    f"DROP TRIGGER IF EXISTS {FTS_TABLE}_insert",
    f"DROP TRIGGER IF EXISTS {FTS_TABLE}_delete",
    f"DROP TRIGGER IF EXISTS {FTS_TABLE}_update",
    f"DROP TABLE IF EXISTS {FTS_TABLE}",
]

POSTGRESQL_INDEX = [
    f"ALTER TABLE auctions ADD COLUMN {VECTOR_COLUMN} tsvector",
    f"""CREATE FUNCTION auctions_search_vector() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.{VECTOR_COLUMN} := setweight(to_tsvector('russian', coalesce(NEW.title, '')), 'A')
    || setweight(to_tsvector('russian', coalesce(NEW.description, '')), 'B');
  RETURN NEW;
END $$""",
    "CREATE TRIGGER auctions_search_vector BEFORE INSERT OR UPDATE OF title, description ON auctions"
    " FOR EACH ROW EXECUTE FUNCTION auctions_search_vector()",
    f"CREATE INDEX {VECTOR_INDEX} ON auctions USING gin ({VECTOR_COLUMN})",
]
POSTGRESQL_REBUILD = "UPDATE auctions SET title = title"
POSTGRESQL_DROP = [
    f"DROP INDEX IF EXISTS {VECTOR_INDEX}",
    "DROP TRIGGER IF EXISTS auctions_search_vector ON auctions",
    "DROP FUNCTION IF EXISTS auctions_search_vector()",
    f"ALTER TABLE auctions DROP COLUMN IF EXISTS {VECTOR_COLUMN}",
]


def index_statements(dialect: str) -> list[str]:
    """The DDL that creates the full-text index on `dialect` ('sqlite' or 'postgresql')."""
    return {"sqlite": SQLITE_INDEX, "postgresql": POSTGRESQL_INDEX}.get(dialect, [])


def is_search_index(name: str | None, type_: str) -> bool:
    """Whether Alembic should leave this object alone (it is made by the DDL above, not the models)."""
    if type_ == "table":
        return bool(name) and (name == FTS_TABLE or name.startswith(FTS_TABLE + "_"))
    return name in (VECTOR_COLUMN, VECTOR_INDEX)


# The search page's orders, each an index range within one status (the home page's own order,
# ending soonest, has ix_auctions_status_ends_at).
Index("ix_auctions_status_current_price", Auction.status, Auction.current_price)
Index("ix_auctions_status_bid_count", Auction.status, Auction.bid_count)

for _dialect in ("sqlite", "postgresql"):
    for _statement in index_statements(_dialect):
        event.listen(Auction.__table__, "after_create", DDL(_statement.replace("%", "%%")).execute_if(dialect=_dialect))


class SavedSearch(db.Model):
    """A person's saved search: the search page's own query string, and when it last alerted them."""

    __tablename__ = "saved_searches"
    __table_args__ = (
        UniqueConstraint("user_id", "query_string"),
        Index(None, "last_alerted_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    query_string: Mapped[str] = mapped_column(String(600))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Auctions that came up (were listed or opened) up to this moment have been considered.
    checked_until: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_alerted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

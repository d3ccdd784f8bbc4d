"""search: the full-text index over auctions, saved searches, indexes for the search sorts

SQLite gets an FTS5 external-content table kept in step by triggers; PostgreSQL a tsvector
column set by a trigger, with a GIN index (auction/models/search.py holds the DDL of both).
Existing auctions are indexed here.

Revision ID: 0014_search
Revises: 0013_people
Create Date: 2026-11-30 15:40:00

"""
import sqlalchemy as sa
from alembic import op

from auction.models import search

revision = "0014_search"
down_revision = "0013_people"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "saved_searches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("query_string", sa.String(length=600), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("checked_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_alerted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_saved_searches_user_id_users"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_saved_searches")),
        sa.UniqueConstraint("user_id", "query_string", name=op.f("uq_saved_searches_user_id_query_string")),
    )
    with op.batch_alter_table("saved_searches", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_saved_searches_last_alerted_at"), ["last_alerted_at"], unique=False)
    with op.batch_alter_table("auctions", schema=None) as batch_op:
        batch_op.create_index("ix_auctions_status_current_price", ["status", "current_price"], unique=False)
        batch_op.create_index("ix_auctions_status_bid_count", ["status", "bid_count"], unique=False)
    dialect = op.get_bind().dialect.name
    for statement in search.index_statements(dialect):
        op.execute(statement)
    if dialect == "sqlite":
        op.execute(search.SQLITE_REBUILD)
    elif dialect == "postgresql":
        op.execute(search.POSTGRESQL_REBUILD)


def downgrade():
    dialect = op.get_bind().dialect.name
    for statement in {"sqlite": search.SQLITE_DROP, "postgresql": search.POSTGRESQL_DROP}.get(dialect, []):
        op.execute(statement)
    with op.batch_alter_table("auctions", schema=None) as batch_op:
        batch_op.drop_index("ix_auctions_status_bid_count")
        batch_op.drop_index("ix_auctions_status_current_price")
    with op.batch_alter_table("saved_searches", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_saved_searches_last_alerted_at"))
    op.drop_table("saved_searches")

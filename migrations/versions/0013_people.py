"""people: reviews that can be edited, reported and hidden; relisting; the achievements catalog

Revision ID: 0013_people
Revises: 0012_notifications
Create Date: 2026-11-30 15:40:00

"""
import sqlalchemy as sa
from alembic import op

import auction.models.types

revision = "0013_people"
down_revision = "0012_notifications"
branch_labels = None
depends_on = None

# code, icon, threshold: the catalog the services' rule functions (auction/services/achievements.py) evaluate.
CATALOG = (
    ("first_bid", "🔨", 1),
    ("first_win", "🏆", 1),
    ("first_sale", "🤝", 1),
    ("wins_10", "🥇", 10),
    ("sales_10", "🏪", 10),
    ("sniper", "🎯", 1),
    ("big_spender", "💎", 10000),
    ("collector", "🗂", 5),
    ("trusted_seller", "🛡", 10),
    ("early_bird", "🐦", 5),
)


def upgrade():
    with op.batch_alter_table("ratings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("updated_at", auction.models.types.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("hidden", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("ratings", schema=None) as batch_op:
        batch_op.alter_column("hidden", server_default=None)

    with op.batch_alter_table("auctions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("relists_left", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("relisted_as_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_auctions_relisted_as_id_auctions"), "auctions", ["relisted_as_id"], ["id"]
        )
    with op.batch_alter_table("auctions", schema=None) as batch_op:
        batch_op.alter_column("relists_left", server_default=None)

    op.create_table(
        "review_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rating_id", sa.Integer(), nullable=False),
        sa.Column("reporter_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", auction.models.types.UTCDateTime(), nullable=False),
        sa.Column("resolved_at", auction.models.types.UTCDateTime(), nullable=True),
        sa.Column("resolved_by_id", sa.Integer(), nullable=True),
        sa.Column("upheld", sa.Boolean(), nullable=True),
        sa.ForeignKeyConstraint(["rating_id"], ["ratings.id"], name=op.f("fk_review_reports_rating_id_ratings"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["reporter_id"], ["users.id"], name=op.f("fk_review_reports_reporter_id_users")),
        sa.ForeignKeyConstraint(["resolved_by_id"], ["users.id"], name=op.f("fk_review_reports_resolved_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_reports")),
        sa.UniqueConstraint("rating_id", "reporter_id", name=op.f("uq_review_reports_rating_id_reporter_id")),
    )
    with op.batch_alter_table("review_reports", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_review_reports_resolved_at"), ["resolved_at"], unique=False)

    achievements = sa.table(
        "achievements", sa.column("code", sa.String), sa.column("icon", sa.String), sa.column("threshold", sa.Integer)
    )
    existing = {row[0] for row in op.get_bind().execute(sa.text("SELECT code FROM achievements"))}
    op.bulk_insert(
        achievements,
        [{"code": code, "icon": icon, "threshold": threshold} for code, icon, threshold in CATALOG if code not in existing],
    )


def downgrade():
    op.execute("DELETE FROM user_achievements")
    op.execute("DELETE FROM achievements")
    with op.batch_alter_table("review_reports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_review_reports_resolved_at"))
    op.drop_table("review_reports")
    with op.batch_alter_table("auctions", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_auctions_relisted_as_id_auctions"), type_="foreignkey")
        batch_op.drop_column("relisted_as_id")
        batch_op.drop_column("relists_left")
    with op.batch_alter_table("ratings", schema=None) as batch_op:
        batch_op.drop_column("hidden")
        batch_op.drop_column("updated_at")

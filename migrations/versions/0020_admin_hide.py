"""auctions hidden by moderation; covering indexes for analytics

An admin may hide an auction with a reason: who hid it, when and why are kept on the row.
Analytics: auctions listed are counted per status, kind and category on (value, created_at)
indexes; the sales index holds every column the report reads (index-only scans).

Revision ID: 0020_admin_hide
Revises: 0019_push
Create Date: 2026-11-30 19:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = "0020_admin_hide"
down_revision = "0019_push"
branch_labels = None
depends_on = None


REPORT_INDEXES = [
    ("ix_auctions_status_created_at", ["status", "created_at"]),
    ("ix_auctions_kind_created_at", ["kind", "created_at"]),
    ("ix_auctions_category_id_created_at", ["category_id", "created_at"]),
    ("ix_auctions_status_closed_at_report", ["status", "closed_at", "winner_id", "seller_id", "category_id", "final_price"]),
]


def upgrade():
    op.drop_index("ix_auctions_status_closed_at", table_name="auctions")
    for name, columns in REPORT_INDEXES:
        op.create_index(name, "auctions", columns, unique=False)
    # Plain ADD COLUMNs, no batch copy: recreating `auctions` on SQLite would drop its search triggers.
    op.add_column('auctions', sa.Column('hidden_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('auctions', sa.Column('hidden_reason', sa.String(length=500), nullable=True))
    if op.get_bind().dialect.name == 'sqlite':
        # SQLite adds a column with its reference in one ALTER (it cannot add the constraint later).
        op.execute('ALTER TABLE auctions ADD COLUMN hidden_by INTEGER '
                   'CONSTRAINT fk_auctions_hidden_by_users REFERENCES users (id)')
    else:
        op.add_column('auctions', sa.Column('hidden_by', sa.Integer(), nullable=True))
        op.create_foreign_key(op.f('fk_auctions_hidden_by_users'), 'auctions', 'users', ['hidden_by'], ['id'])


def downgrade():
    for name, _columns in reversed(REPORT_INDEXES):
        op.drop_index(name, table_name="auctions")
    op.create_index("ix_auctions_status_closed_at", "auctions", ["status", "closed_at"], unique=False)
    if op.get_bind().dialect.name != 'sqlite':
        op.drop_constraint(op.f('fk_auctions_hidden_by_users'), 'auctions', type_='foreignkey')
    op.drop_column('auctions', 'hidden_by')
    op.drop_column('auctions', 'hidden_reason')
    op.drop_column('auctions', 'hidden_at')

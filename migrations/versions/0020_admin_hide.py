"""auctions hidden by moderation; covering indexes for analytics

An admin may hide an auction with a reason: who hid it, when and why are kept on the row.
The analytics report's two auction indexes now hold every column it reads (index-only scans).

Revision ID: 0020_admin_hide
Revises: 0016_harden
Create Date: 2026-11-30 19:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = "0020_admin_hide"
down_revision = "0016_harden"
branch_labels = None
depends_on = None


REPORT_INDEXES = [
    ("ix_auctions_created_at", "ix_auctions_created_at_report",
     ["created_at"], ["created_at", "status", "kind", "category_id", "winner_id", "final_price"]),
    ("ix_auctions_status_closed_at", "ix_auctions_status_closed_at_report",
     ["status", "closed_at"], ["status", "closed_at", "winner_id", "seller_id", "final_price"]),
]


def upgrade():
    for old, new, _old_columns, columns in REPORT_INDEXES:
        op.drop_index(old, table_name="auctions")
        op.create_index(new, "auctions", columns, unique=False)
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
    for old, new, old_columns, _columns in REPORT_INDEXES:
        op.drop_index(new, table_name="auctions")
        op.create_index(old, "auctions", old_columns, unique=False)
    if op.get_bind().dialect.name != 'sqlite':
        op.drop_constraint(op.f('fk_auctions_hidden_by_users'), 'auctions', type_='foreignkey')
    op.drop_column('auctions', 'hidden_by')
    op.drop_column('auctions', 'hidden_reason')
    op.drop_column('auctions', 'hidden_at')

"""auctions hidden by moderation

An admin may hide an auction with a reason: who hid it, when and why are kept on the row.

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


def upgrade():
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
    if op.get_bind().dialect.name != 'sqlite':
        op.drop_constraint(op.f('fk_auctions_hidden_by_users'), 'auctions', type_='foreignkey')
    op.drop_column('auctions', 'hidden_by')
    op.drop_column('auctions', 'hidden_reason')
    op.drop_column('auctions', 'hidden_at')

"""premium gates: each auction's own platform fee, and page views per auction and day

An auction keeps the fee it was listed with (PREMIUM_FEE_PERCENT for a Premium seller), so
Premium ending never changes the terms of a running auction. Existing auctions get
PLATFORM_FEE_PERCENT as configured when the migration runs (5 unless set).

Revision ID: 0018_premium_gates
Revises: 0017_premium
Create Date: 2026-11-30 19:00:00

"""
import os

from alembic import op
import sqlalchemy as sa

from auction.models import search


revision = "0018_premium_gates"
down_revision = "0017_premium"
branch_labels = None
depends_on = None


def _platform_fee_percent() -> int:
    from flask import current_app

    try:
        return int(current_app.config["PLATFORM_FEE_PERCENT"])
    except (RuntimeError, KeyError):  # run outside the app: the environment, as config.py reads it
        return int(os.environ.get("PLATFORM_FEE_PERCENT") or 5)


def upgrade():
    with op.batch_alter_table('auctions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('fee_percent', sa.Integer(), nullable=True))
    op.execute(sa.text("UPDATE auctions SET fee_percent = :fee").bindparams(fee=_platform_fee_percent()))
    with op.batch_alter_table('auctions', schema=None) as batch_op:
        batch_op.alter_column('fee_percent', existing_type=sa.Integer(), nullable=False)
    _restore_search_triggers()
    op.create_table('auction_views',
    sa.Column('auction_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['auction_id'], ['auctions.id'], name=op.f('fk_auction_views_auction_id_auctions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('auction_id', 'day', name=op.f('pk_auction_views'))
    )


def downgrade():
    op.drop_table('auction_views')
    with op.batch_alter_table('auctions', schema=None) as batch_op:
        batch_op.drop_column('fee_percent')
    _restore_search_triggers()


def _restore_search_triggers():
    """SQLite's batch mode rebuilds `auctions`, which drops the full-text triggers of 0014: put them back."""
    if op.get_bind().dialect.name == "sqlite":
        for statement in search.SQLITE_INDEX[1:]:  # the FTS table itself survives; its triggers do not
            op.execute(statement)
        op.execute(search.SQLITE_REBUILD)

"""per-day analytics totals for days already over

The admin report reads the bids, sales and volume of complete UTC days from one row per day
(`analytics_daily`) instead of counting every bid of the range; today is counted live.

Revision ID: 0022_daily_totals
Revises: 0021_photo_edit
Create Date: 2026-11-30 20:15:00

"""
import sqlalchemy as sa
from alembic import op

revision = "0022_daily_totals"
down_revision = "0021_photo_edit"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('analytics_daily',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('bids', sa.BigInteger(), nullable=False),
    sa.Column('sales', sa.BigInteger(), nullable=False),
    sa.Column('volume', sa.BigInteger(), nullable=False),
    sa.Column('computed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('day', name=op.f('pk_analytics_daily'))
    )


def downgrade():
    op.drop_table('analytics_daily')

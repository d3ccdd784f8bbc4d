"""demo users without Telegram ids

Demo accounts were seeded with made-up Telegram ids (900000001-900000005). Those numbers
belong to real people: one of them signing in with Telegram would have become a demo account
(one is an admin), and the bot would have sent them the demo accounts' notifications.
Demo accounts now have no Telegram id; this clears the ids of those already seeded, and
drops their queued Telegram messages.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 16:30:00

"""
from alembic import op


revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    op.execute("DELETE FROM outbox WHERE status = 'pending' AND user_id IN (SELECT id FROM users WHERE is_demo)")
    op.execute("UPDATE users SET telegram_id = NULL WHERE is_demo")


def downgrade():
    pass  # the made-up ids are not coming back

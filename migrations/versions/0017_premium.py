"""premium: how each period was paid (Telegram subscription or wallet), its payment, its renewal; the Patron badge

Revision ID: 0017_premium
Revises: 0016_harden
Create Date: 2026-11-30 19:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = "0017_premium"
down_revision = "0016_harden"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("source", sa.String(length=16), nullable=False, server_default="telegram"))
        batch_op.add_column(sa.Column("payment_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("subscription_charge_id", sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column("renews_id", sa.Integer(), nullable=True))
        batch_op.create_check_constraint(batch_op.f("ck_subscriptions_source_valid"), "source IN ('telegram', 'balance')")
        batch_op.create_foreign_key(batch_op.f("fk_subscriptions_payment_id_payments"), "payments", ["payment_id"], ["id"])
        batch_op.create_foreign_key(batch_op.f("fk_subscriptions_renews_id_subscriptions"), "subscriptions", ["renews_id"], ["id"])
        batch_op.create_unique_constraint(batch_op.f("uq_subscriptions_payment_id"), ["payment_id"])
        batch_op.create_unique_constraint(batch_op.f("uq_subscriptions_renews_id"), ["renews_id"])
        batch_op.create_index(batch_op.f("ix_subscriptions_status_expires_at"), ["status", "expires_at"], unique=False)
    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.alter_column("source", server_default=None)
    achievements = sa.table(
        "achievements", sa.column("code", sa.String), sa.column("icon", sa.String), sa.column("threshold", sa.Integer)
    )
    existing = {row[0] for row in op.get_bind().execute(sa.text("SELECT code FROM achievements"))}
    if "patron" not in existing:
        # threshold: days of paid Premium (auction/services/achievements.py, rule "patron")
        op.bulk_insert(achievements, [{"code": "patron", "icon": "👑", "threshold": 90}])


def downgrade():
    op.execute(
        "DELETE FROM user_achievements WHERE achievement_id IN (SELECT id FROM achievements WHERE code = 'patron')"
    )
    op.execute("DELETE FROM achievements WHERE code = 'patron'")
    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_subscriptions_status_expires_at"))
        batch_op.drop_constraint(batch_op.f("uq_subscriptions_renews_id"), type_="unique")
        batch_op.drop_constraint(batch_op.f("uq_subscriptions_payment_id"), type_="unique")
        batch_op.drop_constraint(batch_op.f("fk_subscriptions_renews_id_subscriptions"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("fk_subscriptions_payment_id_payments"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("ck_subscriptions_source_valid"), type_="check")
        batch_op.drop_column("renews_id")
        batch_op.drop_column("subscription_charge_id")
        batch_op.drop_column("payment_id")
        batch_op.drop_column("source")

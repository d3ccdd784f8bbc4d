"""admin: payout requests, the audit log, the payouts ledger accounts, analytics indexes

Revision ID: 0015_admin
Revises: 0014_search
Create Date: 2026-11-30 15:40:00

"""
from alembic import op
import sqlalchemy as sa


revision = "0015_admin"
down_revision = "0014_search"
branch_labels = None
depends_on = None

OLD_KINDS = "kind IN ('available', 'held', 'platform_revenue', 'telegram_stars', 'sandbox')"
NEW_KINDS = "kind IN ('available', 'held', 'platform_revenue', 'telegram_stars', 'sandbox', 'payouts_pending', 'payouts_paid')"
INDEXES = [
    ("ix_users_created_at", "users", ["created_at"]),
    ("ix_auctions_created_at", "auctions", ["created_at"]),
    ("ix_auctions_status_closed_at", "auctions", ["status", "closed_at"]),
    ("ix_bids_created_at", "bids", ["created_at"]),
    ("ix_ledger_transfers_reason_created_at", "ledger_transfers", ["reason", "created_at"]),
    ("ix_payments_created_at", "payments", ["created_at"]),
]


def upgrade():
    op.create_table(
        "payout_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reference", sa.String(length=200), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("amount > 0", name=op.f("ck_payout_requests_amount_positive")),
        sa.CheckConstraint("status IN ('pending', 'paid', 'rejected')", name=op.f("ck_payout_requests_status_valid")),
        sa.ForeignKeyConstraint(["decided_by_id"], ["users.id"], name=op.f("fk_payout_requests_decided_by_id_users")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_payout_requests_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payout_requests")),
    )
    with op.batch_alter_table("payout_requests") as batch_op:
        batch_op.create_index(batch_op.f("ix_payout_requests_status_created_at"), ["status", "created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_payout_requests_user_id_created_at"), ["user_id", "created_at"], unique=False)

    op.create_table(
        "admin_actions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("admin_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("target_type", sa.String(length=20), nullable=False),
        sa.Column("target_id", sa.BigInteger(), nullable=True),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["admin_id"], ["users.id"], name=op.f("fk_admin_actions_admin_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_admin_actions")),
    )
    with op.batch_alter_table("admin_actions") as batch_op:
        batch_op.create_index(batch_op.f("ix_admin_actions_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_admin_actions_target_type_target_id"), ["target_type", "target_id"], unique=False)

    with op.batch_alter_table("ledger_accounts") as batch_op:
        batch_op.drop_constraint(op.f("ck_ledger_accounts_kind_valid"), type_="check")
        batch_op.create_check_constraint(op.f("ck_ledger_accounts_kind_valid"), NEW_KINDS)

    for name, table, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)


def downgrade():
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
    op.execute("DELETE FROM ledger_transfers WHERE debit_account_id IN (SELECT id FROM ledger_accounts WHERE kind IN ('payouts_pending', 'payouts_paid')) OR credit_account_id IN (SELECT id FROM ledger_accounts WHERE kind IN ('payouts_pending', 'payouts_paid'))")
    op.execute("DELETE FROM ledger_accounts WHERE kind IN ('payouts_pending', 'payouts_paid')")
    with op.batch_alter_table("ledger_accounts") as batch_op:
        batch_op.drop_constraint(op.f("ck_ledger_accounts_kind_valid"), type_="check")
        batch_op.create_check_constraint(op.f("ck_ledger_accounts_kind_valid"), OLD_KINDS)
    op.drop_table("admin_actions")
    op.drop_table("payout_requests")

"""photos kept between form sends

A listing form that comes back with an error keeps the photos already uploaded: each is
stored once and named by a row here (the form carries a signed token for it) until a listing
takes it over or a job removes it after the token expired.

Revision ID: 0021_photo_edit
Revises: 0020_admin_hide
Create Date: 2026-11-30 19:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = "0021_photo_edit"
down_revision = "0020_admin_hide"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('photo_uploads',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('thumb_path', sa.String(length=255), nullable=False),
    sa.Column('large_path', sa.String(length=255), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_photo_uploads_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_photo_uploads'))
    )
    with op.batch_alter_table('photo_uploads', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_photo_uploads_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_photo_uploads_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('photo_uploads', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_photo_uploads_user_id'))
        batch_op.drop_index(batch_op.f('ix_photo_uploads_created_at'))
    op.drop_table('photo_uploads')

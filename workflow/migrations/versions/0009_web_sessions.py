"""browser sessions of the web pages

Revision ID: 0009
Revises: 0004
Create Date: 2026-11-27 14:00:00
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel
import workflow.storage.models


revision = '0009'
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('websession',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sid_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('token_id', sa.Integer(), nullable=False),
    sa.Column('csrf', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', workflow.storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', workflow.storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['token_id'], ['token.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('sid_hash')
    )
    with op.batch_alter_table('websession', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_websession_token_id'), ['token_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_websession_last_seen_at'), ['last_seen_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('websession', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_websession_last_seen_at'))
        batch_op.drop_index(batch_op.f('ix_websession_token_id'))
    op.drop_table('websession')

"""group robots: robot table, notification.channel

Revision ID: 0008
Revises: 0002
Create Date: 2026-11-27 14:00:00
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel
import workflow.storage.models


revision = '0008'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('robot',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('owner', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('token', sa.Text(), nullable=False),
    sa.Column('secret', sa.Text(), nullable=True),
    sa.Column('fingerprint', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('mention_mobiles', sa.JSON(), nullable=False),
    sa.Column('updated_at', workflow.storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('owner', 'kind', name='uq_robot')
    )
    with op.batch_alter_table('robot', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_robot_owner'), ['owner'], unique=False)

    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.add_column(sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=20), server_default='email', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_column('channel')

    with op.batch_alter_table('robot', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_robot_owner'))

    op.drop_table('robot')

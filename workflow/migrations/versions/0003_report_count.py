"""report count: how many items a report counts towards a quantitative target

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 14:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = "0003"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("report", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("count", sa.Integer(), nullable=False, server_default=sa.text("1"))
        )


def downgrade() -> None:
    with op.batch_alter_table("report", schema=None) as batch_op:
        batch_op.drop_column("count")

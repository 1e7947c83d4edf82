"""failed tokens per address, shared by every server process

Revision ID: 0015
Revises: 0012
Create Date: 2026-12-07 17:00:00
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel
import workflow.storage.models


revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "failedguess",
        sa.Column("address", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("pending", sa.Integer(), nullable=False),
        sa.Column("window_start", workflow.storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("blocked_until", workflow.storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("address"),
    )


def downgrade() -> None:
    op.drop_table("failedguess")

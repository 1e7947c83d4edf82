"""notices: numbered 督办单 and 催办通知书, and their per-year counters

Revision ID: 0018
Revises: 0012
Create Date: 2026-12-07 18:00:00
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

from workflow.storage.models import UTCDateTime

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    text = sqlmodel.sql.sqltypes.AutoString
    op.create_table(
        "notice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", text(length=10), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("level", text(length=20), nullable=False),
        sa.Column("grade", text(length=10), nullable=False),
        sa.Column("assignment_id", sa.Integer(), nullable=False),
        sa.Column("due", sa.Date(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("unit_name", text(length=100), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("task_title", text(length=500), nullable=False),
        sa.Column("requirement", sa.Text(), nullable=True),
        sa.Column("days_overdue", sa.Integer(), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("office_name", text(length=200), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("kind", "year", "seq", name="uq_notice_number"),
        sa.UniqueConstraint("assignment_id", "due", "level", name="uq_notice_level"),
    )
    with op.batch_alter_table("notice", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_notice_assignment_id"), ["assignment_id"])
        batch_op.create_index(batch_op.f("ix_notice_unit_id"), ["unit_id"])
    op.create_table(
        "noticecounter",
        sa.Column("kind", text(length=10), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("kind", "year"),
    )


def downgrade() -> None:
    op.drop_table("noticecounter")
    with op.batch_alter_table("notice", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notice_unit_id"))
        batch_op.drop_index(batch_op.f("ix_notice_assignment_id"))
    op.drop_table("notice")

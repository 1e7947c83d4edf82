"""evidence checks: each report's evidence links, first and latest check (issue 31)

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 18:25:00
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

from workflow.storage.models import UTCDateTime

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "evidence_check",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("assignment_id", sa.Integer(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("first_at", UTCDateTime(), nullable=False),
        sa.Column("first_status", sa.Integer(), nullable=True),
        sa.Column("first_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("latest_at", UTCDateTime(), nullable=False),
        sa.Column("latest_stage", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("latest_status", sa.Integer(), nullable=True),
        sa.Column("latest_final_url", sa.Text(), nullable=True),
        sa.Column("latest_title", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
        sa.Column("latest_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("latest_pub_date", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True),
        sa.Column("latest_error", sa.Text(), nullable=True),
        sa.Column("checks", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["report_id"], ["report.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_evidence_check_report_id", "evidence_check", ["report_id"])
    op.create_index("ix_evidence_check_assignment_id", "evidence_check", ["assignment_id"])


def downgrade() -> None:
    op.drop_index("ix_evidence_check_assignment_id", table_name="evidence_check")
    op.drop_index("ix_evidence_check_report_id", table_name="evidence_check")
    op.drop_table("evidence_check")

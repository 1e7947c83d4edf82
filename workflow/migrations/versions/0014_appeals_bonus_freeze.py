"""appeals, bonus points and frozen evaluations (issue 26)

``appeal``: a unit's 申诉 against a deduction, decided by the office; ``bonus``: 加分 the office
grants with evidence; ``frozenevaluation``: a year's signed sheet (封存).

Revision ID: 0014
Revises: 0012
Create Date: 2026-12-07 17:10:00
"""

import sqlalchemy as sa
from alembic import op

from workflow.storage.models import UTCDateTime

revision = "0014"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "appeal",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("assignment_id", sa.Integer(), sa.ForeignKey("assignment.id"), nullable=False),
        sa.Column("unit_id", sa.Integer(), sa.ForeignKey("unit.id"), nullable=False),
        sa.Column("rule", sa.String(length=40), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("decision", sa.Text(), nullable=True),
        sa.Column("decided_by", sa.String(length=100), nullable=True),
        sa.Column("decided_at", UTCDateTime(), nullable=True),
    )
    op.create_index("ix_appeal_assignment_id", "appeal", ["assignment_id"])
    op.create_index("ix_appeal_unit_id", "appeal", ["unit_id"])
    op.create_table(
        "bonus",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("unit_id", sa.Integer(), sa.ForeignKey("unit.id"), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("points", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=True),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_bonus_unit_id", "bonus", ["unit_id"])
    op.create_index("ix_bonus_year", "bonus", ["year"])
    op.create_table(
        "frozenevaluation",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("year", sa.Integer(), nullable=False, unique=True),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("sheet", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("frozenevaluation")
    op.drop_index("ix_bonus_year", table_name="bonus")
    op.drop_index("ix_bonus_unit_id", table_name="bonus")
    op.drop_table("bonus")
    op.drop_index("ix_appeal_unit_id", table_name="appeal")
    op.drop_index("ix_appeal_assignment_id", table_name="appeal")
    op.drop_table("appeal")

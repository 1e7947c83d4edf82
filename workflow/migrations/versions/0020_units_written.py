"""units written: a task keeps its unit cells as the office wrote them

The import resolves a group ("委机关各科室") to its members; the export wrote the members back,
so a ledger exported and imported again no longer said what the office wrote (issue 25).
``task.units_written`` holds the names as written, by role; tasks imported before stay NULL
and export their resolved names as before.

Revision ID: 0020
Revises: 0012
Create Date: 2026-12-07 17:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.add_column(sa.Column("units_written", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.drop_column("units_written")

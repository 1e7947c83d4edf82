"""cover unit: each ``chasecover`` row names the unit and the task of its assignment

The check reads back what it has just told, per unit: a catch-up's 440,000 overdue covers were
joined to ``assignment`` (all 1,000,000 rows) only to learn each one's unit and task (issue 18);
with both on the cover the read-back reads the covers alone (0.77 s → ~0.5 s on PostgreSQL).
Existing covers take their assignment's.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-28 00:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("chasecover", schema=None) as batch_op:
        batch_op.add_column(sa.Column("unit_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("task_id", sa.Integer(), nullable=True))
    for column in ("unit_id", "task_id"):
        op.execute(
            f"UPDATE chasecover SET {column} = (SELECT assignment.{column} FROM assignment"
            " WHERE assignment.id = chasecover.assignment_id)"
        )
    op.execute("DELETE FROM chasecover WHERE unit_id IS NULL")  # its assignment is gone
    with op.batch_alter_table("chasecover", schema=None) as batch_op:
        batch_op.alter_column("unit_id", existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column("task_id", existing_type=sa.Integer(), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("chasecover", schema=None) as batch_op:
        batch_op.drop_column("task_id")
        batch_op.drop_column("unit_id")

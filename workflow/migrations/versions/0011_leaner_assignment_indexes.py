"""leaner assignment indexes: ``uq_assignment`` leads with the unit, ``ix_assignment_unit_id``
goes, ``ix_assignment_state_due`` loses its third column

Every change of an assignment's state writes a new row version and a new entry in every index
of ``assignment`` (``state`` is indexed, so PostgreSQL can never update in place). Measured at
1,000,000 assignments on PostgreSQL (issue 18), the catch-up's UPDATE of 440,000 rows: 5.4 s
with four indexes, 4.3 s without ``ix_assignment_unit_id``, 3.7 s with ``ix_assignment_state_due``
on (state, due) only: many rows share a (state, due), which PostgreSQL then stores once with
the list of its rows (B-tree deduplication), where ``unit_id`` as a third column made every
entry distinct. The check's selections by unit read the rows anyway.

The unique key (task_id, unit_id, period) becomes (unit_id, task_id, period): the same
constraint, now also the index of every unit's own list, page and report (which
``ix_assignment_unit_id`` was). What loses an index is reading one task's assignments across
units by ``task_id`` alone: a plan's import and export read the whole plan anyway (a hash join),
the check never does, and a unit's event check names the unit.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-28 00:10:00
"""

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("assignment", schema=None) as batch_op:
        batch_op.drop_constraint("uq_assignment", type_="unique")
        batch_op.create_unique_constraint("uq_assignment", ["unit_id", "task_id", "period"])
        batch_op.drop_index(batch_op.f("ix_assignment_unit_id"))
        batch_op.drop_index("ix_assignment_state_due")
        batch_op.create_index("ix_assignment_state_due", ["state", "due"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("assignment", schema=None) as batch_op:
        batch_op.drop_index("ix_assignment_state_due")
        batch_op.create_index("ix_assignment_state_due", ["state", "due", "unit_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_assignment_unit_id"), ["unit_id"], unique=False)
        batch_op.drop_constraint("uq_assignment", type_="unique")
        batch_op.create_unique_constraint("uq_assignment", ["task_id", "unit_id", "period"])

"""unit-led uniqueness: ``uq_assignment`` leads with the unit, ``ix_assignment_unit_id`` goes

Every change of an assignment's state writes a new row version and a new entry in every index
of ``assignment`` (``state`` is indexed, so PostgreSQL can never update in place). Measured at
1,000,000 assignments on PostgreSQL (issue 18): the catch-up's UPDATE of 440,000 rows took
5.4 s with four indexes and 4.2 s without ``ix_assignment_unit_id``.

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


def downgrade() -> None:
    with op.batch_alter_table("assignment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_assignment_unit_id"), ["unit_id"], unique=False)
        batch_op.drop_constraint("uq_assignment", type_="unique")
        batch_op.create_unique_constraint("uq_assignment", ["task_id", "unit_id", "period"])

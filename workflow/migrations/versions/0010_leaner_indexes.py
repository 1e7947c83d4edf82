"""leaner indexes: drop those no query uses, which every write of the daily check maintained

Measured at 1,000,000 assignments on PostgreSQL (issue 18): the catch-up's one UPDATE of
440,000 rows took 7.0 s with six indexes on ``assignment`` and 4.4 s with four, and the history
INSERT … SELECT spent a third of its time in the per-row foreign-key trigger.

* ``assignment.task_id``: ``uq_assignment`` (task_id, unit_id, period) leads with it;
* ``assignment.due``: every selection by due date also names the state
  (``ix_assignment_state_due``);
* ``history.task_id`` and ``history.at``: history is read by assignment only;
* ``history.assignment_id`` → ``assignment.id``: history is an append-only record; assignments
  are never deleted, and the record must never block or be blocked by the rows it describes.

Revision ID: 0010
Revises: 0003
Create Date: 2026-11-27 17:00:00
"""

from alembic import op

revision = "0010"
down_revision = "0003"
branch_labels = None
depends_on = None

# SQLite's foreign keys are unnamed: batch mode names them by this convention to drop one.
NAMING = {"fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s"}


def upgrade() -> None:
    with op.batch_alter_table("assignment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_assignment_task_id"))
        batch_op.drop_index(batch_op.f("ix_assignment_due"))
    with op.batch_alter_table("history", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_history_task_id"))
        batch_op.drop_index(batch_op.f("ix_history_at"))
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table("history", naming_convention=NAMING) as batch_op:
            batch_op.drop_constraint("fk_history_assignment_id_assignment", type_="foreignkey")
    else:
        op.drop_constraint("history_assignment_id_fkey", "history", type_="foreignkey")


def downgrade() -> None:
    with op.batch_alter_table("history", schema=None) as batch_op:
        batch_op.create_foreign_key(
            "history_assignment_id_fkey", "assignment", ["assignment_id"], ["id"]
        )
        batch_op.create_index(batch_op.f("ix_history_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_history_task_id"), ["task_id"], unique=False)
    with op.batch_alter_table("assignment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_assignment_due"), ["due"], unique=False)
        batch_op.create_index(batch_op.f("ix_assignment_task_id"), ["task_id"], unique=False)

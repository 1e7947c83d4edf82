"""chase covers: what the daily check has told whom, one row per item and audience

Revision ID: 0005
Revises: 0002
Create Date: 2026-11-27 14:00:00
"""

import json
from datetime import date

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0005"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "chasecover",
        sa.Column("assignment_id", sa.Integer(), nullable=False),
        sa.Column("due", sa.Date(), nullable=False),
        sa.Column("what", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("run", sa.Integer(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("levels", sa.Integer(), nullable=False),
        sa.Column("new_levels", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("assignment_id", "due", "what"),
    )
    with op.batch_alter_table("chasecover", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_chasecover_run"), ["run"], unique=False)
    with op.batch_alter_table("assignment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_assignment_state"))
        batch_op.create_index(
            "ix_assignment_state_due", ["state", "due", "unit_id"], unique=False
        )
    _backfill()


def _backfill() -> None:
    """Covers recorded so far in the outbox rows' ``context["covers"]`` become rows (run 0)."""
    conn = op.get_bind()
    rows = conn.execute(sa.text("SELECT context, as_of FROM notification")).all()
    bits = {"unit": 1, "leader": 2, "principal": 4}
    covers: dict[tuple[int, str, str], list] = {}
    for context, as_of in rows:
        if isinstance(context, str):
            context = json.loads(context)
        for cover in (context or {}).get("covers", []):
            parts = str(cover).split(":")
            level = 0
            if parts[0] == "r" and len(parts) == 4:
                key = (int(parts[1]), parts[2], f"r{parts[3]}")
            elif parts[0] == "o" and len(parts) == 4 and parts[3] in bits:
                key, level = (int(parts[1]), parts[2], "o"), bits[parts[3]]
            elif parts[0] == "p" and len(parts) == 3:
                key = (int(parts[1]), parts[2], "p")
            else:
                continue
            entry = covers.setdefault(key, [str(as_of)[:10] if as_of else parts[2], 0])
            entry[1] |= level
    table = sa.table(
        "chasecover",
        sa.column("assignment_id", sa.Integer),
        sa.column("due", sa.Date),
        sa.column("what", sa.String),
        sa.column("run", sa.Integer),
        sa.column("as_of", sa.Date),
        sa.column("levels", sa.Integer),
        sa.column("new_levels", sa.Integer),
    )
    if covers:
        op.bulk_insert(
            table,
            [
                {
                    "assignment_id": a,
                    "due": date.fromisoformat(d),
                    "what": w,
                    "run": 0,
                    "as_of": date.fromisoformat(on),
                    "levels": levels,
                    "new_levels": 0,
                }
                for (a, d, w), (on, levels) in covers.items()
            ],
        )


def downgrade() -> None:
    with op.batch_alter_table("assignment", schema=None) as batch_op:
        batch_op.drop_index("ix_assignment_state_due")
        batch_op.create_index(batch_op.f("ix_assignment_state"), ["state"], unique=False)
    with op.batch_alter_table("chasecover", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_chasecover_run"))
    op.drop_table("chasecover")

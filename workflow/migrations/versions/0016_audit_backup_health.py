"""audit log, its seal row and the daemon's heartbeat (issue 30)

Revision ID: 0016
Revises: 0012
Create Date: 2026-12-07 17:10:00
"""

import sqlalchemy as sa
import sqlmodel  # noqa: F401
from alembic import op

from workflow.storage.models import UTCDateTime

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "auditevent",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("token_id", sa.Integer(), nullable=True),
        sa.Column("address", sa.String(length=100), nullable=True),
        sa.Column("door", sa.String(length=20), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("target", sa.String(length=300), nullable=True),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("row_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("auditevent", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_auditevent_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_auditevent_action"), ["action"], unique=False)
    op.create_table(
        "auditseal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("last_id", sa.Integer(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.Column("pruned_id", sa.Integer(), nullable=False),
        sa.Column("pruned_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.execute(
        "INSERT INTO auditseal (id, last_id, last_hash, pruned_id, pruned_hash) VALUES (1, 0, '', 0, '')"
    )
    op.create_table(
        "heartbeat",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("beat_at", UTCDateTime(), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("host", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:
    op.drop_table("heartbeat")
    op.drop_table("auditseal")
    with op.batch_alter_table("auditevent", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_auditevent_action"))
        batch_op.drop_index(batch_op.f("ix_auditevent_at"))
    op.drop_table("auditevent")

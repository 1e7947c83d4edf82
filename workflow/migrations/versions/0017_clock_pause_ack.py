"""clock pause and 签收: an event's clock paused since a date; when a unit acknowledged a task

``assignment.clock_paused_on``: the day a 依申请公开 clock was stopped (补正, 征求第三方意见),
NULL while it runs; the daily check neither expires nor reminds a paused clock.
``assignment.acknowledged_at`` / ``acknowledged_by``: the unit's 签收 (issue 31).

Revision ID: 0017
Revises: 0012
Create Date: 2026-12-07 17:30:00
"""

import sqlalchemy as sa
from alembic import op

from workflow.storage.models import UTCDateTime

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("assignment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("clock_paused_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("acknowledged_at", UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("acknowledged_by", sa.String(length=100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("assignment", schema=None) as batch_op:
        batch_op.drop_column("acknowledged_by")
        batch_op.drop_column("acknowledged_at")
        batch_op.drop_column("clock_paused_on")

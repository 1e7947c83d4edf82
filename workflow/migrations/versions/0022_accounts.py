"""personal accounts: accounts, sign-in links, a person's tokens and sessions (issue 29)

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07 20:00:00
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

from workflow.storage.models import UTCDateTime

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "account",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("roles", sa.JSON(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("email", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("mobile", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=True),
        sa.Column("password_hash", sa.Text(), nullable=True),
        sa.Column("must_change", sa.Boolean(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("locked_until", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("password_changed_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    with op.batch_alter_table("account", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_account_unit_id"), ["unit_id"], unique=False)
    op.create_table(
        "signinlink",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("used_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code_hash"),
    )
    with op.batch_alter_table("signinlink", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_signinlink_account_id"), ["account_id"], unique=False)
    with op.batch_alter_table("token", schema=None) as batch_op:
        batch_op.add_column(sa.Column("account_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("expires_at", UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("last_used_at", UTCDateTime(), nullable=True))
        batch_op.create_index(batch_op.f("ix_token_account_id"), ["account_id"], unique=False)
    with op.batch_alter_table("websession", schema=None) as batch_op:
        batch_op.alter_column("token_id", existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column("account_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("remember", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.create_index(batch_op.f("ix_websession_account_id"), ["account_id"], unique=False)


def downgrade() -> None:
    op.execute("DELETE FROM websession WHERE token_id IS NULL")
    with op.batch_alter_table("websession", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_websession_account_id"))
        batch_op.drop_column("remember")
        batch_op.drop_column("account_id")
        batch_op.alter_column("token_id", existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table("token", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_token_account_id"))
        batch_op.drop_column("last_used_at")
        batch_op.drop_column("expires_at")
        batch_op.drop_column("account_id")
    with op.batch_alter_table("signinlink", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_signinlink_account_id"))
    op.drop_table("signinlink")
    with op.batch_alter_table("account", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_account_unit_id"))
    op.drop_table("account")

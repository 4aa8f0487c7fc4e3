"""Sweeps of the scheduler role (agent/scale/): one row per sweep of a source, and one per (sweep,
account) it expects, which the account's run claims in the run's own transaction. The primary key
(sweep, account) is what makes a redelivered task a no-op; an account still unclaimed at the sweep's
deadline is closed with a gap run whose findings are errors. Created on SQLite too (one schema).

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sweeps",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("source", sa.String(128), nullable=False),
        sa.Column("provider", sa.String(32), nullable=False),
        sa.Column("epoch", sa.BigInteger, nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deadline", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("detail", sa.Text, nullable=False),
    )
    op.create_index("ix_sweeps_open", "sweeps", ["closed_at", "deadline"])
    op.create_table(
        "sweep_accounts",
        sa.Column("sweep_id", sa.String(32), sa.ForeignKey("sweeps.id"), primary_key=True),
        sa.Column("account", sa.String(128), primary_key=True),
        sa.Column("run_id", sa.String(32), nullable=True),
        sa.Column("outcome", sa.String(16), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("sweep_accounts")
    op.drop_index("ix_sweeps_open", table_name="sweeps")
    op.drop_table("sweeps")

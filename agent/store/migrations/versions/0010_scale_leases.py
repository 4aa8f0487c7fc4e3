"""Leases of the roles that must run once (agent/store/leader.py): one row per lock name, whose epoch
goes up by one each time a process becomes its leader. The leader's writes check it (a fencing token),
so a leader that lost its lock without knowing yet cannot write over its successor's work. Created on
SQLite too (the same schema everywhere), where nothing uses it.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "scale_leases",
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("epoch", sa.BigInteger, nullable=False),
        sa.Column("holder", sa.Text, nullable=False),
        sa.Column("acquired_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("scale_leases")

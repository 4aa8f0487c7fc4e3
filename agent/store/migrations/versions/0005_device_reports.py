"""Device reports pushed to POST /v1/devices (agent/store/devices.py).

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "device_reports",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("source", sa.String(128), nullable=False),
        sa.Column("device_id", sa.String(128), nullable=False),
        sa.Column("nonce", sa.String(64), nullable=False),
        sa.Column("reported_at", TS, nullable=False),
        sa.Column("received_at", TS, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.UniqueConstraint("source", "device_id", "nonce", name="uq_device_reports_nonce"),
    )
    op.create_index("ix_device_reports_latest", "device_reports", ["source", "device_id", "reported_at"])


def downgrade() -> None:
    op.drop_index("ix_device_reports_latest", table_name="device_reports")
    op.drop_table("device_reports")

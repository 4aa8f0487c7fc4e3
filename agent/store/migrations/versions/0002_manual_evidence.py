"""Manual evidence: documents attached to manual controls (append-only; latest per control in force).

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "manual_evidence",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("control_id", sa.String(64), nullable=False),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("owner", sa.String(128), nullable=False),
        sa.Column("attached_at", TS, nullable=False),
        sa.Column("review_every_days", sa.Integer, nullable=False),
        sa.Column("next_review", TS, nullable=False),
        sa.Column("content", sa.LargeBinary, nullable=False),
    )
    op.create_index("ix_manual_evidence_control", "manual_evidence", ["control_id", "attached_at"])


def downgrade() -> None:
    op.drop_index("ix_manual_evidence_control", table_name="manual_evidence")
    op.drop_table("manual_evidence")

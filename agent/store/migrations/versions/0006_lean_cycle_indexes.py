"""Drop three indexes that every cycle paid for in bytes but no frequent query used: snapshots by
finished_at (point-in-time lookups walk snapshots by id), runs by (source, started_at) (nothing
filters on it) and evidence_log by at (only export and retention, once a day, look entries up by
time, and a scan of a year's chain is milliseconds). Part of keeping an unchanged cycle under 1 KB.

Revision ID: 0006
Revises: 0005
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

DROPPED = (
    ("ix_snapshots_finished", "snapshots", ["finished_at"]),
    ("ix_runs_source_started", "runs", ["source", "started_at"]),
    ("ix_evidence_log_at", "evidence_log", ["at"]),
)


def upgrade() -> None:
    for name, table, _ in DROPPED:
        op.drop_index(name, table_name=table)


def downgrade() -> None:
    for name, table, columns in DROPPED:
        op.create_index(name, table, columns)

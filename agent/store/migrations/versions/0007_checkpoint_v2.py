"""Checkpoint version 2 (docs/evidence-format.md, "Checkpoints"): the body version, the signed
cadence, a key announcement and a rotation per checkpoint row, and the store's id in a one-row table
(every version-2 body names it; kept once rather than in each hourly row).

The key's fingerprint goes in the existing ``key_id`` column (64 hex characters; version-1 rows keep
their 16-character key id). ``evidence_store`` is append-only like the other evidence tables: its one
row is written with the first version-2 checkpoint and never changes.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

COLUMNS = ("v", "cadence_s", "announce", "rotate_to")


def upgrade() -> None:
    # nullable: rows written before are version 1 and have none of them
    op.add_column("evidence_checkpoints", sa.Column("v", sa.SmallInteger, nullable=True))
    op.add_column("evidence_checkpoints", sa.Column("cadence_s", sa.Integer, nullable=True))
    op.add_column("evidence_checkpoints", sa.Column("announce", sa.String(64), nullable=True))
    op.add_column("evidence_checkpoints", sa.Column("rotate_to", sa.String(64), nullable=True))
    op.create_table(
        "evidence_store",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),  # always 1
        sa.Column("store_id", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    if op.get_bind().dialect.name == "postgresql":
        # posture_refuse_change() is migration 0004's
        op.execute(
            "CREATE TRIGGER evidence_store_append_only BEFORE UPDATE OR DELETE ON evidence_store "
            "FOR EACH ROW EXECUTE FUNCTION posture_refuse_change()"
        )
        op.execute(
            "CREATE TRIGGER evidence_store_no_truncate BEFORE TRUNCATE ON evidence_store "
            "FOR EACH STATEMENT EXECUTE FUNCTION posture_refuse_change()"
        )
        return
    for what in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER evidence_store_no_{what.lower()} BEFORE {what} ON evidence_store BEGIN "
            f"SELECT RAISE(ABORT, 'posture-agent evidence is append-only: {what} on evidence_store "
            "refused'); END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS evidence_store_append_only ON evidence_store")
        op.execute("DROP TRIGGER IF EXISTS evidence_store_no_truncate ON evidence_store")
    else:
        op.execute("DROP TRIGGER IF EXISTS evidence_store_no_update")
        op.execute("DROP TRIGGER IF EXISTS evidence_store_no_delete")
    op.drop_table("evidence_store")
    for column in reversed(COLUMNS):
        # SQLite (3.35+) drops a column in place, leaving the table's triggers alone
        op.execute(f"ALTER TABLE evidence_checkpoints DROP COLUMN {column}")

"""SHA-256 columns of the rows every cycle writes as 32 bytes on PostgreSQL (agent.store.schema.Sha256Hex):
64 hex characters cost 65 bytes a value there against 33, and an unchanged cycle writes about ten of
them (docs/benchmarks.md, "A year signed and witnessed"). SQLite keeps the text. The code reads and
writes hex either way. ``snapshots.manifest_hash`` is a foreign key to ``blobs.hash``: the constraint is
dropped, both columns change, and it is made again.

Revision ID: 0009
Revises: 0008
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

COLUMNS = {
    "evidence_log": ("content_hash", "prev_hash", "entry_hash"),
    "blobs": ("hash",),
    "snapshots": ("manifest_hash", "results_hash"),
    "evidence_checkpoints": ("head_hash", "pruned_hash", "prev_hash", "checkpoint_hash"),
}


FK = "snapshots_manifest_hash_fkey"  # PostgreSQL's name for migration 0001's unnamed constraint


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"ALTER TABLE snapshots DROP CONSTRAINT IF EXISTS {FK}")
    for table, columns in COLUMNS.items():
        # one rewrite per table; ALTER TABLE fires no row trigger, so the append-only guards stay in place
        changes = ", ".join(f"ALTER COLUMN {c} TYPE bytea USING decode({c}, 'hex')" for c in columns)
        op.execute(f"ALTER TABLE {table} {changes}")
    op.execute(f"ALTER TABLE snapshots ADD CONSTRAINT {FK} FOREIGN KEY (manifest_hash) REFERENCES blobs (hash)")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"ALTER TABLE snapshots DROP CONSTRAINT IF EXISTS {FK}")
    for table, columns in COLUMNS.items():
        changes = ", ".join(f"ALTER COLUMN {c} TYPE varchar(64) USING encode({c}, 'hex')" for c in columns)
        op.execute(f"ALTER TABLE {table} {changes}")
    op.execute(f"ALTER TABLE snapshots ADD CONSTRAINT {FK} FOREIGN KEY (manifest_hash) REFERENCES blobs (hash)")

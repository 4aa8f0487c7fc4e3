"""SHA-256 columns of the rows every cycle writes as 32 bytes (agent.store.schema.Sha256Hex): 64 hex
characters cost 64 to 65 bytes a value against 32 to 33, and an unchanged cycle writes about ten of them
(docs/benchmarks.md, "A year signed and witnessed"). The code reads and writes hex either way.

PostgreSQL: the columns become bytea (``snapshots.manifest_hash`` is a foreign key to ``blobs.hash``:
the constraint is dropped, both change, and it is made again). SQLite keeps its declared types (a
column holds any value there) and each stored value is rewritten as a BLOB, with the append-only
triggers lifted for the rewrite and made again from their own SQL.

Revision ID: 0009
Revises: 0008
"""

from typing import Any

import sqlalchemy as sa
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


KEYS = {"evidence_log": "seq", "blobs": "hash", "snapshots": "id", "evidence_checkpoints": "seq"}


def _sqlite_rewrite(convert: Any) -> None:
    """Every value of COLUMNS rewritten by ``convert``, triggers lifted meanwhile; the foreign key from
    snapshots to blobs checked at commit, when both sides are rewritten."""
    conn = op.get_bind()
    conn.execute(sa.text("PRAGMA defer_foreign_keys = ON"))
    names = ", ".join(f"'{t}'" for t in COLUMNS)
    triggers = conn.execute(
        sa.text(f"SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN ({names})")
    ).all()
    for name, _sql in triggers:
        conn.execute(sa.text(f'DROP TRIGGER "{name}"'))
    # rewriting a blob's hash makes SQLite look for snapshots naming it: without this index, a scan per blob
    conn.execute(sa.text("CREATE INDEX tmp_0009_snapshots_manifest ON snapshots (manifest_hash)"))
    for table, columns in COLUMNS.items():
        key = KEYS[table]
        rows = conn.execute(sa.text(f"SELECT {key}, {', '.join(columns)} FROM {table}")).all()
        updates = [{"k": row[0], **{c: convert(row[i + 1]) for i, c in enumerate(columns)}} for row in rows]
        if updates:
            sets = ", ".join(f"{c} = :{c}" for c in columns)
            conn.execute(sa.text(f"UPDATE {table} SET {sets} WHERE {key} = :k"), updates)
    conn.execute(sa.text("DROP INDEX tmp_0009_snapshots_manifest"))
    for _name, sql in triggers:
        conn.execute(sa.text(sql))


def _to_bytes(value: Any) -> Any:
    return bytes.fromhex(value) if isinstance(value, str) else value


def _to_hex(value: Any) -> Any:
    return bytes(value).hex() if isinstance(value, bytes | memoryview) else value


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_rewrite(_to_bytes)
        return
    op.execute(f"ALTER TABLE snapshots DROP CONSTRAINT IF EXISTS {FK}")
    for table, columns in COLUMNS.items():
        # one rewrite per table; ALTER TABLE fires no row trigger, so the append-only guards stay in place
        changes = ", ".join(f"ALTER COLUMN {c} TYPE bytea USING decode({c}, 'hex')" for c in columns)
        op.execute(f"ALTER TABLE {table} {changes}")
    op.execute(f"ALTER TABLE snapshots ADD CONSTRAINT {FK} FOREIGN KEY (manifest_hash) REFERENCES blobs (hash)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_rewrite(_to_hex)
        return
    op.execute(f"ALTER TABLE snapshots DROP CONSTRAINT IF EXISTS {FK}")
    for table, columns in COLUMNS.items():
        changes = ", ".join(f"ALTER COLUMN {c} TYPE varchar(64) USING encode({c}, 'hex')" for c in columns)
        op.execute(f"ALTER TABLE {table} {changes}")
    op.execute(f"ALTER TABLE snapshots ADD CONSTRAINT {FK} FOREIGN KEY (manifest_hash) REFERENCES blobs (hash)")

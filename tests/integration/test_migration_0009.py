"""Migration 0009 on stores holding data: every SHA-256 column becomes 32 bytes, the values read back
as the same hex through the tables, the foreign key from snapshots to blobs still holds, the
append-only guards stay, and the downgrade gives the text back."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config as AlembicConfig

from agent.store import Store
from agent.store import schema as t
from agent.store.db import MIGRATIONS
from agent.store.evidence_tables import evidence_checkpoints

H = {name: f"{i:x}" * 64 for i, name in enumerate(("blob", "results", "content", "prev", "entry", "head", "cp"), 1)}


def _migrate(store: Store, revision: str, *, down: bool = False) -> None:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with store.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        (command.downgrade if down else command.upgrade)(cfg, revision)


def _types(store: Store) -> set[str]:
    with store.engine.connect() as conn:
        return {
            r[0]
            for r in conn.execute(
                sa.text(
                    "SELECT data_type FROM information_schema.columns WHERE table_schema = current_schema() AND "
                    "(table_name, column_name) IN (('blobs', 'hash'), ('snapshots', 'manifest_hash'), "
                    "('evidence_log', 'entry_hash'), ('evidence_checkpoints', 'checkpoint_hash'))"
                )
            )
        }


@pytest.mark.postgres
def test_hashes_become_bytes_and_read_back_as_hex(pg_url: str) -> None:
    store = Store(pg_url)
    try:
        _migrate(store, "0008")
        with store.engine.begin() as conn:  # rows as a 0008 agent wrote them: hashes as hex text
            conn.execute(
                sa.text("INSERT INTO blobs (hash, kind, size, body) VALUES (:h, 'manifest', 2, '\\x00')"),
                {"h": H["blob"]},
            )
            conn.execute(
                sa.text(
                    "INSERT INTO runs (id, source, provider, started_at, finished_at, status, "
                    "resource_count, error_count, detail) VALUES ('r1', 's', 'aws', now(), now(), "
                    "'complete', 0, 0, '{}')"
                )
            )
            conn.execute(
                sa.text(
                    "INSERT INTO snapshots (id, run_id, source, provider, account, started_at, "
                    "finished_at, status, errors, manifest_hash, results_hash, resource_count) VALUES "
                    "(1, 'r1', 's', 'aws', 'a', now(), now(), 'complete', '[]', :m, :r, 0)"
                ),
                {"m": H["blob"], "r": H["results"]},
            )
            conn.execute(
                sa.text(
                    "INSERT INTO evidence_log (seq, at, kind, ref, content, content_hash, prev_hash, "
                    "entry_hash) VALUES (1, now(), 'cycle', 'r1', '{}', :c, :p, :e)"
                ),
                {"c": H["content"], "p": H["prev"], "e": H["entry"]},
            )
            conn.execute(
                sa.text(
                    "INSERT INTO evidence_checkpoints (seq, at, head_seq, head_hash, pruned_through, "
                    "pruned_hash, prev_hash, checkpoint_hash) VALUES (1, now(), 1, :h, 0, :p, :p, :c)"
                ),
                {"h": H["head"], "p": "0" * 64, "c": H["cp"]},
            )
        assert _types(store) == {"character varying"}
        _migrate(store, "head")
        assert _types(store) == {"bytea"}
        with store.engine.connect() as conn:
            assert conn.execute(sa.select(t.blobs.c.hash)).scalar() == H["blob"]
            snap = conn.execute(sa.select(t.snapshots.c.manifest_hash, t.snapshots.c.results_hash)).one()
            assert tuple(snap) == (H["blob"], H["results"])
            entry = conn.execute(
                sa.select(t.evidence_log.c.content_hash, t.evidence_log.c.prev_hash, t.evidence_log.c.entry_hash)
            ).one()
            assert tuple(entry) == (H["content"], H["prev"], H["entry"])
            cp = evidence_checkpoints.c
            assert tuple(
                conn.execute(sa.select(cp.head_hash, cp.pruned_hash, cp.prev_hash, cp.checkpoint_hash)).one()
            ) == (H["head"], "0" * 64, "0" * 64, H["cp"])
            # 32 bytes each, and the foreign key still refuses a snapshot of a missing manifest
            assert conn.execute(sa.text("SELECT octet_length(hash) FROM blobs")).scalar() == 32
        with pytest.raises(sa.exc.IntegrityError), store.engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO snapshots (id, run_id, source, provider, account, started_at, "
                    "finished_at, status, errors, manifest_hash, results_hash, resource_count) VALUES "
                    "(2, 'r1', 's', 'aws', 'a', now(), now(), 'complete', '[]', :m, :m, 0)"
                ),
                {"m": bytes(32)},
            )
        _migrate(store, "0008", down=True)
        assert _types(store) == {"character varying"}
        with store.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT entry_hash FROM evidence_log")).scalar() == H["entry"]
    finally:
        store.close()


def test_sqlite_values_become_blobs_and_read_back_as_hex(tmp_path: Path) -> None:
    """SQLite keeps the declared types; each stored hash is rewritten as a BLOB under lifted triggers,
    which come back (an UPDATE of the chain is refused again afterwards)."""
    store = Store(f"sqlite:///{tmp_path / 'posture.db'}")
    try:
        _migrate(store, "0008")
        with store.engine.begin() as conn:
            conn.execute(
                sa.text("INSERT INTO blobs (hash, kind, size, body) VALUES (:h, 'manifest', 1, x'00')"),
                {"h": H["blob"]},
            )
            conn.execute(
                sa.text(
                    "INSERT INTO runs (id, source, provider, started_at, finished_at, status, "
                    "resource_count, error_count, detail) VALUES ('r1', 's', 'aws', '2026-01-01', "
                    "'2026-01-01', 'complete', 0, 0, '{}')"
                )
            )
            conn.execute(
                sa.text(
                    "INSERT INTO snapshots (id, run_id, source, provider, account, started_at, "
                    "finished_at, status, errors, manifest_hash, results_hash, resource_count) VALUES "
                    "(1, 'r1', 's', 'aws', 'a', '2026-01-01', '2026-01-01', 'complete', '[]', :m, :r, 0)"
                ),
                {"m": H["blob"], "r": H["results"]},
            )
            conn.execute(
                sa.text(
                    "INSERT INTO evidence_log (seq, at, kind, ref, content, content_hash, prev_hash, "
                    "entry_hash) VALUES (1, '2026-01-01', 'cycle', 'r1', '{}', :c, :p, :e)"
                ),
                {"c": H["content"], "p": H["prev"], "e": H["entry"]},
            )
        _migrate(store, "head")
        with store.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT typeof(hash) || typeof(body) FROM blobs")).scalar() == "blobblob"
            assert conn.execute(sa.text("SELECT typeof(entry_hash) FROM evidence_log")).scalar() == "blob"
            assert conn.execute(sa.text("SELECT length(manifest_hash) FROM snapshots")).scalar() == 32
            entry = conn.execute(
                sa.select(t.evidence_log.c.content_hash, t.evidence_log.c.prev_hash, t.evidence_log.c.entry_hash)
            ).one()
            assert tuple(entry) == (H["content"], H["prev"], H["entry"])
            joined = sa.select(t.blobs.c.hash).join(t.snapshots, t.snapshots.c.manifest_hash == t.blobs.c.hash)
            assert conn.execute(joined).scalar() == H["blob"]
        with pytest.raises(sa.exc.DatabaseError, match="append-only"), store.engine.begin() as conn:
            conn.execute(sa.text("UPDATE evidence_log SET kind = 'x'"))
        _migrate(store, "0008", down=True)
        with store.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT entry_hash FROM evidence_log")).scalar() == H["entry"]
            assert conn.execute(sa.text("SELECT typeof(hash) FROM blobs")).scalar() == "text"
    finally:
        store.close()


def test_a_lookup_by_something_not_a_hash_finds_nothing(store: Store) -> None:
    """Names read from altered evidence (a manifest's base, a resource address) are looked up as they are:
    a string that is not 64 hex characters finds nothing instead of raising."""
    from agent.evidence.store_records import load_store_records
    from agent.store.db import reachable_blobs

    for bad in ("zz", "", "0" * 63, "é" * 64, "\x00"):
        assert load_store_records(store).blob(bad) is None
        with store.engine.connect() as conn:
            assert reachable_blobs(conn, [bad]) == set()

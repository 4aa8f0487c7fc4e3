"""Read every evidence record of the store into ``Records`` (for `evidence verify` without a bundle).

The verifier receives uncompressed blob bodies: the store keeps them zstd-compressed, so they are
decompressed here; a body that does not decompress is handed over as ``Unreadable``."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from posture_verify.records import BlobRow, Records, Unreadable
from sqlalchemy import Connection, select

from agent.models import isoformat, utcnow
from agent.store import schema as t
from agent.store.alerting import alerts_outbox, drift_events, exceptions
from agent.store.anchor_rows import load_witness_rows
from agent.store.blobs import decompress
from agent.store.db import Store
from agent.store.evidence_tables import evidence_checkpoints, evidence_store
from agent.store.manual import manual_evidence
from agent.store.rows import norm

__all__ = ["load_store_records"]


def _grouped(conn: Connection, table: Any) -> dict[int, list[dict[str, Any]]]:
    out: dict[int, list[dict[str, Any]]] = {}
    for row in conn.execute(select(table).order_by(table.c.id)):
        d = norm(row)
        out.setdefault(int(d["snapshot_id"]), []).append(d)
    return out


def _decompressed(body: Any) -> bytes | Unreadable:
    try:
        return decompress(bytes(body))
    except Exception:  # zstandard.ZstdError: altered compressed bytes
        return Unreadable("body is not valid zstd (altered)")


def load_store_records(store: Store, now: datetime | None = None) -> Records:
    """Every record of the store; ``now`` (default: the clock) ends the period the signed cadence is
    measured up to."""
    # asked before the connection below opens: on SQLite every transaction takes the write lock, so a
    # second connection inside it would wait for the first
    anchored = store.has_table("evidence_anchors")
    with store.engine.connect() as conn:
        entries = [norm(r) for r in conn.execute(select(t.evidence_log).order_by(t.evidence_log.c.seq))]
        checkpoints = [norm(r) for r in conn.execute(select(evidence_checkpoints).order_by(evidence_checkpoints.c.seq))]
        sid = conn.execute(select(evidence_store.c.store_id)).scalar()
        for c in checkpoints:  # every version-2 body names the store, kept once in evidence_store
            if c.get("v") is not None:
                c["store"] = sid
        runs = {r.id: norm(r) for r in conn.execute(select(t.runs))}
        snapshots = {int(r.id): norm(r) for r in conn.execute(select(t.snapshots))}
        events = _grouped(conn, t.finding_events)
        drift = _grouped(conn, drift_events)
        manual: dict[int, dict[str, Any]] = {}
        for r in conn.execute(select(manual_evidence)):
            d = {k: v for k, v in norm({c: getattr(r, c) for c in r._mapping if c != "content"}).items()}
            try:
                d["content_sha256"] = hashlib.sha256(decompress(r.content)).hexdigest()
            except Exception:  # corrupt compressed bytes: reported as a mismatch
                d["content_sha256"] = "unreadable"
            manual[int(r.id)] = d
        excs = {int(r.id): norm(r) for r in conn.execute(select(exceptions))}
        witnesses = load_witness_rows(conn) if anchored else []
        outbox = {int(r.id): norm(r) for r in conn.execute(select(alerts_outbox))}

    def blob(hash_: str) -> bytes | None:
        with store.engine.connect() as c:
            body = c.execute(select(t.blobs.c.body).where(t.blobs.c.hash == hash_)).scalar()
        raw = _decompressed(body) if body is not None else None
        return raw if isinstance(raw, bytes) else None

    def blob_rows() -> Iterator[BlobRow]:
        with store.engine.connect() as c:
            result = c.execution_options(yield_per=500).execute(
                select(t.blobs.c.hash, t.blobs.c.kind, t.blobs.c.size, t.blobs.c.body)
            )
            for r in result:
                yield r.hash, r.kind, int(r.size), _decompressed(r.body)

    return Records(
        entries=entries,
        checkpoints=checkpoints,
        runs=runs,
        snapshots=snapshots,
        events=events,
        drift=drift,
        manual=manual,
        exceptions=excs,
        outbox=outbox,
        blob=blob,
        blob_rows=blob_rows,
        complete=True,
        where="store",
        witnesses=witnesses,
        store_id=str(sid) if sid else None,
        period_end=isoformat(now or utcnow()),
    )

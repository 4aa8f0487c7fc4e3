"""The latest stored collection of a source, for a source that joins what others collected (the people
ledger reads the identity sources' snapshots here, never their clouds).

Read-only. ``latest_collection`` gives the source's latest run (its status and error, a failed run
stores no snapshot) and the snapshots of the latest run that stored any, with their manifest hashes:
what was joined, by content, and when it was collected.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from agent.models import Snapshot
from agent.store import schema as t

__all__ = ["LatestCollection", "StoredSnapshotRef", "latest_collection"]


@dataclass(frozen=True)
class StoredSnapshotRef:
    snapshot: Snapshot
    snapshot_id: int
    run_id: str
    manifest_hash: str


@dataclass(frozen=True)
class LatestCollection:
    source: str
    provider: str
    run_id: str
    run_status: str  # complete | partial | failed
    run_finished_at: datetime
    run_error: str  # why the latest run failed ("" when it ran)
    snapshots: tuple[StoredSnapshotRef, ...]  # of the latest run that stored any (may be older than the run)


def _run_error(detail: Any) -> str:
    try:
        value = json.loads(detail) if isinstance(detail, str) else detail
    except ValueError:
        return ""
    error = value.get("error") if isinstance(value, dict) else None
    return str(error) if error else ""


def latest_collection(store: Any, source: str) -> LatestCollection | None:
    """The latest run of ``source`` and the snapshots of its latest run that stored any; None when the
    source never ran. Snapshots of other types than wanted are loaded too: a caller keeps what it needs."""
    with store.engine.connect() as conn:
        run = conn.execute(
            select(t.runs.c.id, t.runs.c.provider, t.runs.c.status, t.runs.c.finished_at, t.runs.c.detail)
            .where(t.runs.c.source == source)
            .order_by(t.runs.c.finished_at.desc(), t.runs.c.id.desc())
            .limit(1)
        ).first()
        if run is None:
            return None
        last = conn.execute(
            select(t.snapshots.c.run_id)
            .where(t.snapshots.c.source == source)
            .order_by(t.snapshots.c.id.desc())
            .limit(1)
        ).scalar()
        rows = (
            list(
                conn.execute(
                    select(t.snapshots.c.id, t.snapshots.c.manifest_hash)
                    .where(t.snapshots.c.run_id == last, t.snapshots.c.source == source)
                    .order_by(t.snapshots.c.id)
                )
            )
            if last is not None
            else []
        )
    refs = tuple(
        StoredSnapshotRef(
            snapshot=store.load_snapshot(int(r.id)),
            snapshot_id=int(r.id),
            run_id=str(last),
            manifest_hash=str(r.manifest_hash),
        )
        for r in rows
    )
    return LatestCollection(
        source=source,
        provider=str(run.provider),
        run_id=str(run.id),
        run_status=str(run.status),
        run_finished_at=run.finished_at,
        run_error=_run_error(run.detail),
        snapshots=refs,
    )

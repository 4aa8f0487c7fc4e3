"""The store as it was at a moment: findings replayed from their events up to that time, and the
latest snapshot of each source and account then, with the chain entry that commits to it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from agent.models import isoformat
from agent.store import schema as t
from agent.store.db import Store

__all__ = ["StateAt", "state_at"]


@dataclass(frozen=True)
class StateAt:
    findings: dict[str, dict[str, Any]]  # finding uid -> check_id, resource_id, status, message, since, snapshot_id
    snapshots: dict[int, dict[str, Any]]  # snapshot id -> the latest snapshot of its source and account
    entries: dict[int, dict[str, Any]]  # snapshot id -> the chain entry (seq, entry_hash) of its cycle


def state_at(store: Store, checks: Sequence[str], at: datetime) -> StateAt:
    """The findings of ``checks`` as they stood at ``at``, and the snapshots the agent had then."""
    fe = t.finding_events.c
    state: dict[str, dict[str, Any]] = {}
    with store.engine.connect() as conn:
        for e in conn.execute(select(t.finding_events).where(fe.check_id.in_(checks), fe.at <= at).order_by(fe.id)):
            if e.status == "gone":
                state.pop(e.uid, None)
            else:
                state[e.uid] = {
                    "check_id": e.check_id,
                    "resource_id": e.resource_id,
                    "status": e.status,
                    "message": e.message,
                    "since": isoformat(e.at),
                    "snapshot_id": e.snapshot_id,
                }
        snaps: dict[int, dict[str, Any]] = {}
        latest: dict[Any, Any] = {}
        for s in conn.execute(
            select(t.snapshots).where(t.snapshots.c.finished_at <= at).order_by(t.snapshots.c.id.desc()).limit(200)
        ):
            latest.setdefault((s.source, s.account), s)
        for s in latest.values():
            snaps[s.id] = {
                "snapshot_id": s.id,
                "source": s.source,
                "account": s.account,
                "finished_at": isoformat(s.finished_at),
                "manifest_hash": s.manifest_hash,
                "results_hash": s.results_hash,
                "status": s.status,
            }
        entry = {}
        el = t.evidence_log.c
        for s in latest.values():
            # the cycle entry of the snapshot's run (a legacy store: the snapshot's own entry)
            row = conn.execute(
                select(el.seq, el.entry_hash).where(
                    ((el.kind == "cycle") & (el.ref == s.run_id)) | (el.ref == f"snapshot:{s.id}")
                )
            ).first()
            if row:
                entry[s.id] = {"seq": row.seq, "entry_hash": row.entry_hash}
    return StateAt(findings=state, snapshots=snaps, entries=entry)

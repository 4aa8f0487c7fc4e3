"""One cycle's write transaction, as the pipeline's stages see it.

`Store.cycle(run)` opens it; the pipeline writes the snapshots, reads what its pure stages need
(the resources that changed, the current findings, the exceptions due a notice) and writes back
what they derived (drift events, outbox rows). Everything commits together or not at all, so an
alert can never be lost or sent for a cycle that was not stored.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import Connection, insert, select, update

from agent.alerts.model import Alert
from agent.drift import DriftEvent, diff_manifests
from agent.models import ExceptionRule, Finding, Resource, Snapshot
from agent.store import exception_rules, manual, outbox
from agent.store import schema as t
from agent.store.alerting import drift_events
from agent.store.blobs import resolve_manifest
from agent.store.records import RunRecord, SnapshotWrite

if TYPE_CHECKING:
    from agent.store.db import Store

__all__ = ["ChangedResources", "CycleTransaction", "StoredSnapshot"]


@dataclass(frozen=True, kw_only=True)
class StoredSnapshot:
    """A snapshot row as committed with this cycle (its collection errors resolved)."""

    id: int
    source: str
    provider: str
    account: str
    finished_at: datetime
    errors: tuple[dict[str, Any], ...]


@dataclass(frozen=True, kw_only=True)
class ChangedResources:
    """The bodies of the resources whose content hash differs from the previous snapshot's."""

    previous: dict[str, Resource]  # removed or modified, as they were
    current: dict[str, Resource]  # added or modified, as they are


class CycleTransaction:
    def __init__(self, store: Store, conn: Connection, run: RunRecord) -> None:
        self.store = store
        self.conn = conn
        self.run = run
        self.keys: set[tuple[str, str]] = set()  # (source, account) written: forgotten on rollback
        # snapshot id -> (the snapshot as committed, the manifest it replaced)
        self._written: dict[int, tuple[StoredSnapshot, dict[str, str] | None]] = {}

    def write_snapshots(
        self, results: Sequence[tuple[Snapshot, Sequence[Finding]]], staged: Mapping[str, int] | None = None
    ) -> list[SnapshotWrite]:
        """The run, its snapshots, bodies, manifests and finding changes, and the cycle's chain entry
        (``staged``: bodies Store.stage_bodies wrote ahead for this cycle, counted as its own)."""
        self.keys.update((s.source, s.account) for s, _ in results)
        return self.store._write_cycle(self.conn, self.run, results, self._written, staged)

    def snapshot(self, write: SnapshotWrite) -> StoredSnapshot:
        return self._written[write.snapshot_id][0]

    def changed_resources(self, snap: StoredSnapshot, write: SnapshotWrite) -> ChangedResources | None:
        """None for the first snapshot of its (source, account): the baseline, not drift."""
        previous = self._written[write.snapshot_id][1]
        if previous is None:
            return None
        current = self.store.resolved_manifest(snap.source, snap.account, write.manifest_hash)
        if current is None:
            current = resolve_manifest(write.manifest_hash, self._blob)
        added, removed, modified = diff_manifests(previous, current)
        return ChangedResources(
            previous={rid: self._resource(previous[rid]) for rid in (*removed, *modified)},
            current={rid: self._resource(current[rid]) for rid in (*added, *modified)},
        )

    def current_findings(self) -> list[dict[str, Any]]:
        """Every current finding of every source, this cycle's writes included."""
        return [dict(r._mapping) for r in self.conn.execute(select(t.finding_current))]

    def manual_evidence(self) -> list[manual.EvidenceRecord]:
        return manual.records_in(self.conn)

    def exception_rules(self) -> list[ExceptionRule]:
        return exception_rules.load_rules(self.conn)

    def mark_notified(self, rule_id: int, column: Literal["warned_at", "expired_at"]) -> None:
        exception_rules.mark_notified(self.conn, rule_id, column, self.run.finished_at)

    def record_drift(self, snap: StoredSnapshot, events: Sequence[DriftEvent]) -> None:
        """The snapshot's drift events and one ``drift`` chain entry committing to them."""
        if not events:
            return
        rows = [_event_row(e, self.run.id, snap.id, snap.finished_at) for e in events]
        self.conn.execute(insert(drift_events), rows)
        self.store.append_evidence(
            self.conn,
            at=self.run.finished_at,  # the entry's time is when it is written (with the cycle), not the snapshot's
            kind="drift",
            ref=f"drift:{snap.id}",
            content={
                "run": self.run.id,
                "snapshot": snap.id,
                "source": snap.source,
                "account": snap.account,
                "events": rows,
            },
        )

    def complete_sweep(self, sweep_id: str) -> bool:
        """Close the sweep when this run's claim was its last account (agent/store/sweep_rows.py)."""
        from agent.store.sweep_rows import complete

        return complete(self.conn, sweep_id, self.run.finished_at)

    def sweep_requirement_states(
        self, sweep_id: str, states: dict[str, tuple[str, str, str]]
    ) -> dict[str, tuple[str, str, str]] | None:
        """Keep ``states`` as the ended sweep's; returns those of the sweep that ended before it."""
        from agent.store.sweep_rows import keep_requirement_states, last_requirement_states

        previous = last_requirement_states(self.conn, before=sweep_id)
        keep_requirement_states(self.conn, sweep_id, states)
        return previous

    def claim(self, sweep_id: str, account: str, outcome: str) -> bool:
        """Record this run as (sweep, account)'s one run; False when another run (a redelivered
        task's, or the deadline's gap) already did, or the sweep does not expect that account."""
        from agent.store.sweep_rows import sweep_accounts as sa_

        done = self.conn.execute(
            update(sa_)
            .where(sa_.c.sweep_id == sweep_id, sa_.c.account == account, sa_.c.run_id.is_(None))
            .values(run_id=self.run.id, outcome=outcome, recorded_at=self.run.finished_at)
        )
        return done.rowcount == 1

    def enqueue(self, items: Sequence[tuple[str, str, Alert]]) -> None:
        """(channel, dedup key, alert) rows for the dispatcher; a key already queued is skipped."""
        if items:
            outbox.enqueue(self.conn, items, self.run.finished_at)

    def _blob(self, hash_: str) -> bytes:
        return self.store._blob(self.conn, hash_)

    def _resource(self, hash_: str) -> Resource:
        return Resource.from_dict(json.loads(self._blob(hash_)))


def _event_row(e: DriftEvent, run_id: str, snapshot_id: int, at: datetime) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "snapshot_id": snapshot_id,
        "source": e.source,
        "provider": e.provider,
        "account": e.account,
        "region": e.region,
        "kind": e.kind,
        "check_id": e.check_id,
        "resource_id": e.resource_id,
        "resource_type": e.resource_type,
        "severity": e.severity,
        "previous_status": e.previous_status,
        "status": e.status,
        "detail": json.dumps(e.detail, sort_keys=True, default=str),
        "at": at,
    }

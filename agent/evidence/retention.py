"""Retention: delete evidence older than ``evidence.retention_days`` through the audited path only.

The pruned prefix of the chain is the entries before the first one at or after the cutoff. The rows
those entries commit to (runs, snapshots and their finding and drift events) are deleted, then every
blob no remaining snapshot reaches. Manual documents and exceptions are kept: the 'prune' entry
vouches for them again (a hash of each row), so they stay covered by the chain. Deletion goes
through ``posture_prune(cutoff)`` on PostgreSQL or the ``evidence_prune_guard`` row on SQLite; the
triggers refuse any other DELETE. A checkpoint with ``pruned_through``/``pruned_hash`` anchors what
remains, so ``evidence verify`` still checks every link after the cut.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, func, select, text, update

from agent.evidence.checkpoints import Signer, write_checkpoint
from agent.evidence.records import AUDITED_COLUMNS, cycle_snapshot_ids, kept_row_hash
from agent.models import isoformat
from agent.store import Store
from agent.store import schema as t
from agent.store.alerting import drift_events, exceptions
from agent.store.db import errors_blob, reachable_blobs
from agent.store.evidence_tables import evidence_prune_guard
from agent.store.manual import manual_evidence

__all__ = ["PruneResult", "prune"]

_BATCH = 500


@dataclass
class PruneResult:
    cutoff: datetime
    pruned_through: int  # last pruned seq (0: nothing to prune)
    entries: int = 0
    runs: int = 0
    snapshots: int = 0
    finding_events: int = 0
    drift_events: int = 0
    blobs: int = 0
    dry_run: bool = False

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["cutoff"] = isoformat(self.cutoff)
        return d


def _chunks(ids: list[Any]) -> Iterable[list[Any]]:
    for i in range(0, len(ids), _BATCH):
        yield ids[i : i + _BATCH]


def _boundary(conn: Connection, cutoff: datetime) -> tuple[int, str] | None:
    """(last pruned seq, its entry hash): the entries before the first one at or after the cutoff."""
    el = t.evidence_log.c
    first_kept = conn.execute(select(func.min(el.seq)).where(el.at >= cutoff)).scalar()
    if first_kept is None:  # everything is old: keep the newest entry as the head
        first_kept = conn.execute(select(func.max(el.seq))).scalar()
    if first_kept is None:
        return None
    start = conn.execute(select(func.min(el.seq))).scalar()
    if start is None or int(first_kept) <= int(start):
        return None
    row = conn.execute(select(el.seq, el.entry_hash).where(el.seq == int(first_kept) - 1)).one()
    return int(row.seq), row.entry_hash


def _whole_cycles(conn: Connection, through: int, through_hash: str) -> tuple[int, str]:
    """Move the cut back so it never separates a legacy snapshot entry from its run's entry (the run
    entry came last in a cycle): a run and its snapshots are pruned together or kept together. A
    cycle entry holds both, so stores written since need no adjustment."""
    el, sn = t.evidence_log.c, t.snapshots.c
    while through > 0:
        tail = conn.execute(
            select(el.seq, el.kind, el.ref).where(el.seq <= through, el.seq > through - 64).order_by(el.seq)
        ).all()
        sids = [int(r.ref.partition(":")[2]) for r in tail if r.kind == "collection"]
        runs = set(conn.execute(select(sn.run_id).where(sn.id.in_(sids))).scalars()) if sids else set()
        pruned_runs = {r.ref for r in tail if r.kind == "run"}
        open_runs = runs - pruned_runs
        if not open_runs:
            break
        open_sids = set(conn.execute(select(sn.id).where(sn.run_id.in_(sorted(open_runs)))).scalars())
        first = min(r.seq for r in tail if r.kind == "collection" and int(r.ref.partition(":")[2]) in open_sids)
        through = int(first) - 1
    if through <= 0:
        return 0, ""
    row = conn.execute(select(el.entry_hash).where(el.seq == through)).scalar()
    return (through, row) if row is not None else (0, "")


def _allow_delete(store: Store, conn: Connection, cutoff: datetime, on: bool) -> None:
    if store.dialect == "postgresql":
        if on:
            conn.execute(text("SELECT posture_prune(:cutoff)"), {"cutoff": cutoff})
        return  # transaction-local: it ends with the transaction
    conn.execute(update(evidence_prune_guard).where(evidence_prune_guard.c.id == 1).values(active=1 if on else 0))


def prune(
    store: Store, now: datetime, retention_days: int, *, signer: Signer | None = None, dry_run: bool = False
) -> PruneResult:
    """Delete evidence older than ``now - retention_days`` in one transaction; with ``dry_run``
    only count what would go."""
    cutoff = now - timedelta(days=retention_days)
    with store.transaction() as conn:
        bound = _boundary(conn, cutoff)
        if bound is None:
            return PruneResult(cutoff=cutoff, pruned_through=0, dry_run=dry_run)
        through, through_hash = _whole_cycles(conn, *bound)
        if not through:
            return PruneResult(cutoff=cutoff, pruned_through=0, dry_run=dry_run)
        el = t.evidence_log.c
        refs = conn.execute(select(el.kind, el.ref, el.content).where(el.seq <= through)).all()
        run_ids = sorted({r.ref for r in refs if r.kind in ("cycle", "run")})
        sids = sorted({int(r.ref.partition(":")[2]) for r in refs if r.kind == "collection"} | cycle_snapshot_ids(refs))
        drift_sids = sorted({int(r.ref.partition(":")[2]) for r in refs if r.kind == "drift"})
        kept_manual = {int(r.ref.partition(":")[2]) for r in refs if r.kind == "manual_evidence"}
        kept_exc = {int(r.ref.partition(":")[2]) for r in refs if r.kind == "exception"}
        res = PruneResult(
            cutoff=cutoff,
            pruned_through=through,
            entries=len(refs),
            runs=len(run_ids),
            snapshots=len(sids),
            dry_run=dry_run,
        )
        fe, de = t.finding_events.c, drift_events.c
        for ids in _chunks(sids):
            res.finding_events += int(conn.execute(select(func.count()).where(fe.snapshot_id.in_(ids))).scalar() or 0)
        for ids in _chunks(drift_sids):
            res.drift_events += int(conn.execute(select(func.count()).where(de.snapshot_id.in_(ids))).scalar() or 0)
        if dry_run:
            conn.rollback()
            return res
        _allow_delete(store, conn, cutoff, True)
        for ids in _chunks(sids):
            conn.execute(t.finding_events.delete().where(fe.snapshot_id.in_(ids)))
        for ids in _chunks(drift_sids):
            conn.execute(drift_events.delete().where(de.snapshot_id.in_(ids)))
        for ids in _chunks(sids):
            conn.execute(t.snapshots.delete().where(t.snapshots.c.id.in_(ids)))
        for ids in _chunks(run_ids):
            # a run's snapshots all went with it (same cycle, same entry range)
            conn.execute(t.runs.delete().where(t.runs.c.id.in_(ids)))
        conn.execute(t.evidence_log.delete().where(el.seq <= through))
        keep = reachable_blobs(conn, conn.execute(select(t.snapshots.c.manifest_hash).distinct()).scalars().all())
        keep |= {
            h
            for v in conn.execute(select(t.snapshots.c.errors).distinct()).scalars()
            if (h := errors_blob(v)) is not None
        }
        unused = [h for h in conn.execute(select(t.blobs.c.hash)).scalars() if h not in keep]
        for ids in _chunks(unused):
            conn.execute(t.blobs.delete().where(t.blobs.c.hash.in_(ids)))
        res.blobs = len(unused)
        _allow_delete(store, conn, cutoff, False)
        kept: dict[str, dict[str, str]] = {"manual_evidence": {}, "exceptions": {}}
        kept_sets: tuple[tuple[Any, str, set[int]], ...] = (
            (manual_evidence, "manual_evidence", kept_manual),
            (exceptions, "exceptions", kept_exc),
        )
        for table, name, kept_ids in kept_sets:
            for chunk in _chunks(sorted(kept_ids)):
                cols = [table.c[c] for c in AUDITED_COLUMNS[name]]
                for r in conn.execute(select(*cols).where(table.c.id.in_(chunk))):
                    kept[name][str(r.id)] = kept_row_hash(dict(r._mapping), name)
        store.append_evidence(
            conn,
            at=now,
            kind="prune",
            ref=f"prune:{through}",
            content={
                "cutoff": cutoff,
                "pruned_through": through,
                "pruned_hash": through_hash,
                "counts": {k: v for k, v in res.to_dict().items() if isinstance(v, int) and not isinstance(v, bool)},
                "kept": kept,
            },
        )
        write_checkpoint(store, conn, now, signer, pruned_through=through, pruned_hash=through_hash)
    return res


def describe(res: PruneResult) -> str:
    what = "would delete" if res.dry_run else "deleted"
    if not res.pruned_through:
        return f"nothing older than {isoformat(res.cutoff)} to prune"
    return (
        f"{what} evidence before {isoformat(res.cutoff)}: chain entries 1..{res.pruned_through} "
        f"({res.entries}), {res.runs} runs, {res.snapshots} snapshots, {res.finding_events} finding events, "
        f"{res.drift_events} drift events" + ("" if res.dry_run else f", {res.blobs} blobs")
    )

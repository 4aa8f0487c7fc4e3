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

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from agent.errors import StoreError
from agent.evidence.checkpoints import Signer, write_checkpoint
from agent.evidence.records import AUDITED_COLUMNS, cycle_snapshot_ids, kept_row_hash
from agent.models import isoformat
from agent.store import Store, prune_rows
from agent.store.prune_rows import PruneRows

__all__ = ["PruneResult", "prune"]


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


def _boundary(rows: PruneRows, cutoff: datetime) -> tuple[int, str] | None:
    """(last pruned seq, its entry hash): the entries before the first one at or after the cutoff."""
    first_kept = rows.first_seq_since(cutoff)
    if first_kept is None:  # everything is old: keep the newest entry as the head
        first_kept = rows.last_seq()
    if first_kept is None:
        return None
    start = rows.first_seq()
    if start is None or first_kept <= start:
        return None
    through = first_kept - 1
    through_hash = rows.entry_hash(through)
    if through_hash is None:
        raise StoreError(f"the evidence chain has no entry {through}")
    return through, through_hash


def _whole_cycles(rows: PruneRows, through: int, through_hash: str) -> tuple[int, str]:
    """Move the cut back so it never separates a legacy snapshot entry from its run's entry (the run
    entry came last in a cycle): a run and its snapshots are pruned together or kept together. A
    cycle entry holds both, so stores written since need no adjustment."""
    while through > 0:
        tail = rows.refs_between(through - 63, through)
        sids = [int(r.ref.partition(":")[2]) for r in tail if r.kind == "collection"]
        runs = rows.run_ids_of_snapshots(sids) if sids else set()
        pruned_runs = {r.ref for r in tail if r.kind == "run"}
        open_runs = runs - pruned_runs
        if not open_runs:
            break
        open_sids = rows.snapshot_ids_of_runs(sorted(open_runs))
        first = min(r.seq for r in tail if r.kind == "collection" and int(r.ref.partition(":")[2]) in open_sids)
        through = int(first) - 1
    if through <= 0:
        return 0, ""
    row = rows.entry_hash(through)
    return (through, row) if row is not None else (0, "")


def prune(
    store: Store, now: datetime, retention_days: int, *, signer: Signer | None = None, dry_run: bool = False
) -> PruneResult:
    """Delete evidence older than ``now - retention_days`` in one transaction; with ``dry_run``
    only count what would go."""
    cutoff = now - timedelta(days=retention_days)
    with prune_rows.transaction(store) as rows:
        bound = _boundary(rows, cutoff)
        if bound is None:
            return PruneResult(cutoff=cutoff, pruned_through=0, dry_run=dry_run)
        through, through_hash = _whole_cycles(rows, *bound)
        if not through:
            return PruneResult(cutoff=cutoff, pruned_through=0, dry_run=dry_run)
        refs = rows.refs_through(through)
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
        res.finding_events = rows.count_finding_events(sids)
        res.drift_events = rows.count_drift_events(drift_sids)
        if dry_run:
            rows.rollback()
            return res
        res.blobs = rows.delete_through(
            cutoff, through, run_ids=run_ids, snapshot_ids=sids, drift_snapshot_ids=drift_sids
        )
        kept: dict[str, dict[str, str]] = {"manual_evidence": {}, "exceptions": {}}
        for name, kept_ids in (("manual_evidence", kept_manual), ("exceptions", kept_exc)):
            for r in rows.kept_rows(name, kept_ids, AUDITED_COLUMNS[name]):
                kept[name][str(r["id"])] = kept_row_hash(r, name)
        rows.append_evidence(
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
        write_checkpoint(rows.checkpoints, now, signer, pruned_through=through, pruned_hash=through_hash)
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

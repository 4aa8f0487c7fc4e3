"""Benchmark: one stored cycle (snapshot writes, drift, alerts: one transaction), 10,000 resources.

Runs against this checkout or an older one (before issue #15 the same work was
`Store.record_cycle(within=pipeline.in_transaction)` plus the after-cycle hooks), so the two can be
compared side by side:

    cd <checkout> && PYTHONPATH=.:deploy/verifier:deploy/demo /work/main/.venv/bin/python bench/cycle_record.py
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import drift as fixtures  # noqa: E402  (bench/drift.py: the buckets and the check)

from agent.config import parse_config  # noqa: E402
from agent.cycle import Pipeline  # noqa: E402
from agent.models import Resource, Snapshot, utcnow  # noqa: E402
from agent.store import RunRecord, Store  # noqa: E402


def cycle(p: Any, resources: list[Resource]) -> float:
    """Seconds spent storing one cycle with its drift and alerts (evaluation and publishing aside)."""
    now = utcnow()
    snap = Snapshot(
        source="bench",
        provider="aws",
        account="111111111111",
        started_at=now,
        finished_at=now,
        resources=tuple(resources),
    )
    run = RunRecord(
        id=uuid.uuid4().hex, source="bench", provider="aws", started_at=now, finished_at=now, status="complete"
    )
    evaluated = [(snap, p.evaluate(snap))]
    t0 = time.perf_counter()
    if hasattr(p, "record"):
        p.record(run, evaluated)
        return time.perf_counter() - t0
    writes = p.store.record_cycle(run, evaluated, within=p.in_transaction)  # before #15
    spent = time.perf_counter() - t0
    from agent.cycle import CycleResult

    result = CycleResult(run=run, snapshots=[snap], findings=list(evaluated[0][1]), writes=writes)
    for hook in p.after_cycle:  # after the commit, as run_cycle did (untimed, like publish today)
        hook(result)
    return spent


def main() -> int:
    with tempfile.TemporaryDirectory() as d:
        cfg = parse_config(
            "alerts:\n  channels:\n    - {name: hook, type: webhook, url: 'http://127.0.0.1:9'}\n", env={}
        )
        store = Store(f"sqlite:///{Path(d) / 'cycle.db'}")
        store.upgrade()
        p = Pipeline(cfg, store, checks={fixtures._private.id: fixtures._private})
        prev, cur = fixtures.snapshots(10_000, 0.01)
        cycle(p, prev)
        changed = [cycle(p, cur if i % 2 == 0 else prev) for i in range(6)]
        unchanged = [cycle(p, prev) for _ in range(3)]
        store.close()
    print(f"{'cycle':40} {'median':>10} {'min':>10}")
    for name, times in (("100 of 10,000 resources changed", changed), ("unchanged", unchanged)):
        print(f"{name:40} {statistics.median(times) * 1000:>8.0f} ms {min(times) * 1000:>7.0f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Evidence store benchmark: a synthetic estate written through Store.record_cycle (the daemon's
path), then export and verify of the period.

    .venv/bin/python bench/evidence.py --resources 10000 --cycles 35040 --db sqlite:////tmp/bench.db

Each cycle every resource has a finding; ``--change-per-day`` of the resources change per day
(spread over the day's cycles), a tenth of those flip their finding.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import text

from agent.evidence.bundle_verify import verify_bundle
from agent.evidence.chain import verify_records
from agent.evidence.checkpoints import checkpoint_now
from agent.evidence.export import export_bundle
from agent.evidence.store_records import load_store_records
from agent.mappings import load_mappings
from agent.models import Finding, Resource, Severity, Snapshot, Status, finding_uid, new_run_id
from agent.store import RunRecord, Store

CHECK = "aws.s3.bucket_default_encryption"
T0 = datetime(2026, 1, 1, tzinfo=UTC)
STEP = timedelta(minutes=15)


def resource(i: int, version: int, ok: bool) -> Resource:
    return Resource(provider="aws", account="111122223333", region="us-east-1", type="aws.s3.bucket",
                    id=f"arn:aws:s3:::bucket-{i:06d}", name=f"bucket-{i:06d}",
                    attributes={"Encrypted": ok, "Version": version, "Tags": {"team": f"t{i % 17}"}})


def finding(r: Resource, at: datetime) -> Finding:
    ok = bool(r.attributes["Encrypted"])
    return Finding(uid=finding_uid(CHECK, r.id), check_id=CHECK, resource_id=r.id, resource_type=r.type,
                   provider="aws", account=r.account, region=r.region, status=Status.PASS if ok else Status.FAIL,
                   severity=Severity.HIGH, message="encrypted" if ok else "not encrypted", controls=(),
                   evaluated_at=at, source="prod")


def logical_size(store: Store) -> int:
    if store.dialect == "sqlite":
        raw = store.engine.raw_connection()  # outside BEGIN IMMEDIATE: a checkpoint needs no transaction
        try:
            cur = raw.cursor()
            cur.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            pages = cur.execute("PRAGMA page_count").fetchone()[0]
            page = cur.execute("PRAGMA page_size").fetchone()[0]
            return int(pages) * int(page)
        finally:
            raw.close()
    with store.engine.connect() as conn:
        return int(conn.execute(text("SELECT pg_database_size(current_database())")).scalar() or 0)


def payload_by_relation(store: Store) -> dict[str, int]:
    """Bytes of row data per table and index: SQLite's dbstat payload, or PostgreSQL relation sizes
    (page-granular, so sample enough cycles)."""
    with store.engine.connect() as conn:
        if store.dialect == "sqlite":
            rows = conn.execute(text("SELECT name, SUM(payload) FROM dbstat GROUP BY name"))
        else:
            rows = conn.execute(text(
                "SELECT c.relname, pg_relation_size(c.oid) + COALESCE(pg_total_relation_size(c.reltoastrelid), 0) "
                "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'i')"))
        return {str(name): int(size or 0) for name, size in rows}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", required=True)
    ap.add_argument("--resources", type=int, default=10_000)
    ap.add_argument("--cycles", type=int, default=35_040)
    ap.add_argument("--change-per-day", type=float, default=0.01)
    ap.add_argument("--unchanged-sample", type=int, default=100)
    ap.add_argument("--measure-only", action="store_true",
                    help="skip writing: export and verify what --db already holds")
    args = ap.parse_args()
    rng = random.Random(7)
    store = Store(args.db)
    store.upgrade()
    if args.measure_only:
        with store.engine.connect() as conn:
            last = conn.execute(text("SELECT max(finished_at) FROM snapshots")).scalar()
        measure_period(store, datetime.fromisoformat(str(last)).replace(tzinfo=UTC) + STEP)
        store.close()
        return
    versions = [0] * args.resources
    oks = [True] * args.resources
    resources = [resource(i, 0, True) for i in range(args.resources)]  # reused while unchanged
    findings = [finding(r, T0) for r in resources]
    per_cycle = args.resources * args.change_per_day / 96
    t_write = time.perf_counter()
    for c in range(args.cycles):
        at = T0 + c * STEP
        for _ in range(int(per_cycle) + (1 if rng.random() < per_cycle % 1 else 0)):
            i = rng.randrange(args.resources)
            versions[i] += 1
            if rng.random() < 0.1:
                oks[i] = not oks[i]
            resources[i] = resource(i, versions[i], oks[i])
            findings[i] = finding(resources[i], at)
        snap = Snapshot(source="prod", provider="aws", account="111122223333", started_at=at, finished_at=at,
                        resources=tuple(resources), errors=())
        run = RunRecord(id=new_run_id(at), source="prod", provider="aws", started_at=at, finished_at=at,
                        status="complete")
        store.record_cycle(run, [(snap, findings)])
        if c % 4 == 3:
            checkpoint_now(store, at)  # hourly, as the daemon does
        if c % 500 == 0:
            print(f"cycle {c}: {time.perf_counter() - t_write:.0f}s", flush=True)
    write_s = time.perf_counter() - t_write
    size = logical_size(store)
    # bytes added per unchanged cycle: the same estate again
    at = T0 + args.cycles * STEP
    before = payload_by_relation(store)
    unchanged_ms: list[float] = []
    for k in range(args.unchanged_sample):
        t = at + k * STEP
        snap = Snapshot(source="prod", provider="aws", account="111122223333", started_at=t, finished_at=t,
                        resources=tuple(resources), errors=())
        t0 = time.perf_counter()
        store.record_cycle(RunRecord(id=new_run_id(t), source="prod", provider="aws", started_at=t,
                                     finished_at=t, status="complete"), [(snap, findings)])
        unchanged_ms.append((time.perf_counter() - t0) * 1000)
        if k % 4 == 3:
            checkpoint_now(store, t)
    after = payload_by_relation(store)
    grown = {k: (v - before.get(k, 0)) / args.unchanged_sample for k, v in after.items() if v != before.get(k, 0)}
    per_unchanged = sum(grown.values())
    print(f"db={store.dialect} resources={args.resources} cycles={args.cycles} write={write_s:.0f}s "
          f"({write_s / args.cycles * 1000:.0f} ms/cycle)", flush=True)
    print(f"store size={size / 1e6:.1f} MB; bytes per unchanged cycle={per_unchanged:.0f}; unchanged cycle write "
          f"median={statistics.median(unchanged_ms):.1f} ms", flush=True)
    print("  by table/index: " + ", ".join(f"{k} {v:.0f}" for k, v in sorted(grown.items(), key=lambda x: -x[1])),
          flush=True)
    measure_period(store, at + args.unchanged_sample * STEP)
    store.close()


def measure_period(store: Store, end: datetime) -> None:
    """Export, bundle verify and store verify of everything written; each line printed when done."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "bundle.zip"
        t = time.perf_counter()
        export_bundle(store, load_mappings(), framework="soc2", start=T0, end=end, out=out)
        print(f"export={time.perf_counter() - t:.1f}s bundle={out.stat().st_size / 1e6:.1f} MB", flush=True)
        t = time.perf_counter()
        breport = verify_bundle(out)
        print(f"verify bundle={time.perf_counter() - t:.1f}s ok={breport.ok}", flush=True)
    t = time.perf_counter()
    sreport = verify_records(load_store_records(store))
    print(f"verify store={time.perf_counter() - t:.1f}s ok={sreport.ok}", flush=True)


if __name__ == "__main__":
    main()

"""Benchmark: drift computation per cycle and /metrics scrape cost.

Targets (drift + alerting issue): diff + transition computation under 200 ms per cycle for a
10,000-resource snapshot with 1% changed; a /metrics scrape with every check populated under
50 ms; and the exposition size.

    .venv/bin/python bench/drift.py [--resources 10000] [--changed 0.01]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agent.config import parse_config  # noqa: E402
from agent.cycle import Pipeline  # noqa: E402
from agent.drift import classify, diff_resources  # noqa: E402
from agent.http import AgentHTTPServer  # noqa: E402
from agent.models import Resource, Snapshot, Status, finding_uid, utcnow  # noqa: E402
from agent.registry import load_checks  # noqa: E402
from agent.store import FindingChange, RunRecord, Store  # noqa: E402
from checks.base import Context, Remediation, Severity, Verdict, check  # noqa: E402


@check(
    id="aws.s3.bench_private",
    title="Bench: public ACLs blocked",
    severity=Severity.HIGH,
    resource_type="aws.s3.bucket",
    rationale="bench",
    remediation=Remediation(console="bench"),
)
def _private(bucket: Resource, ctx: Context) -> Verdict:
    on = bucket.attributes["PublicAccessBlockConfiguration"]["BlockPublicAcls"]
    return Verdict(Status.PASS if on else Status.FAIL, "ok" if on else "public ACLs allowed")


def bucket(i: int, public: bool) -> Resource:
    return Resource(
        provider="aws",
        account="111111111111",
        region="us-east-1",
        type="aws.s3.bucket",
        id=f"arn:aws:s3:::bucket-{i:05}",
        name=f"bucket-{i:05}",
        attributes={
            "PublicAccessBlockConfiguration": {
                "BlockPublicAcls": not public,
                "IgnorePublicAcls": True,
                "BlockPublicPolicy": True,
                "RestrictPublicBuckets": True,
            },
            "Versioning": {"Status": "Enabled"},
            "Encryption": {"Rules": [{"SSEAlgorithm": "aws:kms"}]},
            "Tags": [{"Key": "team", "Value": f"t{i % 17}"}, {"Key": "env", "Value": "prod"}],
        },
    )


def snapshots(n: int, changed: float) -> tuple[list[Resource], list[Resource]]:
    step = max(1, round(1 / changed))
    prev = [bucket(i, False) for i in range(n)]
    cur = [bucket(i, i % step == 0) for i in range(n)]
    return prev, cur


def bench_pure(n: int, changed: float, rounds: int = 5) -> dict[str, float]:
    prev, cur = snapshots(n, changed)
    for r in (*prev, *cur):
        _ = r.content_hash  # the store computes these for every cycle anyway
    prev_map, cur_map = {r.id: r for r in prev}, {r.id: r for r in cur}
    changes = [
        FindingChange(
            uid=finding_uid(_private.id, r.id),
            check_id=_private.id,
            resource_id=r.id,
            previous_status="pass",
            status="fail",
            finding=None,
        )
        for r in cur
        if not r.attributes["PublicAccessBlockConfiguration"]["BlockPublicAcls"]
    ]
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        diff = diff_resources(prev_map, cur_map)
        kinds = [classify(c) for c in changes]
        times.append(time.perf_counter() - t0)
    assert len(diff) == len(changes) and all(k == "regressed" for k in kinds)
    return {"median_ms": statistics.median(times) * 1000, "modified": len(diff)}


def _cycle(pipeline: Pipeline, resources: list[Resource]) -> None:
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
        id=uuid.uuid4().hex,
        source="bench",
        provider="aws",
        started_at=now,
        finished_at=now,
        status="complete",
    )
    assert pipeline.store is not None
    pipeline.record(run, [(snap, pipeline.evaluate(snap))])


def bench_in_store(n: int, changed: float, workdir: Path) -> dict[str, float]:
    """The same work inside a real cycle: manifests, changed bodies read back, drift rows, outbox."""
    cfg = parse_config("alerts:\n  channels:\n    - {name: hook, type: webhook, url: 'http://127.0.0.1:9'}\n", env={})
    store = Store(f"sqlite:///{workdir / 'drift.db'}")
    store.upgrade()
    pipeline = Pipeline(cfg, store, checks={_private.id: _private})
    spent: list[float] = []  # per cycle: the requirement, drift and alert stages in its transaction

    def timed(stage: Any) -> Any:
        def run(*args: Any) -> Any:
            t0 = time.perf_counter()
            out = stage(*args)
            spent[-1] += time.perf_counter() - t0
            return out

        return run

    pipeline._requirement_states = timed(pipeline._requirement_states)  # type: ignore[method-assign]
    pipeline._drift_and_alerts = timed(pipeline._drift_and_alerts)  # type: ignore[method-assign]
    prev, cur = snapshots(n, changed)
    for resources in (prev, cur, prev):
        spent.append(0.0)
        _cycle(pipeline, resources)
    store.close()
    return {"drift_hook_ms": statistics.median(spent[1:]) * 1000}


def bench_scrape(workdir: Path, scrapes: int = 50) -> dict[str, float]:
    checks = load_checks()
    cfg = parse_config(
        "alerts:\n  channels:\n    - {name: slack, type: slack, webhook_url: 'env:X'}\n"
        "    - {name: hook, type: webhook, url: 'http://127.0.0.1:9'}\n"
        "sources:\n  - {name: prod, provider: aws}\n  - {name: staging, provider: aws}\n",
        env={},
    )
    store = Store(f"sqlite:///{workdir / 'scrape.db'}")
    store.upgrade()
    pipeline = Pipeline(cfg, store)
    from agent.alerts.dispatcher import Dispatcher

    Dispatcher.for_pipeline(pipeline)  # its outbox gauges are part of the scrape
    rows = [
        {"source": "prod", "check_id": cid, "severity": c.meta.severity.value, "status": st, "count": 7}
        for cid, c in checks.items()
        for st in ("pass", "fail", "error", "not_applicable", "excepted")
    ]
    m = pipeline.metrics
    m.set_posture(rows)
    for cid in checks:
        for kind in ("regressed", "resolved", "new_failing", "error", "gone"):
            m.drift_events.labels(kind, cid).inc()
        m.finding_changes.labels(cid, "fail").inc()
    server = AgentHTTPServer("127.0.0.1", 0, m.registry, lambda: (True, {}))
    server.start()
    host, port = server.address
    times = []
    size = 0
    with httpx.Client() as client:
        for _ in range(scrapes):
            t0 = time.perf_counter()
            body = client.get(f"http://{host}:{port}/metrics").content
            times.append(time.perf_counter() - t0)
            size = len(body)
    server.stop()
    store.close()
    series = sum(1 for line in body.decode().splitlines() if line and not line.startswith("#"))
    return {
        "median_ms": statistics.median(times) * 1000,
        "p95_ms": sorted(times)[int(0.95 * len(times))] * 1000,
        "bytes": size,
        "series": series,
        "checks": len(checks),
    }


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--resources", type=int, default=10_000)
    ap.add_argument("--changed", type=float, default=0.01)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        pure = bench_pure(args.resources, args.changed)
        hook = bench_in_store(args.resources, args.changed, Path(tmp))
        scrape = bench_scrape(Path(tmp))
    rows = [
        (
            "diff + transitions (pure), per cycle",
            f"{pure['median_ms']:.1f} ms",
            "< 200 ms",
            f"{args.resources} resources, {pure['modified']} modified",
        ),
        (
            "drift stages in a stored cycle",
            f"{hook['drift_hook_ms']:.1f} ms",
            "< 200 ms",
            "requirements, changed bodies, drift rows, outbox",
        ),
        (
            "/metrics scrape (median)",
            f"{scrape['median_ms']:.1f} ms",
            "< 50 ms",
            f"{scrape['checks']} checks x 5 statuses populated",
        ),
        ("/metrics scrape (p95)", f"{scrape['p95_ms']:.1f} ms", "", ""),
        ("exposition size", f"{scrape['bytes'] / 1024:.0f} KiB", "", f"{scrape['series']} series"),
    ]
    print(f"{'measure':40} {'result':>12} {'target':>10}  notes")
    for name, value, target, notes in rows:
        print(f"{name:40} {value:>12} {target:>10}  {notes}")
    ok = pure["median_ms"] < 200 and hook["drift_hook_ms"] < 200 and scrape["median_ms"] < 50
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())

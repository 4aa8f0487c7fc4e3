"""Requirement drift in a scaled deployment: the run that ends a sweep (a worker's, or the deadline's
gap) compares the framework requirements' states with those the last ended sweep kept in the store,
once per sweep; a run that leaves accounts waiting records none. A bucket loses its TLS-only policy
between sweeps (moto), as in tests/integration/test_requirement_drift.py for one process."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import boto3
import sqlalchemy as sa

from agent.config import parse_config
from agent.cycle import Pipeline
from agent.models import utcnow
from agent.scale.sweeps import gap_snapshot
from agent.stages.collect import Collected
from agent.store import Store
from agent.store.records import SweepSlot
from agent.store.sweep_rows import open_sweep
from collectors.aws.config import AwsSource
from tests.integration.test_requirement_drift import TLS_ONLY, requirement_events

ACCOUNT = "123456789012"  # moto's
REGRESSED = ("requirement_regressed", "CIS-AWS:2.1.1", "pass", "fail")


def _sweep(store: Store, source: AwsSource, accounts: list[str]) -> str:
    with store.engine.begin() as conn:
        return open_sweep(
            conn, source=source.name, provider="aws", accounts=accounts, deadline=timedelta(hours=1), epoch=1
        )


def _closed(store: Store, sweep_id: str) -> bool:
    with store.engine.connect() as conn:
        return conn.execute(sa.text("SELECT closed_at FROM sweeps WHERE id = :i"), {"i": sweep_id}).scalar() is not None


def test_requirement_drift_is_recorded_once_per_sweep_by_the_run_that_ends_it(aws: str, tmp_path: Path) -> None:
    s3 = boto3.client("s3", endpoint_url=aws)
    s3.create_bucket(Bucket="tls-bucket")
    s3.put_bucket_policy(Bucket="tls-bucket", Policy=TLS_ONLY)
    db = f"sqlite:///{tmp_path / 'p.db'}"
    store = Store(db)
    store.upgrade()
    cfg = parse_config(f"database: {db}\nscope: {{frameworks: [cis_aws]}}\n", env={})
    worker = Pipeline(cfg, store, posture_metrics=False)  # as `run --role worker` builds it
    source = AwsSource(name="t", provider="aws", regions=["us-east-1"], endpoint_url=aws, services=["s3"])

    first = _sweep(store, source, [ACCOUNT])
    worker.run_cycle(source, sweep=SweepSlot(first, ACCOUNT))  # ends the sweep: the baseline
    assert _closed(store, first) and requirement_events(store) == []

    # a sweep of two accounts: the worker's run leaves one waiting, so it records no requirement drift
    s3.delete_bucket_policy(Bucket="tls-bucket")
    second = _sweep(store, source, [ACCOUNT, "210987654321"])
    worker.run_cycle(source, sweep=SweepSlot(second, ACCOUNT))
    assert not _closed(store, second) and requirement_events(store) == []

    # the deadline's gap for the other account ends it, in another process's pipeline (the scheduler's)
    scheduler = Pipeline(cfg, store)
    now = utcnow()
    gap = gap_snapshot(
        source="t", provider="aws", account="210987654321", started=now, deadline=now, checks=scheduler.checks.values()
    )
    scheduler.run_cycle(source, given=Collected([gap], "gap"), sweep=SweepSlot(second, "210987654321", "gap"))
    assert _closed(store, second) and REGRESSED in requirement_events(store)

    # an unchanged sweep, by a fresh worker process: compared with the stored states, nothing new
    count = len(requirement_events(store))
    third = _sweep(store, source, [ACCOUNT])
    Pipeline(cfg, store, posture_metrics=False).run_cycle(source, sweep=SweepSlot(third, ACCOUNT))
    assert _closed(store, third) and len(requirement_events(store)) == count
    store.close()

    verify = subprocess.run(
        [sys.executable, "-m", "agent.cli.main", "evidence", "verify", "--db", db],
        capture_output=True,
        text=True,
        check=False,
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr

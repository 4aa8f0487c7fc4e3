"""The daemon as a subprocess against moto: interval runs, health endpoints, SIGTERM mid-collection."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
import sqlalchemy as sa
import yaml
from posture_demo.awsproxy import AwsProxy, Fault

from agent.evidence.chain import verify_records
from agent.evidence.store_records import load_store_records
from agent.store import Store
from agent.store.chain import GENESIS, entry_hash
from agent.store.schema import evidence_log
from tests.conftest import free_port


@pytest.fixture
def proxy(aws: str) -> Iterator[AwsProxy]:
    boto3.client("s3", endpoint_url=aws).create_bucket(Bucket="daemon-test-bucket")
    boto3.client("iam", endpoint_url=aws).create_user(UserName="dana")
    with AwsProxy(aws) as p:
        yield p


class Agent:
    def __init__(self, tmp: Path, sources: list[dict[str, Any]], db: str | None = None) -> None:
        self.port = free_port()
        self.db = db or f"sqlite:///{tmp / 'posture.db'}"
        self.config = tmp / "agent.yaml"
        self.config.write_text(
            yaml.safe_dump(
                {
                    "database": self.db,
                    "listen": f"127.0.0.1:{self.port}",
                    "log": {"level": "info", "format": "json"},
                    "sources": sources,
                }
            )
        )
        self.log = tmp / "agent.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Agent:
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "agent.cli.main", "run", "--config", str(self.config)],
                stdout=subprocess.DEVNULL,
                stderr=log,
                env=dict(os.environ),
            )
        self.wait_for(lambda: self.get("/healthz").status_code == 200, "healthz")
        return self

    def get(self, path: str) -> httpx.Response:
        return httpx.get(f"http://127.0.0.1:{self.port}{path}", timeout=5)

    def wait_for(self, cond: Any, what: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc is not None and self.proc.poll() is None, self.events()
            try:
                if cond():
                    return
            except (httpx.HTTPError, sa.exc.OperationalError):
                pass
            time.sleep(0.25)
        raise AssertionError(f"timed out waiting for {what}: {self.events()[-5:]}")

    def events(self) -> list[dict[str, Any]]:
        out = []
        for line in self.log.read_text().splitlines():
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                out.append({"raw": line})
        return out

    def terminate(self) -> tuple[int, float]:
        assert self.proc is not None
        t0 = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout=15)
        return code, time.monotonic() - t0

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def runs(db: str) -> list[dict[str, Any]]:
    store = Store(db)
    try:
        return store.runs()
    finally:
        store.close()


def assert_consistent(db: str) -> None:
    """Every run has its snapshots, every manifest and body resolves, the chain links."""
    store = Store(db)
    with store.engine.connect() as conn:
        run_ids = {r.id for r in conn.execute(sa.text("SELECT id FROM runs"))}
        snaps = conn.execute(sa.text("SELECT id, run_id FROM snapshots")).all()
        assert {s.run_id for s in snaps} <= run_ids
        el = evidence_log  # through the table: hashes are bytea on PostgreSQL, hex to the code
        chain = conn.execute(
            sa.select(
                el.c.seq, el.c.at, el.c.kind, el.c.ref, el.c.content_hash, el.c.prev_hash, el.c.entry_hash
            ).order_by(el.c.seq)
        ).all()
    for s in snaps:
        loaded = store.load_snapshot(s.id)
        assert all(r.content_hash for r in loaded.resources)
    prev = GENESIS
    for row in chain:
        at = row.at if isinstance(row.at, datetime) else datetime.fromisoformat(row.at)
        assert row.prev_hash == prev
        assert row.entry_hash == entry_hash(
            seq=row.seq, at=at, kind=row.kind, ref=row.ref, content_hash=row.content_hash, prev_hash=row.prev_hash
        )
        prev = row.entry_hash
    assert sum(1 for r in chain if r.kind == "cycle") == len(run_ids)  # one chain entry per run
    report = verify_records(load_store_records(store))
    assert report.ok, report.issues
    store.close()


def source(endpoint: str, name: str = "acct", interval: str = "10s") -> dict[str, Any]:
    return {
        "name": name,
        "provider": "aws",
        "regions": ["us-east-1"],
        "endpoint_url": endpoint,
        "services": ["s3", "iam"],
        "schedule": {"interval": interval},
    }


def test_runs_on_interval_serves_health_and_stops_on_sigterm(proxy: AwsProxy, tmp_path: Path) -> None:
    agent = Agent(tmp_path, [source(proxy.url)]).start()
    try:
        agent.wait_for(lambda: len(runs(agent.db)) >= 2, "two scheduled runs", timeout=45)
        ready = agent.get("/readyz")
        assert ready.status_code == 200, ready.text
        body = ready.json()
        assert body["store"] == "ok" and body["sources"]["acct"]["overdue"] is False
        metrics = agent.get("/metrics").text
        assert 'posture_resources_collected{provider="aws",source="acct"}' in metrics
        assert 'posture_findings{check="aws.s3.bucket_versioning"' in metrics
        started = [r["started_at"] for r in sorted(runs(agent.db), key=lambda r: r["started_at"])]
        gap = (started[1] - started[0]).total_seconds()
        assert 8 <= gap <= 16, gap  # the 10s interval, not back-to-back
        code, seconds = agent.terminate()
        assert code == 0 and seconds < 10
    finally:
        agent.kill()
    events = agent.events()
    assert all("level" in e for e in events), "daemon logs are one JSON object per line"
    assert any(e.get("event") == "collection finished" and e.get("source") == "acct" for e in events)
    assert_consistent(agent.db)


def test_sigterm_mid_collection_leaves_the_store_consistent(proxy: AwsProxy, tmp_path: Path) -> None:
    agent = Agent(tmp_path, [source(proxy.url, interval="10s")]).start()
    try:
        agent.wait_for(lambda: len(runs(agent.db)) >= 1, "a first complete run", timeout=45)
        proxy.add_fault(Fault(service="s3", status=None, delay=20.0))  # the next collection hangs in S3
        agent.wait_for(
            lambda: (
                any(i.service == "s3" for i in list(proxy.seen)[-50:])
                and sum(1 for e in agent.events() if e.get("event") == "collection started") >= 2
            ),
            "the second collection to be under way",
            timeout=30,
        )
        time.sleep(1.0)
        code, seconds = agent.terminate()
        assert code == 0 and seconds < 10, (code, seconds)
    finally:
        proxy.clear_faults()
        agent.kill()
    assert len(runs(agent.db)) == 1  # the interrupted run left nothing behind
    assert_consistent(agent.db)


def test_readyz_reports_an_overdue_source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    dead = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    agent = Agent(tmp_path, [source(dead, name="unreachable")]).start()
    try:
        assert agent.get("/readyz").status_code == 200  # within the grace of 2x the interval
        agent.wait_for(lambda: agent.get("/readyz").status_code == 503, "readyz to turn 503", timeout=40)
        body = agent.get("/readyz").json()
        assert body["status"] == "not ready" and body["sources"]["unreachable"]["overdue"] is True
        assert agent.get("/healthz").status_code == 200  # alive, just not ready
        assert all(r["status"] == "failed" for r in runs(agent.db))
    finally:
        agent.terminate()
        agent.kill()


@pytest.mark.postgres
def test_readyz_reports_an_unreachable_store(proxy: AwsProxy, pg_url: str, tmp_path: Path) -> None:
    agent = Agent(tmp_path, [source(proxy.url, interval="1h")], db=pg_url).start()
    engine = sa.create_engine(pg_url)
    try:
        agent.wait_for(lambda: agent.get("/readyz").status_code == 200 and runs(pg_url), "ready")
        with engine.begin() as conn:
            conn.execute(sa.text("ALTER TABLE runs RENAME TO runs_moved"))
        agent.wait_for(lambda: agent.get("/readyz").status_code == 503, "store unreachable")
        assert agent.get("/readyz").json()["store"] == "unreachable"
        with engine.begin() as conn:
            conn.execute(sa.text("ALTER TABLE runs_moved RENAME TO runs"))
        agent.wait_for(lambda: agent.get("/readyz").status_code == 200, "ready again")
    finally:
        engine.dispose()
        agent.terminate()
        agent.kill()

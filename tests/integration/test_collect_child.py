"""Collection in a short-lived child process (agent/stages/collect_child.py), against moto over the wire:
the same snapshots, findings and API-call counts as in-process; a child killed mid-collection is a
failed collection that stores nothing of it; cancellation kills the child; the child's logs reach
the parent's handlers; and the daemon (a real subprocess) survives a killed child."""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import pytest
import sqlalchemy as sa
from posture_demo.awsproxy import AwsProxy, Fault

from agent.config import AnySource, parse_config
from agent.cycle import Pipeline
from agent.store import Store
from collectors import Cancelled, CollectContext
from tests.integration.collect_child_providers import crash
from tests.integration.test_daemon import Agent, assert_consistent, runs, source

if TYPE_CHECKING:
    from posture_demo.run import DemoCloud

CHILD_MODULE = "agent.stages.collect_child"


@pytest.fixture
def proxy(aws: str) -> Iterator[AwsProxy]:
    boto3.client("s3", endpoint_url=aws).create_bucket(Bucket="child-test-bucket")
    iam = boto3.client("iam", endpoint_url=aws)
    iam.create_user(UserName="dana")
    iam.create_access_key(UserName="dana")
    boto3.client("ec2", endpoint_url=aws, region_name="us-east-1").create_security_group(
        GroupName="open", Description="test"
    )
    with AwsProxy(aws) as p:
        yield p


def _pipeline(tmp_path: Path, endpoint: str, name: str, **kwargs: Any) -> tuple[Pipeline, Store, AnySource]:
    db = f"sqlite:///{tmp_path / (name + '.db')}"
    text = (
        f"database: {db}\nsources:\n  - name: acct\n    provider: aws\n    regions: [us-east-1]\n"
        f"    endpoint_url: {endpoint}\n    services: [s3, iam, ec2]\n"
    )
    cfg = parse_config(text, env={})
    store = Store(db)
    store.upgrade()
    return Pipeline(cfg, store, **kwargs), store, cfg.sources[0]


def _collect_children(pid: int | None = None) -> list[int]:
    """The collection processes (children running the child module) of ``pid``, by default ours."""
    found = []
    for task in Path(f"/proc/{pid or os.getpid()}/task").iterdir():
        try:
            children = (task / "children").read_text().split()
        except FileNotFoundError:  # the thread ended meanwhile (the proxy's threads come and go)
            continue
        for child in children:
            try:
                cmdline = Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0")
            except FileNotFoundError:
                continue
            if CHILD_MODULE.encode() in cmdline:
                found.append(int(child))
    return found


def _in_s3(proxy: AwsProxy) -> bool:
    while True:
        try:
            return any(i.service == "s3" for i in list(proxy.seen))
        except RuntimeError:  # the proxy appended meanwhile (deque mutated during iteration)
            continue


def _api_calls(pipeline: Pipeline) -> dict[str, float]:
    return {
        s.labels["service"]: s.value
        for metric in pipeline.metrics.registry.collect()
        if metric.name == "posture_api_calls"
        for s in metric.samples
        if s.name == "posture_api_calls_total"
    }


def _snapshot_rows(store: Store, run_id: str) -> int:
    with store.engine.connect() as conn:
        return int(
            conn.execute(sa.text("SELECT count(*) FROM snapshots WHERE run_id = :r"), {"r": run_id}).scalar_one()
        )


def test_the_child_collects_what_the_process_itself_would(proxy: AwsProxy, tmp_path: Path) -> None:
    results = {}
    for in_child in (False, True):
        pipeline, store, src = _pipeline(tmp_path, proxy.url, f"child-{in_child}")
        result = pipeline.run_cycle(src, in_child=in_child)
        results[in_child] = (result, _api_calls(pipeline), store.current_findings())
        store.close()
    (here, here_calls, here_stored), (child, child_calls, child_stored) = results[False], results[True]
    assert child.run.status == here.run.status and child.error == here.error == ""
    assert [s.account for s in child.snapshots] == [s.account for s in here.snapshots]
    assert {(r.type, r.id, r.content_hash) for s in child.snapshots for r in s.resources} == {
        (r.type, r.id, r.content_hash) for s in here.snapshots for r in s.resources
    }
    assert {(e.resource_type, e.region, e.code) for s in child.snapshots for e in s.errors} == {
        (e.resource_type, e.region, e.code) for s in here.snapshots for e in s.errors
    }
    assert {(f.uid, f.status, f.message) for f in child.findings} == {
        (f.uid, f.status, f.message) for f in here.findings
    }
    assert any(f.status == "fail" for f in child.findings)  # the seeded bucket, user and group fail checks
    assert child_calls == here_calls and sum(child_calls.values()) > 0  # the counters fed from the child
    assert len(child_stored) == len(here_stored)
    assert not _collect_children()  # the child is gone


def _when_stuck_in_s3(
    proxy: AwsProxy, then: Callable[[list[int]], None], also: Callable[[], bool] = lambda: True
) -> threading.Thread:
    """Hold the next collection in S3 (a 20 s delay) and call ``then`` with its child's pid once it is
    there (and ``also()`` holds): the child is certainly mid-collection, whatever the machine's speed."""
    proxy.seen.clear()
    proxy.add_fault(Fault(service="s3", status=None, delay=20.0))

    def watch() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            children = _collect_children()
            if children and _in_s3(proxy) and also():
                then(children)
                return
            time.sleep(0.05)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    return watcher


def test_a_child_killed_mid_collection_is_a_failed_collection(proxy: AwsProxy, tmp_path: Path) -> None:
    pipeline, store, src = _pipeline(tmp_path, proxy.url, "killed")
    first = pipeline.run_cycle(src, in_child=True)
    assert first.run.status in ("complete", "partial")
    before = {(f["uid"], f["status"]) for f in store.current_findings()}
    calls_before = sum(_api_calls(pipeline).values())
    killed: list[int] = []

    def kill(children: list[int]) -> None:  # as the OOM killer would
        for pid in children:
            os.kill(pid, signal.SIGKILL)
        killed.extend(children)

    # kill only once the parent has counted some of this collection's calls (other units go on while
    # S3 is held): the kill must not take those back
    watcher = _when_stuck_in_s3(proxy, kill, also=lambda: sum(_api_calls(pipeline).values()) > calls_before)
    try:
        result = pipeline.run_cycle(src, in_child=True)
    finally:
        proxy.clear_faults()
    watcher.join()
    assert killed
    assert result.run.status == "failed" and result.snapshots == [] and result.findings == []
    assert "SIGKILL" in result.error
    stored = {r["id"]: r for r in store.runs()}
    assert stored[result.run.id]["status"] == "failed"
    assert _snapshot_rows(store, result.run.id) == 0  # nothing of the killed collection
    assert {(f["uid"], f["status"]) for f in store.current_findings()} == before  # no finding turned to pass
    assert sum(_api_calls(pipeline).values()) > calls_before  # calls made before the kill were counted
    store.close()


def test_cancel_kills_the_child_and_stores_nothing(proxy: AwsProxy, tmp_path: Path) -> None:
    pipeline, store, src = _pipeline(tmp_path, proxy.url, "cancelled")
    cancel = threading.Event()
    children: list[int] = []

    def stop(found: list[int]) -> None:  # Daemon.stop() mid-way
        children.extend(found)
        cancel.set()

    watcher = _when_stuck_in_s3(proxy, stop)
    try:
        with pytest.raises(Cancelled):
            pipeline.run_cycle(src, CollectContext(cancel=cancel), in_child=True)
    finally:
        proxy.clear_faults()
    watcher.join()
    assert children
    assert all(not Path(f"/proc/{pid}").exists() for pid in children)  # killed and reaped
    assert store.runs() == []
    store.close()


def test_a_crashing_collector_fails_the_collection_and_its_logs_reach_the_parent(
    proxy: AwsProxy, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    outcomes = {}
    for in_child in (False, True):
        pipeline, store, src = _pipeline(tmp_path, proxy.url, f"crash-{in_child}", collectors={"aws": crash})
        caplog.clear()
        with caplog.at_level(logging.INFO):
            result = pipeline.run_cycle(src, in_child=in_child)
        outcomes[in_child] = (result, list(caplog.records), _api_calls(pipeline))
        store.close()
    (here, _, _), (child, records, calls) = outcomes[False], outcomes[True]
    assert child.run.status == here.run.status == "failed"
    assert child.error == here.error == "collector failed: RuntimeError: collector bug"
    assert calls == {"sts": 1.0}
    warned = [r for r in records if r.name == "tests.collect_child"]
    assert len(warned) == 1 and warned[0].process != os.getpid()  # emitted by the child, handled here
    assert warned[0].getMessage() == "about to fail" and warned[0].levelno == logging.WARNING
    assert getattr(warned[0], "source", None) == "acct" and getattr(warned[0], "detail", None) == {"step": 1}
    crashed = [r for r in records if r.getMessage() == "collector crashed"]
    assert len(crashed) == 1 and "RuntimeError: collector bug" in (crashed[0].exc_text or "")


def test_the_daemon_records_a_killed_child_as_failed_and_carries_on(proxy: AwsProxy, tmp_path: Path) -> None:
    agent = Agent(tmp_path, [source(proxy.url, interval="10s")]).start()
    assert agent.proc is not None
    try:
        agent.wait_for(lambda: len(runs(agent.db)) >= 1, "a first complete run", timeout=45)
        proxy.seen.clear()
        proxy.add_fault(Fault(service="s3", status=None, delay=20.0))  # the next collection hangs in S3
        children: list[int] = []

        def child_in_s3() -> bool:
            children[:] = _collect_children(agent.proc.pid if agent.proc else None)
            return bool(children) and _in_s3(proxy)

        agent.wait_for(child_in_s3, "the second collection's child to be under way", timeout=30)
        for pid in children:
            os.kill(pid, signal.SIGKILL)
        proxy.clear_faults()
        agent.wait_for(lambda: any(r["status"] == "failed" for r in runs(agent.db)), "the failed run", timeout=30)
        agent.wait_for(
            lambda: sum(r["status"] != "failed" for r in runs(agent.db)) >= 2, "a later complete run", timeout=45
        )
        metrics = agent.get("/metrics").text
        assert 'posture_collections_total{source="acct",status="failed"} 1.0' in metrics
        assert 'posture_api_calls_total{provider="aws",service="s3"}' in metrics
        code, seconds = agent.terminate()
        assert code == 0 and seconds < 10
    finally:
        proxy.clear_faults()
        agent.kill()
    failed = [r for r in runs(agent.db) if r["status"] == "failed"]
    assert len(failed) == 1
    store = Store(agent.db)
    assert _snapshot_rows(store, failed[0]["id"]) == 0
    store.close()
    events = agent.events()
    assert all("level" in e for e in events), "daemon logs are one JSON object per line"
    ended = [e for e in events if e.get("event") == "collection process ended without a result"]
    assert len(ended) == 1 and ended[0]["reason"] == "killed by SIGKILL" and ended[0]["source"] == "acct"
    assert_consistent(agent.db)


def test_every_demo_provider_gives_the_same_findings_from_a_child(cloud: DemoCloud, tmp_path: Path) -> None:
    from posture_demo.run import demo_config

    cfg = demo_config(cloud.endpoint, f"sqlite:///{tmp_path / 'demo.db'}", "127.0.0.1:0", "1h", cloud.other_sources)
    pipeline = Pipeline(cfg, None)
    assert {s.provider for s in cfg.sources} == {
        "aws",
        "gcp",
        "azure",
        "endpoints",
        "okta",
        "googleworkspace",
        "github",
        "people",
    }
    for src in cfg.sources:
        if src.reads_agent_store():
            continue  # the people ledger reads the store: never collected in a child
        here = pipeline.run_cycle(src)
        child = pipeline.run_cycle(src, in_child=True)
        assert child.ok and here.ok, (src.name, child.error, here.error)
        assert {(f.uid, f.status, f.message) for f in child.findings} == {
            (f.uid, f.status, f.message) for f in here.findings
        }, src.name
        assert {(r.type, r.id) for s in child.snapshots for r in s.resources} == {
            (r.type, r.id) for s in here.snapshots for r in s.resources
        }, src.name


def test_another_agent_package_in_the_working_directory_is_not_the_childs(
    proxy: AwsProxy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A process started where another checkout lies (its own agent/ package): the child imports ours,
    as the parent did, not the one in the working directory (python -P)."""
    other = tmp_path / "other-checkout"
    (other / "agent").mkdir(parents=True)
    (other / "agent" / "__init__.py").write_text('raise ImportError("another checkout\'s agent package")\n')
    pipeline, store, src = _pipeline(tmp_path, proxy.url, "elsewhere")
    monkeypatch.chdir(other)
    result = pipeline.run_cycle(src, in_child=True)
    store.close()
    assert result.run.status == "complete" and result.error == "", result.error
    assert any(f.status == "fail" for f in result.findings)

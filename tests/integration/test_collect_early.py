"""Collections started before the pipeline exists (agent/stages/collect_early.py, used by `scan`), against
moto over the wire: the same snapshots, findings and API-call counts as collecting in-process, the
child's progress reaching the caller's bars, the run dated from when its child started, and no child
left behind when the caller fails while it gets ready."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from posture_demo.awsproxy import AwsProxy

from agent.stages.collect_early import EarlyCollections
from collectors import CollectContext
from tests.integration.test_collect_child import _api_calls, _collect_children, _pipeline, _when_stuck_in_s3

pytest_plugins = ["tests.integration.test_collect_child"]  # its `proxy` fixture


class Steps:
    """A collectors.Progress that remembers what it was told (from the child, through the parent)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.total = 0
        self.done = 0
        self.descriptions: list[str] = []

    def add_total(self, n: int) -> None:
        with self.lock:
            self.total += n

    def advance(self, n: int = 1, description: str = "") -> None:
        with self.lock:
            self.done += n
            self.descriptions.append(description)


def test_an_early_collection_gives_what_the_pipeline_would_collect_itself(proxy: AwsProxy, tmp_path: Path) -> None:
    here_pipeline, here_store, src = _pipeline(tmp_path, proxy.url, "here")
    here = here_pipeline.run_cycle(src)
    here_calls = _api_calls(here_pipeline)
    here_store.close()

    steps = Steps()
    ctx = CollectContext(progress=steps)
    from agent.registry import load_collectors

    with EarlyCollections([src], [ctx], load_collectors()) as early:
        started = early.get(src)
        assert started is not None
        pipeline, store, _ = _pipeline(tmp_path, proxy.url, "early")  # built while the child collects
        result = pipeline.run_cycle(src, ctx, early=started)
    assert result.ok and result.error == here.error == ""
    assert {(r.type, r.id, r.content_hash) for s in result.snapshots for r in s.resources} == {
        (r.type, r.id, r.content_hash) for s in here.snapshots for r in s.resources
    }
    assert {(f.uid, f.status, f.message) for f in result.findings} == {
        (f.uid, f.status, f.message) for f in here.findings
    }
    assert _api_calls(pipeline) == here_calls  # calls made before the pipeline existed were kept for it
    assert steps.total > 0 and steps.done == steps.total  # every unit's step reached the caller
    assert any("us-east-1" in d for d in steps.descriptions)
    assert started.started_at is not None
    assert result.run.started_at <= min(s.started_at for s in result.snapshots)
    assert len(store.runs()) == 1
    store.close()
    assert not _collect_children()


def test_a_failure_while_getting_ready_kills_the_early_children(proxy: AwsProxy, tmp_path: Path) -> None:
    _, store, src = _pipeline(tmp_path, proxy.url, "failing")
    store.close()
    from agent.registry import load_collectors

    children: list[int] = []
    in_s3 = threading.Event()

    def seen(found: list[int]) -> None:
        children.extend(found)
        in_s3.set()

    watcher = _when_stuck_in_s3(proxy, seen)
    try:
        with (
            pytest.raises(RuntimeError, match="store unusable"),
            EarlyCollections([src], [CollectContext()], load_collectors()),
        ):
            assert in_s3.wait(60), "the child never reached S3"
            raise RuntimeError("store unusable")  # e.g. open_store refusing the database
    finally:
        proxy.clear_faults()
    watcher.join()
    assert children
    assert all(not Path(f"/proc/{pid}").exists() for pid in children)  # killed and reaped
    assert not _collect_children()


def test_a_source_no_child_can_collect_is_left_to_the_pipeline(proxy: AwsProxy, tmp_path: Path) -> None:
    pipeline, store, src = _pipeline(tmp_path, proxy.url, "inproc")
    with EarlyCollections([src], [CollectContext()], {"aws": lambda source, ctx: []}) as early:
        assert early.get(src) is None  # a lambda cannot be imported by another interpreter
    result = pipeline.run_cycle(src)
    assert result.ok
    store.close()


def test_a_child_past_its_timeout_is_stopped_and_the_collection_failed(proxy: AwsProxy, tmp_path: Path) -> None:
    from agent.registry import collector_target, load_collectors
    from agent.stages.collect_child import collect_in_child

    _, store, src = _pipeline(tmp_path, proxy.url, "slow")
    store.close()
    target = collector_target(load_collectors(), "aws")
    assert target is not None
    children: list[int] = []
    watcher = _when_stuck_in_s3(proxy, children.extend)  # S3 answers after 20 s: the child cannot finish in 3
    try:
        collected = collect_in_child(src, target, CollectContext(), timeout=3.0)
    finally:
        proxy.clear_faults()
    watcher.join()
    assert collected.snapshots == [] and collected.status == "failed"
    assert collected.error == "collection stopped after 3s (collection_timeout)"
    assert children and all(not Path(f"/proc/{pid}").exists() for pid in children)

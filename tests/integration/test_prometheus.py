"""A real Prometheus scrapes the agent's HTTP port and can query its drift and posture metrics."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from test_alerting import bucket, record

from agent.config import parse_config
from agent.cycle import Pipeline
from agent.http import AgentHTTPServer
from agent.store import Store

PROMETHEUS = shutil.which("prometheus")
pytestmark = [
    pytest.mark.prometheus,
    pytest.mark.skipif(PROMETHEUS is None, reason="LOUD SKIP: prometheus is not installed"),
]


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def prometheus_scraping(host: str, port: int, tmp_path: Path) -> Iterator[int]:
    """A real Prometheus scraping ``host:port`` every second; yields the port of its HTTP API."""
    prom_port = _free_port()
    cfg = tmp_path / "prometheus.yml"
    cfg.write_text(
        "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
        "scrape_configs:\n  - job_name: posture\n"
        f"    static_configs: [{{targets: ['{host}:{port}']}}]\n"
    )
    assert PROMETHEUS is not None
    proc = subprocess.Popen(
        [
            PROMETHEUS,
            f"--config.file={cfg}",
            f"--storage.tsdb.path={tmp_path / 'data'}",
            f"--web.listen-address=127.0.0.1:{prom_port}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield prom_port
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.fixture
def agent_http(tmp_path: Path) -> Iterator[tuple[str, int]]:
    from test_alerting import _private

    store = Store(f"sqlite:///{tmp_path / 'p.db'}")
    store.upgrade()
    pipeline = Pipeline(parse_config("{}", env={}), store, checks={_private.id: _private})
    record(pipeline, [bucket("a"), bucket("b")])
    record(pipeline, [bucket("a", public=True), bucket("b")])
    pipeline.metrics.set_posture(store.finding_counts())  # what run_cycle does after storing
    server = AgentHTTPServer("127.0.0.1", 0, pipeline.metrics.registry, lambda: (True, {}))
    server.start()
    try:
        yield server.address
    finally:
        server.stop()
        store.close()


def test_prometheus_scrapes_agent(agent_http: tuple[str, int], tmp_path: Path) -> None:
    host, port = agent_http
    with prometheus_scraping(host, port, tmp_path) as prom_port:
        query = 'posture_drift_events_total{kind="regressed"}'
        deadline = time.monotonic() + 60
        result: list[dict[str, object]] = []
        while time.monotonic() < deadline and not result:
            try:
                r = httpx.get(f"http://127.0.0.1:{prom_port}/api/v1/query", params={"query": query}, timeout=5)
                if r.status_code == 200:
                    result = r.json()["data"]["result"]
            except httpx.HTTPError:
                pass
            if not result:
                time.sleep(0.5)
        assert result, "Prometheus never saw posture_drift_events_total"
        assert result[0]["value"][1] == "1"  # type: ignore[index]
        up = httpx.get(
            f"http://127.0.0.1:{prom_port}/api/v1/query",
            params={"query": 'posture_failing_resources{severity="high"}'},
        ).json()["data"]["result"]
        assert up and up[0]["value"][1] == "1"

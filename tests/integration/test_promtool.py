"""promtool on a real scrape, rule unit tests, and every metric the dashboards and rules use
exists in a scrape of an agent that has run real cycles (moto) and delivered alerts."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from alert_sinks import Reply, SlackSink
from prometheus_client.parser import text_string_to_metric_families

from agent.alerts.dispatcher import Dispatcher
from agent.config import parse_config
from agent.cycle import Pipeline
from agent.http import AgentHTTPServer
from agent.scale.worker import WorkerRuntime
from agent.store import Store
from collectors.aws.config import AwsSource

ROOT = Path(__file__).resolve().parents[2]
PROMTOOL = shutil.which("promtool")
pytestmark = [
    pytest.mark.prometheus,
    pytest.mark.skipif(PROMTOOL is None, reason="LOUD SKIP: promtool is not installed"),
]
NAME = re.compile(r"\bposture_[a-z0-9_]+")
# a scheduler's own metrics (run --role scheduler): tests/integration/scale/test_sweep_workers.py finds
# them in a real scheduler's scrape, beside the dashboard that uses them
SCHEDULER_ONLY = frozenset({"posture_sweep_tasks_total", "posture_sweep_gaps_total", "posture_scheduler_leader"})


@pytest.fixture
def scrape(aws: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="scrape-a")
    iam = boto3.client("iam", region_name="us-east-1")
    iam.create_user(UserName="scrape-person")  # a console user without MFA: the MFA coverage metrics
    iam.create_login_profile(UserName="scrape-person", Password="Scrape-Person-1!")
    sink = SlackSink()
    sink.script = [Reply(500, "internal_error")]  # one failed delivery, then the rest go through
    with sink.serve() as url:
        monkeypatch.setenv("SCRAPE_SLACK", url)
        cfg = parse_config(
            "alerts:\n  channels:\n    - {name: slack, type: slack, webhook_url: 'env:SCRAPE_SLACK'}\n"
            "sources:\n  - {name: t, provider: aws, regions: [us-east-1]}\n",
            env={},
        )
        store = Store(f"sqlite:///{tmp_path / 's.db'}")
        store.upgrade()
        pipeline = Pipeline(cfg, store)
        disp = Dispatcher.for_pipeline(pipeline, base_delay=0.01, max_delay=0.02)
        assert disp is not None
        source = AwsSource(name="t", provider="aws", regions=["us-east-1"], endpoint_url=aws)
        pipeline.run_cycle(source)
        s3.create_bucket(Bucket="scrape-b")  # a resource added: drift between the two cycles
        s3.put_bucket_versioning(Bucket="scrape-a", VersioningConfiguration={"Status": "Enabled"})
        pipeline.run_cycle(source)
        for _ in range(100):
            disp.run_once()
            if not disp._gauge.get(("slack", "pending")):
                break
        disp.stop()
        # a worker's task counter, through a worker's own handling of a malformed task
        WorkerRuntime(cfg, pipeline, "amqp://guest:guest@127.0.0.1:1//", []).handle("not a task")
        server = AgentHTTPServer("127.0.0.1", 0, pipeline.metrics.registry, lambda: (True, {}))
        server.start()
        try:
            host, port = server.address
            text = httpx.get(f"http://{host}:{port}/metrics").text
        finally:
            server.stop()
            store.close()
    return text


def _used_names() -> dict[str, set[str]]:
    used: dict[str, set[str]] = {}
    rules = (ROOT / "deploy/prometheus/alerts.yml").read_text()
    exprs = [line for line in rules.splitlines() if not line.lstrip().startswith("#")]
    used["deploy/prometheus/alerts.yml"] = set(NAME.findall("\n".join(exprs)))
    for dash in sorted((ROOT / "deploy/grafana/dashboards").glob("*.json")):
        doc: Any = json.loads(dash.read_text())
        names: set[str] = set()

        def walk(node: Any, names: set[str] = names) -> None:
            if isinstance(node, dict):
                if isinstance(node.get("expr"), str):
                    names.update(NAME.findall(node["expr"]))
                for v in node.values():
                    walk(v)
            elif isinstance(node, list):
                for v in node:
                    walk(v)

        walk(doc)
        used[str(dash.relative_to(ROOT))] = names
    return used


def test_real_scrape_is_clean_and_covers_dashboards_and_rules(scrape: str) -> None:
    assert PROMTOOL is not None
    res = subprocess.run([PROMTOOL, "check", "metrics"], input=scrape, capture_output=True, text=True, timeout=60)
    assert res.returncode == 0 and not (res.stdout + res.stderr).strip(), res.stdout + res.stderr
    samples = {s.name for fam in text_string_to_metric_families(scrape) for s in fam.samples}
    missing = {
        f: sorted(n - samples - SCHEDULER_ONLY) for f, n in _used_names().items() if n - samples - SCHEDULER_ONLY
    }
    assert not missing, f"metrics used but absent from a real scrape: {missing}"
    # bounded cardinality: no label value is a resource id
    assert "arn:aws" not in scrape and "scrape-a" not in scrape


def test_alert_rules_unit_tests() -> None:
    assert PROMTOOL is not None
    res = subprocess.run(
        [PROMTOOL, "test", "rules", "tests.yml"],
        cwd=ROOT / "deploy/prometheus",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert res.returncode == 0, res.stdout + res.stderr
    check = subprocess.run(
        [PROMTOOL, "check", "rules", "alerts.yml"],
        cwd=ROOT / "deploy/prometheus",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert check.returncode == 0, check.stdout + check.stderr

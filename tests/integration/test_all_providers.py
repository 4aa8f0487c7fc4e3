"""One daemon, every provider: an AWS organisation (moto), a GCP organisation (Cloud Asset fake),
an Azure tenant (Entra ID + ARM over TLS), Intune and Fleet devices — the demo cloud."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import yaml
from posture_demo.run import DemoCloud, demo_config

from agent.store import Store
from tests.conftest import free_port


def test_every_provider_in_one_daemon(cloud: DemoCloud, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'posture.db'}"
    port = free_port()
    cfg = demo_config(cloud.endpoint, db, f"127.0.0.1:{port}", "1h", cloud.other_sources)
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
    config = tmp_path / "agent.yaml"
    config.write_text(yaml.safe_dump(cfg.model_dump(mode="json", exclude_none=True)))
    log = tmp_path / "agent.log"
    with log.open("wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "agent.cli.main", "run", "--config", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=err,
            env=dict(os.environ),
        )
    try:
        deadline = time.monotonic() + 120
        sources = {s.name for s in cfg.sources}
        while time.monotonic() < deadline:
            assert proc.poll() is None, log.read_text()[-2000:]
            try:
                store = Store(db)
                done = {r["source"] for r in store.runs() if r["status"] != "failed"}
                store.close()
            except Exception:
                done = set()
            if done >= sources:
                break
            time.sleep(1)
        assert done >= sources, (done, log.read_text()[-2000:])
        metrics = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
        for provider in ("aws", "gcp", "azure", "endpoints", "okta", "googleworkspace", "github"):
            assert f'provider="{provider}"' in metrics
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    # identity sources (Okta, Google Workspace) evidence access control (CC6.1), not malware protection (CC6.8)
    for requirement, identity in (
        ("SOC2:CC6.1", {"okta", "googleworkspace", "github", "people"}),
        ("SOC2:CC6.8", set()),
    ):
        out = subprocess.run(
            [
                sys.executable,
                "-m",
                "agent.cli.main",
                "findings",
                "--db",
                db,
                "--control",
                requirement,
                "--format",
                "json",
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
        rows = json.loads(out.stdout)
        evaluated = {r["provider"] for r in rows if r["status"] in ("pass", "fail")}
        assert evaluated == {"aws", "gcp", "azure", "endpoints"} | identity, (requirement, evaluated)
    controls = subprocess.run(
        [sys.executable, "-m", "agent.cli.main", "controls", "--framework", "soc2", "--db", db, "--format", "json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    states = {r["id"]: r for r in json.loads(controls.stdout)["requirements"]}
    assert states["CC6.1"]["kind"] == "automated" and states["CC6.1"]["status"] in ("pass", "fail")
    assert states["CC6.8"]["failing_resources"] > 0  # the laptop without antivirus, among others
    # `controls --framework soc2` evaluates change management (CC8.1) from GitHub and leavers' access
    # (CC6.2) from the people ledger: both automated, failing on the demo's seeded problems
    for requirement, prefix in (("CC8.1", "github."), ("CC6.2", "people.")):
        state = states[requirement]
        assert state["kind"] == "automated" and state["status"] == "fail", state
        assert any(c.startswith(prefix) for c in state["checks"]), state["checks"]
    # change management (CC8.1) has automated evidence from the GitHub organisation
    out = subprocess.run(
        [sys.executable, "-m", "agent.cli.main", "findings", "--db", db, "--control", "SOC2:CC8.1", "--format", "json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert {r["provider"] for r in json.loads(out.stdout) if r["status"] == "fail"} >= {"github"}
    # leavers' access (CC6.2) is evaluated from the people ledger: the demo's leavers still hold accounts
    out = subprocess.run(
        [sys.executable, "-m", "agent.cli.main", "findings", "--db", db, "--control", "SOC2:CC6.2", "--format", "json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert {r["check_id"] for r in json.loads(out.stdout) if r["status"] == "fail"} >= {
        "people.person.leaver_access_removed",
        "people.identity.belongs_to_person",
    }

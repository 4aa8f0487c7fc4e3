"""The drift, alerts and exceptions commands, run as the real CLI in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from alert_sinks import SlackSink, WebhookSink
from test_alerting import _private, bucket, make, record

from agent.store import Store


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "agent.cli.main", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
    )


def test_alerts_test_sends_to_slack_and_signed_webhook(tmp_path: Path) -> None:
    slack, hook = SlackSink(), WebhookSink("k3y")
    with slack.serve() as s_url, hook.serve() as h_url:
        cfg = tmp_path / "c.yaml"
        cfg.write_text(
            "alerts:\n  channels:\n"
            "    - {name: team, type: slack, webhook_url: 'env:SLACK_URL'}\n"
            "    - {name: siem, type: webhook, url: 'env:HOOK_URL', secret: 'env:HOOK_KEY'}\n"
        )
        env = {"SLACK_URL": s_url, "HOOK_URL": h_url, "HOOK_KEY": "k3y"}
        r1 = cli("alerts", "test", "team", "--config", str(cfg), env=env)
        r2 = cli("alerts", "test", "siem", "--config", str(cfg), env=env)
        slack.down = True
        r3 = cli("alerts", "test", "team", "--config", str(cfg), env=env)
        r4 = cli("alerts", "test", "nope", "--config", str(cfg), env=env)
    assert r1.returncode == 0 and "sent a test message to team" in r1.stdout, r1.stderr
    assert r2.returncode == 0, r2.stderr
    assert len(slack.received) == 1 and len(hook.received) == 1
    assert hook.received[0]["type"] == "posture.test"
    assert r3.returncode == 3 and "HTTP 500" in r3.stderr and s_url not in r3.stderr + r3.stdout  # not delivered
    assert r4.returncode == 2 and "no alert channel 'nope'" in r4.stderr


def test_exceptions_drift_and_pending(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'p.db'}"
    r = cli(
        "exceptions",
        "add",
        "--check",
        "aws.s3.bucket_versioning",
        "--resource",
        "arn:aws:s3:::logs-*",
        "--reason",
        "log buckets are write-once",
        "--owner",
        "alice",
        "--expires",
        "2999-01-31",
        "--db",
        url,
    )
    assert r.returncode == 0, r.stderr
    assert "exception #1" in r.stdout
    bad = cli(
        "exceptions",
        "add",
        "--check",
        "aws.s3.nope",
        "--resource",
        "*",
        "--reason",
        "x",
        "--owner",
        "a",
        "--expires",
        "2999-01-01",
        "--db",
        url,
    )
    assert bad.returncode == 2 and "no check" in bad.stderr
    past = cli(
        "exceptions",
        "add",
        "--check",
        "aws.s3.bucket_versioning",
        "--resource",
        "*",
        "--reason",
        "x",
        "--owner",
        "a",
        "--expires",
        "2000-01-01",
        "--db",
        url,
    )
    assert past.returncode == 2 and "in the past" in past.stderr
    listed = json.loads(cli("exceptions", "list", "--db", url, "--format", "json").stdout)
    assert [(e["id"], e["owner"], e["state"]) for e in listed] == [(1, "alice", "active")]

    store = Store(url)
    store.upgrade()
    sink = SlackSink()
    sink.down = True
    with sink.serve() as s_url:
        pipeline, disp = make(store, {"slack": s_url}, monkeypatch=monkeypatch)
        record(pipeline, [bucket("a")])
        record(pipeline, [bucket("a", public=True)])
        disp.run_once()
        disp.stop()
    store.close()
    events = json.loads(cli("drift", "--since", "1h", "--db", url, "--format", "json").stdout)
    assert {(e["kind"], e["check_id"]) for e in events} == {("modified", ""), ("regressed", _private.id)}
    modified = next(e for e in events if e["kind"] == "modified")
    assert modified["detail"]["summary"] == ["PublicAccessBlockConfiguration.BlockPublicAcls: true -> false"]
    table = cli("drift", "--since", "1h", "--db", url, env={"COLUMNS": "300"})
    assert "BlockPublicAcls" in table.stdout and "2 events" in table.stdout
    pending: list[dict[str, Any]] = json.loads(cli("alerts", "pending", "--db", url, "--format", "json").stdout)
    assert len(pending) == 1 and pending[0]["state"] == "pending" and pending[0]["attempts"] == 1
    assert "HTTP 500" in pending[0]["last_error"]

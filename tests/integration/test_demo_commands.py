"""`posture-agent demo` as a new user meets it, the virtualenv not activated: the commands it prints run
as printed (findings, controls, the alert outbox and channel, a bundle exported and verified), and its
alerts reach the demo's own webhook receiver, signature checked, after a drift."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from posture_demo import run
from posture_demo.alert_sink import DEMO_CHANNEL, AlertSink

from agent.alerts.webhook import sign
from agent.evidence.store_records import load_store_records
from agent.store import Store
from tests.conftest import free_port

BIN = Path(os.path.abspath(sys.executable)).parent  # the virtualenv's scripts, as a user's shell sees them
DRIFT_BUCKET = re.compile(r"^arn:aws:s3:::prod-\d{4}-customer-data-")


def _without_venv() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "POSTURE_CONFIG", "POSTURE_DB")}
    env["PATH"] = os.pathsep.join(
        p for p in env.get("PATH", "").split(os.pathsep) if p and os.path.abspath(p) != str(BIN)
    )
    return env


def _wait(what: str, cond: Callable[[], Any], proc: subprocess.Popen[bytes], log: Path, timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"the demo stopped: {log.read_text()[-3000:]}"
        try:
            got = cond()
        except Exception:  # the store is being created
            got = None
        if got:
            return got
        time.sleep(1)
    raise AssertionError(f"timed out waiting for {what}: {log.read_text()[-3000:]}")


def printed_commands(text: str) -> list[str]:
    """The command lines in the demo's instructions that run this installation's programs, continuation
    lines joined."""
    names = "|".join(re.escape(str(BIN / n)) for n in ("posture-agent", "posture-verify"))
    joined = re.sub(r"\\\n\s*", " ", text)
    return [m.group(1).strip() for m in re.finditer(rf"((?:[A-Z_]+=\S+ )*(?:{names}) .*)$", joined, re.M)]


@pytest.mark.timeout(900)  # the whole demo: its start, a collection, a checkpoint witnessed, a drift
def test_the_demo_prints_commands_that_run_as_typed_and_delivers_alerts(tmp_path: Path) -> None:
    env = _without_venv()
    work, data = tmp_path / "work", tmp_path / "data"
    work.mkdir()
    out, err = tmp_path / "demo.out", tmp_path / "demo.err"
    with out.open("wb") as o, err.open("wb") as e:
        proc = subprocess.Popen(
            [str(BIN / "posture-agent"), "demo", "--data-dir", str(data), "--interval", "10s"]
            + ["--drift-every", "20s", "--listen", f"127.0.0.1:{free_port()}"],
            cwd=work,
            env=env,
            stdout=o,
            stderr=e,
        )
    demo_dir = data / "demo"
    db = f"sqlite:///{demo_dir / 'posture.db'}"

    def run_printed(cmd: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", "-c", cmd], cwd=work, env=env, capture_output=True, text=True, timeout=300, check=False
        )

    try:
        _wait("the instructions", lambda: "Stop with Ctrl-C." in out.read_text(), proc, err, 180)
        text = out.read_text()
        commands = printed_commands(text)
        # the venv is not on PATH, so each command is printed with its path, and the way to activate it
        assert [re.sub(r"^(?:[A-Z_]+=\S+ )*\S+ (\S+).*", r"\1", c) for c in commands] == [
            "findings",
            "controls",
            "alerts",
            "alerts",
            "evidence",
            "bundle.zip",
        ], text
        assert f"source {BIN / 'activate'}" in text

        # the demo's config routes alerts to its receiver
        config = yaml.safe_load((demo_dir / "agent.yaml").read_text())
        [channel] = config["alerts"]["channels"]
        assert channel["name"] == DEMO_CHANNEL and channel["type"] == "webhook"
        assert channel["url"] in text and channel["secret"] == f"file:{demo_dir / 'webhook-secret'}"

        def collected() -> bool:
            store = Store(db)
            try:
                return any(r["source"] == "demo-org" and r["status"] != "failed" for r in store.runs())
            finally:
                store.close()

        def witnessed() -> bool:  # the latest checkpoint has its TSA token and its bucket copy
            store = Store(db)
            try:
                rec = load_store_records(store)
            finally:
                store.close()
            last = max(int(c["seq"]) for c in rec.checkpoints)
            return {w["kind"] for w in rec.witnesses if w["checkpoint_seq"] == last} >= {"rfc3161", "s3"}

        _wait("the first collection of the AWS organisation", collected, proc, err, 240)
        findings, controls, pending, test_alert, export, verify = commands
        done = run_printed(findings)
        assert done.returncode == 0 and "aws.s3." in done.stdout, done.stdout + done.stderr
        done = run_printed(controls)  # the demo's scope, from its config: as its /metrics counts them
        assert done.returncode == 0 and "CC6.1" in done.stdout and "A1.2" in done.stdout, done.stdout + done.stderr
        done = run_printed(pending)
        assert done.returncode == 0 and "pending" in done.stdout, done.stdout + done.stderr
        done = run_printed(test_alert)
        assert done.returncode == 0 and f"sent a test message to {DEMO_CHANNEL}" in done.stdout, done.stderr

        for attempt in range(2):  # once more if a new checkpoint was written between the wait and the export
            _wait("a witnessed checkpoint", witnessed, proc, err, 120)
            done = run_printed(export)
            assert done.returncode == 0 and (work / "bundle.zip").is_file(), done.stdout + done.stderr
            done = run_printed(verify)
            if done.returncode == 0 or attempt or "has no valid witness" not in done.stdout + done.stderr:
                break
        assert done.returncode == 0 and done.stdout.startswith("OK:"), done.stdout + done.stderr

        # a drift (the customer-data bucket made public, or fixed) reaches the receiver as its own alert
        def drift_alert() -> dict[str, Any] | None:
            lines = (demo_dir / "alerts.jsonl").read_text().splitlines()
            alerts = [json.loads(x)["alert"] for x in lines]
            return next((a for a in alerts if DRIFT_BUCKET.match(a["resource_id"]) and a["kind"] != "digest"), None)

        alert = _wait("an alert of the drift at the receiver", drift_alert, proc, err, 300)
        assert alert["transition"] in ("regressed", "resolved") and alert["source"] == "demo-org"
        printed = out.read_text()
        assert f"alert received    : [{alert['severity']}] {alert['title']}: {alert['resource_id']}" in printed
        assert "alert received    : [info] posture-agent test message" in printed
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    assert proc.returncode == 0, err.read_text()[-3000:]


# -- the pieces, without the demo ---------------------------------------------------------------------


def test_commands_are_printed_the_way_this_shell_finds_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "argv", [str(BIN / "posture-agent"), "demo"])
    monkeypatch.setenv("PATH", _without_venv()["PATH"])
    monkeypatch.chdir(tmp_path)
    assert run.command("posture-agent") == str(BIN / "posture-agent")  # outside the project: absolute
    monkeypatch.chdir(BIN.parent.parent)  # where `make demo` runs: .venv/bin/posture-agent
    assert run.command("posture-verify") == f"{BIN.parent.name}/bin/posture-verify"
    monkeypatch.chdir(BIN)
    assert run.command("posture-agent") == "./posture-agent"
    monkeypatch.setenv("PATH", f"{BIN}{os.pathsep}{os.environ['PATH']}")  # an activated virtualenv
    assert run.command("posture-agent") == "posture-agent" and run._activate_hint("posture-agent") == ""
    assert run.command("no-such-program") == "no-such-program"


def test_the_receiver_checks_signatures_and_takes_a_delivery_once(tmp_path: Path) -> None:
    seen: list[str] = []
    sink = AlertSink(tmp_path / "alerts.jsonl", echo=seen.append).start()
    try:
        ref = sink.write_secret(tmp_path / "secret")
        assert (tmp_path / "secret").stat().st_mode & 0o777 == 0o600 and ref == f"file:{tmp_path / 'secret'}"
        body = json.dumps({"type": "posture.test", "delivery": "d1", "alert": {"kind": "test", "title": "hi"}}).encode()
        with httpx.Client() as client:
            bad = client.post(sink.url, content=body, headers={"X-Posture-Delivery": "d1", **sign("wrong", body)})
            assert bad.status_code == 401 and sink.received == [] and sink.rejected == 1
            for _ in range(2):  # a retry of the same delivery is taken once
                ok = client.post(
                    sink.url, content=body, headers={"X-Posture-Delivery": "d1", **sign(sink.secret, body)}
                )
                assert ok.status_code == 200
    finally:
        sink.stop()
    assert len(sink.received) == 1 and len((tmp_path / "alerts.jsonl").read_text().splitlines()) == 1
    assert seen[-1] == "  alert received    : [info] hi" and "refused" in seen[0]

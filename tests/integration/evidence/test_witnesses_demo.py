"""The demo anchors its evidence (a local TSA and an Object Lock bucket in its moto), and the bundle
exported the way the demo prints verifies with the standalone verifier, the TSA's root and the bucket."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import yaml
from posture_demo.run import DemoCloud, _demo_signing_key, _write_witness_files, demo_config

from agent.evidence.store_records import load_store_records
from agent.store import Store
from tests.conftest import free_port
from tests.integration.evidence.tsa import both_clis

AGENT_CLI = Path(sys.executable).parent / "posture-agent"


def _wait(what: str, cond: object, proc: subprocess.Popen[bytes], log: Path, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, log.read_text()[-3000:]
        try:
            if cond():  # type: ignore[operator]
                return
        except Exception:  # the store is being created
            pass
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}: {log.read_text()[-3000:]}")


def test_the_demo_witnesses_its_checkpoints_and_its_bundle_verifies(cloud: DemoCloud, tmp_path: Path) -> None:
    assert cloud.tsa is not None, "openssl is installed here, so the demo runs its TSA"
    db = f"sqlite:///{tmp_path / 'posture.db'}"
    key_ref, fingerprint = _demo_signing_key(tmp_path)
    cfg = demo_config(
        cloud.endpoint,
        db,
        f"127.0.0.1:{free_port()}",
        "1h",
        (),
        anchors={**cloud.anchors(), "every": "1s"},
        signing_key=key_ref,
    )
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

        def collected() -> bool:
            store = Store(db)
            try:
                return any(r["source"] == "demo-org" and r["status"] != "failed" for r in store.runs())
            finally:
                store.close()

        _wait("the first collection", collected, proc, log)
        done = subprocess.run(
            [str(AGENT_CLI), "evidence", "checkpoint", "--config", str(config)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr

        def witnessed() -> bool:
            store = Store(db)
            try:
                rec = load_store_records(store)
            finally:
                store.close()
            last = max(int(c["seq"]) for c in rec.checkpoints)
            return {w["kind"] for w in rec.witnesses if w["checkpoint_seq"] == last} >= {"rfc3161", "s3"}

        _wait("the witnesses of the new checkpoint", witnessed, proc, log)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    printed = _write_witness_files(cloud, tmp_path, db, key_ref, fingerprint)
    assert "--tsa-cert" in printed and cloud.anchor_url in printed and f"--key-fingerprint {fingerprint}" in printed
    bundle = tmp_path / "bundle.zip"
    done = subprocess.run(
        [str(AGENT_CLI), "evidence", "export", "--config", str(tmp_path / "evidence.yaml"), "-o", str(bundle)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    code, problems, notes = both_clis(
        bundle,
        [
            "--key-fingerprint",
            fingerprint,
            "--tsa-cert",
            str(tmp_path / "tsa-root.pem"),
            "--anchor-bucket",
            cloud.anchor_url,
            "--s3-endpoint",
            cloud.moto_url,
        ],
        tmp_path,
    )
    assert code == 0 and problems == [], problems
    assert "RFC 3161 token" in notes and cloud.anchor_url in notes and "the manifest was timestamped" in notes

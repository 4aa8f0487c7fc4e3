"""The daemon's evidence jobs: a signed checkpoint on schedule and daily retention, on a real scheduler."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

from apscheduler.schedulers.background import BackgroundScheduler
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from agent.config import EvidenceConfig
from agent.evidence.chain import verify_records
from agent.evidence.checkpoints import Signer
from agent.evidence.housekeeping import schedule
from agent.evidence.store_records import load_store_records
from agent.models import utcnow
from agent.store import Store
from tests.integration.evidence.helpers import bucket, cycle


def _wait(cond: object, timeout: float = 20) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():  # type: ignore[operator]
            return True
        time.sleep(0.1)
    return False


def test_scheduled_signed_checkpoint_and_retention(store: Store, tmp_path: Path) -> None:
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    key_file = tmp_path / "signing.pem"
    key_file.write_bytes(pem)
    cfg = EvidenceConfig.model_validate({"signing_key": f"file:{key_file}", "retention_days": 30})
    now = utcnow()
    for i in range(3):
        cycle(store, now - timedelta(days=100) + i * timedelta(minutes=15), [bucket("b0"), bucket("b1")])
    for i in range(2):
        cycle(store, now - timedelta(hours=1) + i * timedelta(minutes=15), [bucket("b0")])
    scheduler = BackgroundScheduler(timezone="UTC")
    assert schedule(scheduler, store, cfg, checkpoint_seconds=1, retention_seconds=2) == [
        "evidence-checkpoint",
        "evidence-retention",
    ]
    scheduler.start()
    try:

        def pruned() -> bool:
            cps = load_store_records(store).checkpoints
            return any(int(c["pruned_through"]) > 0 for c in cps)

        assert _wait(pruned), "no pruning checkpoint was written"
    finally:
        scheduler.shutdown(wait=True)
    rec = load_store_records(store)
    assert len(rec.snapshots) == 2 and all(c["signature"] for c in rec.checkpoints)
    report = verify_records(rec, public_keys=[Signer(pem).public], require_signed=True)
    assert report.ok, report.issues
    assert report.signatures_checked == len(rec.checkpoints) >= 2


def test_no_jobs_without_a_store() -> None:
    assert schedule(BackgroundScheduler(timezone="UTC"), None, EvidenceConfig()) == []

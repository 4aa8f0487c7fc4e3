"""The anchor writer, the agent's only write to a cloud: exactly PutObject into the auditor's bucket
under its prefix, refused otherwise before anything leaves the process; the IAM policy shipped for
it; the collector's read-only allowlist untouched; and the daemon's anchoring job on a real scheduler."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from apscheduler.schedulers.background import BackgroundScheduler

from agent.config import AnchorsConfig, EvidenceConfig
from agent.evidence.anchoring import ANCHOR_ACTIONS, AnchorWriteRefused, S3Writer, schedule
from agent.evidence.checkpoints import checkpoint_now
from agent.evidence.store_records import load_store_records
from agent.models import utcnow
from agent.store import Store
from collectors.aws.allowlist import ALLOWED_ACTIONS
from tests.integration.evidence.helpers import seed

if TYPE_CHECKING:
    from posture_demo.tsa import LocalTsa

    from tests.integration.evidence.tsa import AnchorBucket


POLICY = Path(__file__).resolve().parents[3] / "deploy" / "aws" / "posture-agent-anchor-policy.json"


def test_the_writer_puts_only_locked_copies_under_its_prefix(anchor_bucket: AnchorBucket) -> None:
    writer = S3Writer(AnchorsConfig.model_validate({"s3": anchor_bucket.config()}).s3)
    receipt = writer.put("posture/s/checkpoints/000000000001.json", b"{}", utcnow())
    head = anchor_bucket.s3.head_object(
        Bucket=anchor_bucket.bucket, Key=receipt["key"], VersionId=receipt["version_id"]
    )
    assert head["ObjectLockMode"] == "COMPLIANCE" and head["ETag"].strip('"') == receipt["etag"]
    client = writer.client()
    refused = [
        lambda: client.delete_object(Bucket=anchor_bucket.bucket, Key=receipt["key"], VersionId=receipt["version_id"]),
        lambda: client.get_object(Bucket=anchor_bucket.bucket, Key=receipt["key"]),
        lambda: client.put_object(Bucket=anchor_bucket.bucket, Key="elsewhere/x.json", Body=b"{}"),
        lambda: client.put_object(Bucket=anchor_bucket.bucket + "-other", Key="posture/x.json", Body=b"{}"),
        lambda: client.put_object_retention(
            Bucket=anchor_bucket.bucket, Key=receipt["key"], Retention={"Mode": "GOVERNANCE"}
        ),
        lambda: client.list_buckets(),
    ]
    for call in refused:
        with pytest.raises(AnchorWriteRefused):
            call()
    assert anchor_bucket.object_keys() == [receipt["key"]]  # nothing else reached the bucket


def test_the_policy_grants_the_write_and_nothing_else() -> None:
    policy = json.loads(POLICY.read_text())
    (statement,) = policy["Statement"]
    assert statement["Effect"] == "Allow"
    # PutObject, and PutObjectRetention which AWS requires of an upload that sets its own Object Lock
    # retention; the writer's guard still sends PutObject only
    assert set(statement["Action"]) == ANCHOR_ACTIONS | {"s3:PutObjectRetention"}
    assert {"s3:PutObject"} == ANCHOR_ACTIONS
    assert statement["Resource"].startswith("arn:aws:s3:::") and statement["Resource"].endswith("/posture-agent/*")
    assert statement["Condition"]["StringEquals"] == {"s3:object-lock-mode": "COMPLIANCE"}
    assert not any(a.startswith("s3:Put") or a.startswith("s3:Delete") for a in ALLOWED_ACTIONS)  # collector: read


def test_the_anchor_config_is_validated() -> None:
    with pytest.raises(ValueError, match="role"):
        AnchorsConfig.model_validate({"s3": {"bucket": "b-anchors", "role_arn": "admin"}})
    with pytest.raises(ValueError, match="url"):
        AnchorsConfig.model_validate({"tsa": [{"url": "ftp://tsa"}]})
    assert EvidenceConfig().anchors.tsa == [] and EvidenceConfig().anchors.s3 is None


def test_the_daemon_job_anchors_new_checkpoints(store: Store, tsa: LocalTsa, anchor_bucket: AnchorBucket) -> None:
    seed(store)
    row = checkpoint_now(store, utcnow())
    cfg = EvidenceConfig.model_validate(
        {"anchors": {"tsa": [{"url": tsa.url}], "s3": anchor_bucket.config(), "every": "1s"}}
    )
    scheduler = BackgroundScheduler(timezone="UTC")
    assert schedule(scheduler, store, cfg) == ["evidence-anchor"]
    assert schedule(BackgroundScheduler(timezone="UTC"), store, EvidenceConfig()) == []  # nothing configured
    scheduler.start()
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            kinds = {w["kind"] for w in load_store_records(store).witnesses}
            if {"rfc3161", "s3"} <= kinds:
                break
            time.sleep(0.2)
    finally:
        scheduler.shutdown(wait=True)
    witnesses = load_store_records(store).witnesses
    assert sorted(w["kind"] for w in witnesses) == ["rfc3161", "rfc3161-certs", "s3"], witnesses
    assert all(w["checkpoint_seq"] == row["seq"] for w in witnesses)
    at = row["at"].isoformat().replace("+00:00", "Z")[:19]
    assert all(w["at"][:16] == at[:16] or w["at"] >= at for w in witnesses), (at, witnesses)  # right after it

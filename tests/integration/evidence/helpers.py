"""A small synthetic history written through the same store paths the daemon uses."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert

from agent.exceptions import add_exception
from agent.models import Finding, Resource, Severity, Snapshot, Status, canonical_json, finding_uid
from agent.store import RunRecord, Store
from agent.store.alerting import drift_events
from agent.store.manual import Prepared, store_prepared

T0 = datetime(2026, 1, 1, tzinfo=UTC)
ACCOUNT = "111122223333"
CHECK = "aws.s3.bucket_default_encryption"  # CRYPTO-STORAGE-REST -> SOC2:CC6.1
STEP = timedelta(minutes=15)


def bucket(name: str, encrypted: bool = True) -> Resource:
    return Resource(
        provider="aws",
        account=ACCOUNT,
        region="us-east-1",
        type="aws.s3.bucket",
        id=f"arn:aws:s3:::{name}",
        name=name,
        attributes={"Encrypted": encrypted},
    )


def cycle(
    store: Store, at: datetime, resources: Sequence[Resource], *, status: str = "complete", source: str = "prod"
) -> int:
    """One daemon cycle: run, snapshot, findings; returns the snapshot id."""
    snap = Snapshot(
        source=source,
        provider="aws",
        account=ACCOUNT,
        started_at=at,
        finished_at=at,
        resources=tuple(resources),
        errors=(),
    )
    findings = [
        Finding(
            uid=finding_uid(CHECK, r.id),
            check_id=CHECK,
            resource_id=r.id,
            resource_type=r.type,
            provider="aws",
            account=ACCOUNT,
            region=r.region,
            status=Status.PASS if r.attributes["Encrypted"] else Status.FAIL,
            severity=Severity.HIGH,
            message="encrypted" if r.attributes["Encrypted"] else "not encrypted",
            requirements=(),
            evaluated_at=at,
            source=source,
        )
        for r in resources
    ]
    run = RunRecord(id=uuid.uuid4().hex, source=source, provider="aws", started_at=at, finished_at=at, status=status)
    return store.record_cycle(run, [(snap, findings)])[0].snapshot_id


def drift(store: Store, at: datetime, snapshot_id: int, resource_id: str) -> None:
    """A drift event with its chain entry, as agent/watch.py writes them."""
    row = {
        "run_id": "r",
        "snapshot_id": snapshot_id,
        "source": "prod",
        "provider": "aws",
        "account": ACCOUNT,
        "region": "us-east-1",
        "kind": "modified",
        "check_id": "",
        "resource_id": resource_id,
        "resource_type": "aws.s3.bucket",
        "severity": "",
        "previous_status": None,
        "status": None,
        "detail": canonical_json({"changes": ["Encrypted"]}).decode(),
        "at": at,
    }
    with store.transaction() as conn:
        conn.execute(insert(drift_events), [row])
        store.append_evidence(
            conn,
            at=at,
            kind="drift",
            ref=f"drift:{snapshot_id}",
            content={"run": "r", "snapshot": snapshot_id, "source": "prod", "account": ACCOUNT, "events": [row]},
        )


def seed(store: Store, cycles: int = 6) -> list[int]:
    """A few cycles where b1 fails then is fixed, a drift event, an exception and a manual document."""
    ids = []
    for i in range(cycles):
        ids.append(cycle(store, T0 + i * STEP, [bucket("b0"), bucket("b1", encrypted=not (1 <= i <= 2))]))
    drift(store, T0 + STEP, ids[1], "arn:aws:s3:::b1")
    add_exception(
        store,
        check_id=CHECK,
        resource_pattern="arn:aws:s3:::legacy-*",
        reason="migrating",
        owner="alice",
        expires_at=T0 + timedelta(days=30),
        now=T0 + STEP,
    )
    store_prepared(
        store,
        Prepared(
            control_id="POL-ACCESS",
            filename="access.pdf",
            owner="bob",
            review_every_days=365,
            data=b"%PDF access policy",
        ),
        now=T0 + 2 * STEP,
    )
    return ids

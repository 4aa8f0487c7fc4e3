"""Drift that is signal, end to end on the demo cloud (moto with the demo organisation, and the GCP,
Entra/ARM, Intune, Fleet and SSM wire fakes), whose observations tick between cycles like the real
services' (check-in, sign-in, delivery and restorable times):

- after a first cycle, further cycles of the untouched cloud write no drift event, no new blob and
  less than 1 KB per account and cycle, on SQLite and PostgreSQL, through the daemon's cycle and `scan`;
- one configuration attribute changed per provider gives exactly that drift and nothing else.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import yaml
from posture_demo import fake_devices, fake_gcp
from posture_demo.run import DemoCloud, demo_config
from sqlalchemy import func, select, text

from agent.config import Config
from agent.cycle import CycleResult, Pipeline
from agent.observations import parse_path
from agent.store import Store
from agent.store import schema as t
from agent.store.alerting import drift_events

# per account and cycle (a snapshot): an organisation's source writes one per member account
MAX_BYTES_PER_SNAPSHOT = 1024


def _config(cloud: DemoCloud, db: str) -> Config:
    return demo_config(cloud.endpoint, db, "127.0.0.1:0", "1h", cloud.other_sources)


def _cycle(pipeline: Pipeline, cfg: Config) -> list[CycleResult]:
    out = [pipeline.run_cycle(source) for source in cfg.sources]
    for r in out:
        assert r.ok, r.error
    return out


def _stored_bytes(store: Store) -> int:
    """Bytes of row data: SQLite's dbstat payload (tables and indexes); on PostgreSQL each row's size
    with its tuple header and line pointer (relation sizes are page-granular: too coarse for a few
    cycles; bench/evidence.py measures them over thousands)."""
    with store.engine.connect() as conn:
        if store.dialect == "sqlite":
            return int(conn.execute(text("SELECT SUM(payload) FROM dbstat")).scalar() or 0)
        total = 0
        for table in conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")):
            total += int(
                conn.execute(text(f'SELECT COALESCE(SUM(pg_column_size(x.*) + 28), 0) FROM "{table[0]}" x')).scalar()
                or 0
            )
        return total


def _counts(store: Store) -> tuple[int, int]:
    with store.engine.connect() as conn:
        return (
            int(conn.execute(select(func.count()).select_from(drift_events)).scalar() or 0),
            int(conn.execute(select(func.count()).select_from(t.blobs)).scalar() or 0),
        )


def _snapshots(store: Store) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(t.snapshots)).scalar() or 0)


def _observed(results: list[CycleResult]) -> dict[tuple[str, str], list[Any]]:
    """(provider, resource id) -> the values of its observations, as collected."""
    out: dict[tuple[str, str], list[Any]] = {}
    for r in results:
        for snap in r.snapshots:
            for res in snap.resources:
                if res.observations:
                    out[(res.provider, res.id)] = [_at(res.attributes, p) for p in res.observations]
    return out


def _at(value: Any, path: str) -> Any:
    for step in parse_path(path):
        if step == "[]":
            return value if isinstance(value, list) else None  # a list path: the whole list is the value
        value = value.get(step) if isinstance(value, dict) else None
    return value


def test_untouched_cloud_is_quiet_through_the_daemon_cycle(cloud: DemoCloud, db_url: str) -> None:
    cfg = _config(cloud, db_url)
    store = Store(db_url)
    store.upgrade()
    pipeline = Pipeline(cfg, store)
    try:
        first = _cycle(pipeline, cfg)
        drift0, blobs0 = _counts(store)
        bytes0, snaps0 = _stored_bytes(store), _snapshots(store)
        cycles, previous = 2, _observed(first)
        ticked: set[str] = set()
        for _ in range(cycles):
            time.sleep(1.1)  # observation times have second resolution: let them move
            now = _observed(_cycle(pipeline, cfg))
            ticked |= {provider for (provider, rid), values in now.items() if values != previous.get((provider, rid))}
            previous = now
        # the clouds do tick (GCP's collected types have no observation that moves on its own)
        assert ticked >= {"aws", "azure", "endpoints"}, ticked
        drift, blobs = _counts(store)
        assert drift == drift0, "\n".join(map(str, _drift_rows(store, drift0)))
        assert blobs == blobs0
        per_snapshot = (_stored_bytes(store) - bytes0) / (_snapshots(store) - snaps0)
        assert per_snapshot < MAX_BYTES_PER_SNAPSHOT, per_snapshot
    finally:
        store.close()


def _drift_rows(store: Store, after: int, limit: int = 20) -> list[dict[str, Any]]:
    with store.engine.connect() as conn:
        return [
            {k: r._mapping[k] for k in ("source", "kind", "resource_id", "check_id", "detail")}
            for r in conn.execute(select(drift_events).order_by(drift_events.c.id).offset(after).limit(limit))
        ]


def test_untouched_cloud_is_quiet_through_scan(cloud: DemoCloud, db_url: str, tmp_path: Path) -> None:
    db = db_url
    config = tmp_path / "agent.yaml"
    config.write_text(yaml.safe_dump(_config(cloud, db).model_dump(mode="json", exclude_none=True)))

    def scan() -> None:
        out = subprocess.run(
            [
                sys.executable,
                "-m",
                "agent.cli.main",
                "scan",
                "--config",
                str(config),
                "--source",
                "demo-org",
                "--format",
                "json",
                "--output",
                str(tmp_path / "out.json"),
            ],
            capture_output=True,
            text=True,
            timeout=600,
            env=dict(os.environ),
        )
        assert out.returncode == 0, out.stderr[-2000:]

    scan()
    store = Store(db)
    try:
        drift0, blobs0 = _counts(store)
        bytes0, snaps0 = _stored_bytes(store), _snapshots(store)
        for _ in range(2):
            time.sleep(1.1)
            scan()
        drift, blobs = _counts(store)
        assert (drift, blobs) == (drift0, blobs0), _drift_rows(store, drift0)
        per_snapshot = (_stored_bytes(store) - bytes0) / (_snapshots(store) - snaps0)
        assert per_snapshot < MAX_BYTES_PER_SNAPSHOT, per_snapshot
    finally:
        store.close()


def test_one_configuration_change_per_provider_is_exactly_that_drift(cloud: DemoCloud, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'drift.db'}"
    cfg = _config(cloud, db)
    provider_of = {s.name: s.provider for s in cfg.sources}
    store = Store(db)
    store.upgrade()
    pipeline = Pipeline(cfg, store)
    try:
        _cycle(pipeline, cfg)
        drift0, _ = _counts(store)
        restore = _change_one_attribute_per_provider(cloud)
        try:
            time.sleep(1.1)  # and let every observation tick meanwhile
            _cycle(pipeline, cfg)
        finally:
            restore()
        rows = _drift_rows(store, drift0, limit=200)
        modified = sorted(
            (provider_of[r["source"]], tuple(c["path"] for c in json.loads(r["detail"])["changes"]))
            for r in rows
            if r["kind"] == "modified"
        )
        assert modified == sorted(_EXPECTED), "\n".join(map(str, rows))
        # nothing else: no resource added or removed; a finding changes only on a changed resource (and
        # a requirement with it)
        changed = {r["resource_id"] for r in rows if r["kind"] == "modified"}
        assert all(
            r["kind"] == "modified" or r["resource_id"] in changed or r["kind"].startswith("requirement_") for r in rows
        ), rows
    finally:
        store.close()


_EXPECTED = [
    ("aws", ("Versioning.Status",)),
    ("gcp", ("versioning",)),  # absent before: the whole object is the change
    ("azure", ("properties.minimumTlsVersion",)),
    ("endpoints", ("disk_encryption",)),
    ("googleworkspace", ("identity.mfa", "isEnrolledIn2Sv")),  # the identity record follows the flag
    # the people ledger is derived: the person whose Workspace account gained MFA, and the ledger's
    # record of which snapshot of each identity source it joined (the three that changed: AWS, Entra
    # ID and Workspace; sources in config order), nothing else
    ("people", ("identities[2].mfa",)),
    (
        "people",
        (
            "sources[0].manifests.123456789012",
            "sources[1].manifests.5a8e7c2d-3f41-4b6a-9c0d-112233445566",
            "sources[3].manifests.northwind.example",
        ),
    ),
]


def _change_one_attribute_per_provider(cloud: DemoCloud) -> Callable[[], None]:
    """One configuration attribute of one resource of each provider, changed in the cloud or its wire
    fake (S3 versioning in moto, a GCS bucket's versioning, a storage account's minimum TLS version,
    a laptop's disk encryption in Fleet); returns the undo."""
    undo: list[Callable[[], None]] = []
    s3 = boto3.client("s3", endpoint_url=cloud.moto_url, region_name="us-east-1")
    bucket = sorted(b["Name"] for b in s3.list_buckets()["Buckets"])[0]
    before = s3.get_bucket_versioning(Bucket=bucket).get("Status")
    s3.put_bucket_versioning(
        Bucket=bucket, VersioningConfiguration={"Status": "Suspended" if before == "Enabled" else "Enabled"}
    )
    if before is not None:
        undo.append(lambda: s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": before}))

    assert fake_gcp._demo is not None
    gcs = next(a for a in fake_gcp._demo.assets if a["name"].endswith("/shop-prod-invoices"))
    gcs_data = gcs["resource"]["data"]
    gcs["resource"]["data"] = {**gcs_data, "versioning": {"enabled": True}}
    undo.append(lambda: gcs["resource"].__setitem__("data", gcs_data))

    tenant = cloud._azure.tenant
    accounts = next(
        v
        for v in tenant.arm.values()
        if isinstance(v, list) and any(i.get("name") == "contosopublic" for i in v if isinstance(i, dict))
    )
    account = next(i for i in accounts if i.get("name") == "contosopublic")
    props = account["properties"]
    account["properties"] = {**props, "minimumTlsVersion": "TLS1_2"}
    undo.append(lambda: account.__setitem__("properties", props))

    assert fake_devices._demo is not None
    host = next(h for h in fake_devices._demo.hosts if h["hostname"] == "alice-mbp")
    host["disk_encryption_enabled"] = False
    undo.append(lambda: host.__setitem__("disk_encryption_enabled", True))

    workspace = cloud._workspace.domain
    bob = next(u for u in workspace.users if u["primaryEmail"].startswith("bob@"))
    bob["isEnrolledIn2Sv"] = True
    undo.append(lambda: bob.__setitem__("isEnrolledIn2Sv", False))
    return lambda: [u() for u in reversed(undo)] and None

"""Retention pruning on SQLite and PostgreSQL: only through the audited path, and the rest still verifies."""

from __future__ import annotations

import json
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from typer.testing import CliRunner

from agent.cli.main import app
from agent.evidence.bundle_verify import verify_bundle
from agent.evidence.chain import verify_records
from agent.evidence.checkpoints import Signer
from agent.evidence.export import export_bundle
from agent.evidence.retention import prune
from agent.evidence.store_records import load_store_records
from agent.mappings import load_mappings
from agent.store import Store
from tests.integration.evidence.helpers import STEP, T0, bucket, cycle, seed

DAY = timedelta(days=1)


def history(store: Store) -> None:
    """The seeded first hour, then a cycle a day later where b1 changes and b2 appears."""
    seed(store)
    later = T0 + 40 * DAY
    for i in range(3):
        cycle(store, later + i * STEP, [bucket("b0"), bucket("b1", encrypted=i != 1), bucket("b2")])


def count(store: Store, table: str) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(sa.text(f"SELECT COUNT(*) FROM {table}")).scalar() or 0)


def test_prune_then_verify(store: Store, tmp_path: Path) -> None:
    history(store)
    now = T0 + 40 * DAY + timedelta(hours=1)
    dry = prune(store, now, 30, dry_run=True)
    assert dry.pruned_through > 0 and dry.snapshots == 6 and count(store, "snapshots") == 9
    blobs_before = count(store, "blobs")
    signer = Signer(
        Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    res = prune(store, now, 30, signer=signer)
    assert (res.snapshots, res.runs, res.drift_events) == (6, 6, 1)
    assert count(store, "snapshots") == 3 and count(store, "runs") == 3
    assert count(store, "blobs") <= blobs_before  # manifests the kept deltas build on stay
    assert count(store, "manual_evidence") == 1 and count(store, "exceptions") == 1  # kept, re-vouched
    report = verify_records(load_store_records(store), public_keys=[signer.public])
    assert report.ok, report.issues
    assert report.pruned_through == res.pruned_through and report.signatures_checked == 1
    # nothing more to prune at the same moment
    assert prune(store, now, 30).pruned_through == 0
    out = tmp_path / "b.zip"
    export_bundle(store, load_mappings(), framework="soc2", start=T0, end=now, out=out)
    assert verify_bundle(out).ok
    # the findings open before the kept history are unknown: nothing automated is claimed as passing
    with zipfile.ZipFile(out) as zf:
        assert json.loads(zf.read("chain/segment.json"))["baseline_pruned"] is True
        summary = json.loads(zf.read("summary/requirements.json"))
    automated = [r["automated"] for r in summary["requirements"] if r["automated"]]
    assert automated and not any(a["status"] == "passing" for a in automated)
    # a kept row is still covered by the chain after pruning
    with store.engine.begin() as conn:
        if store.dialect == "sqlite":
            conn.execute(sa.text("DROP TRIGGER manual_evidence_no_update"))
        else:
            conn.execute(sa.text("ALTER TABLE manual_evidence DISABLE TRIGGER USER"))
        conn.execute(sa.text("UPDATE manual_evidence SET owner = 'mallory'"))
    found = [str(i) for i in verify_records(load_store_records(store)).issues]
    assert any("manual_evidence id 1" in p for p in found), found


def test_prune_keeps_cycles_whole_and_everything_recent(store: Store) -> None:
    history(store)
    assert prune(store, T0 + 10 * DAY, 30).pruned_through == 0
    assert count(store, "evidence_log") > 0 and count(store, "snapshots") == 9


@pytest.mark.parametrize(
    "sql",
    [
        "DELETE FROM evidence_log WHERE seq = 1",
        "DELETE FROM finding_events",
        "DELETE FROM snapshots WHERE id = 1",
        "DELETE FROM blobs",
    ],
)
def test_delete_outside_the_pruning_path_is_refused(store: Store, sql: str) -> None:
    history(store)
    with pytest.raises(sa.exc.DBAPIError, match="append-only"), store.engine.begin() as conn:
        conn.execute(sa.text(sql))
    # and the pruning path leaves the guard closed behind it
    prune(store, T0 + 41 * DAY, 30)
    with pytest.raises(sa.exc.DBAPIError, match="append-only"), store.engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM evidence_log"))


def test_prune_command(store: Store) -> None:
    history(store)
    runner = CliRunner()
    dry = runner.invoke(app, ["evidence", "prune", "--dry-run", "--retention-days", "30", "--db", store.url])
    assert dry.exit_code == 0, dry.output
    assert "would delete" in dry.output or "nothing older" in dry.output
    assert count(store, "snapshots") == 9

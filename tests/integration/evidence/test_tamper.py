"""An attacker with database access edits evidence rows with SQL: every change is detected and named.

Triggers are disabled the way such an attacker would: dropped on SQLite, ALTER TABLE ... DISABLE
TRIGGER on PostgreSQL (the test user is a superuser)."""

from __future__ import annotations

import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from agent.evidence.bundle_verify import verify_bundle
from agent.evidence.chain import entry_hash_of, verify_records
from agent.evidence.checkpoints import Signer, checkpoint_now
from agent.evidence.export import export_bundle
from agent.evidence.store_records import load_store_records
from agent.mappings import load_mappings
from agent.models import sha256_hex
from agent.store import Store
from tests.integration.evidence.helpers import T0, seed
from tests.integration.evidence.tamper_lab import tamper as attack


def problems(store: Store) -> list[str]:
    return [str(i) for i in verify_records(load_store_records(store)).issues]


def test_untouched_store_verifies(store: Store) -> None:
    seed(store)
    assert problems(store) == []


@pytest.mark.parametrize(
    ("sql", "named"),
    [
        ("UPDATE runs SET status = 'failed' WHERE id = (SELECT MIN(id) FROM runs)", "runs id"),
        ("UPDATE snapshots SET resource_count = 3 WHERE id = 2", "snapshots id 2"),
        (
            "UPDATE finding_events SET status = 'pass', message = 'encrypted' WHERE snapshot_id = 2 AND status = 'fail'",
            "finding_events of snapshot 2",
        ),
        ("UPDATE evidence_log SET ref = 'snapshot:9' WHERE seq = 3", "evidence_log seq 3"),
        (
            'UPDATE evidence_log SET content = REPLACE(content, \'"run":"\', \'"run":"0\') WHERE seq = 3',
            "evidence_log seq 3",
        ),
        (
            "UPDATE evidence_log SET content = REPLACE(content, '111122223333', '999922223333') WHERE seq = 7",
            "evidence_log seq 7",
        ),
        ("UPDATE evidence_log SET content = '[1]' WHERE seq = 3", "evidence_log seq 3"),
        ('UPDATE evidence_log SET content = \'{"run":"x","snapshots":[["a"]]}\' WHERE seq = 3', "evidence_log seq 3"),
        ("UPDATE manual_evidence SET owner = 'mallory'", "manual_evidence id 1"),
        ("UPDATE exceptions SET expires_at = expires_at + INTERVAL '1 year'", "exceptions id 1"),
        ("UPDATE drift_events SET resource_id = 'arn:aws:s3:::other'", "drift_events id 1"),
        (
            "UPDATE blobs SET size = size + 1 WHERE kind = 'resource' AND hash = (SELECT hash FROM blobs "
            "WHERE kind = 'resource' ORDER BY hash LIMIT 1)",
            "blobs ",
        ),
    ],
)
def test_changed_attribute_is_named(store: Store, sql: str, named: str) -> None:
    seed(store)
    if store.dialect == "sqlite":
        sql = sql.replace("expires_at + INTERVAL '1 year'", "datetime(expires_at, '+1 year')")
    attack(store, sql)
    found = problems(store)
    assert any(named in p for p in found), found


@pytest.mark.parametrize(
    ("sql", "named"),
    [
        ("DELETE FROM evidence_log WHERE seq = 4", "evidence_log seq 4"),
        ("DELETE FROM finding_events WHERE snapshot_id = 2", "finding_events"),
        ("DELETE FROM manual_evidence", "manual_evidence row 1 is missing"),
        ("DELETE FROM drift_events", "drift_events of snapshot 2"),
    ],
)
def test_deleted_row_is_named(store: Store, sql: str, named: str) -> None:
    seed(store)
    attack(store, sql)
    found = problems(store)
    assert any(named in p for p in found), found


def test_swapped_rows_are_named(store: Store) -> None:
    seed(store)
    attack(
        store,
        "UPDATE evidence_log SET seq = -1 WHERE seq = 3",
        "UPDATE evidence_log SET seq = 3 WHERE seq = 4",
        "UPDATE evidence_log SET seq = 4 WHERE seq = -1",
    )
    found = problems(store)
    assert any("evidence_log seq 3" in p and "prev_hash" in p for p in found), found


def test_swapped_finding_events_are_named(store: Store) -> None:
    seed(store)
    with store.engine.connect() as conn:
        (a, ua, ra), (b, ub, rb) = conn.execute(
            sa.text("SELECT id, uid, resource_id FROM finding_events WHERE snapshot_id = 1 ORDER BY id")
        ).all()
    attack(
        store,
        f"UPDATE finding_events SET uid = '{ub}', resource_id = '{rb}' WHERE id = {a}",
        f"UPDATE finding_events SET uid = '{ua}', resource_id = '{ra}' WHERE id = {b}",
    )
    found = problems(store)
    assert any("finding_events of snapshot 1" in p for p in found), found


def test_truncated_tail_is_named(store: Store) -> None:
    seed(store)
    checkpoint_now(store, T0)
    attack(store, "DELETE FROM evidence_log WHERE seq > 6")
    found = problems(store)
    assert any("tail of the chain removed" in p for p in found), found
    assert any("manual_evidence id 1" in p and "not in the evidence chain" in p for p in found), found


def test_rewritten_chain_fails_signed_checkpoints(store: Store) -> None:
    """An attacker who recomputes every hash after an edit still cannot forge the signature."""
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    signer = Signer(pem)
    seed(store)
    checkpoint_now(store, T0, signer)
    rec = load_store_records(store)
    stmts: list[str | tuple[str, dict[str, object]]] = []
    prev = rec.entries[0]["prev_hash"]
    for e in rec.entries:  # rewrite: change the drift entry (seq 7), then recompute every hash after it
        if e["seq"] < 7:
            prev = e["entry_hash"]
            continue
        content = e["content"].replace("arn:aws:s3:::b1", "arn:aws:s3:::b2") if e["seq"] == 7 else e["content"]
        assert e["seq"] != 7 or content != e["content"]
        e = {**e, "content": content, "content_hash": sha256_hex(content.encode()), "prev_hash": prev}
        e["entry_hash"] = entry_hash_of(e)
        prev = e["entry_hash"]
        stmts.append(
            (
                "UPDATE evidence_log SET content = :c, content_hash = :content_hash, prev_hash = :prev_hash, "
                "entry_hash = :entry_hash WHERE seq = :s",
                {
                    "c": content,
                    "content_hash": e["content_hash"],
                    "prev_hash": e["prev_hash"],
                    "entry_hash": e["entry_hash"],
                    "s": e["seq"],
                },
            )
        )
    attack(store, *stmts)
    found = [str(i) for i in verify_records(load_store_records(store), public_keys=[signer.public]).issues]
    assert any("evidence_checkpoints seq 1" in p and "chain rewritten" in p for p in found), found
    assert not any("evidence_log seq" in p for p in found), found  # the rewritten chain itself is consistent


def test_export_verify_round_trip_and_edited_file(store: Store, tmp_path: Path) -> None:
    seed(store)
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    signer = Signer(pem)
    checkpoint_now(store, T0, signer)
    out = tmp_path / "bundle.zip"
    export_bundle(
        store,
        load_mappings(),
        framework="soc2",
        start=T0,
        end=datetime(2026, 12, 31, tzinfo=UTC),
        out=out,
        signer=signer,
    )
    report = verify_bundle(out, public_key=signer.public)
    assert report.ok, report.issues
    assert report.entries == 9 and report.signatures_checked == 1
    with zipfile.ZipFile(out) as zf:
        assert {
            "manifest.json",
            "report.html",
            "oscal/assessment-results.json",
            "summary/requirements.csv",
            "summary/requirements.json",
            "chain/entries.jsonl",
            "records/snapshots.jsonl",
            "manual/1-access.pdf",
            "logs/drift.csv",
            "logs/exceptions.csv",
        } <= set(zf.namelist())
        items = {n: zf.read(n) for n in zf.namelist()}
    # an auditor edits nothing; an attacker edits one finding event inside the bundle
    items["records/finding_events.jsonl"] = items["records/finding_events.jsonl"].replace(
        b'"status":"fail"', b'"status":"pass"', 1
    )
    tampered = tmp_path / "tampered.zip"
    with zipfile.ZipFile(tampered, "w") as zf:
        for n, data in items.items():
            zf.writestr(n, data)
    found = [str(i) for i in verify_bundle(tampered).issues]
    assert any("file records/finding_events.jsonl" in p and "altered" in p for p in found), found
    assert any("finding_events" in p and "snapshot" in p for p in found), found
    # a key the bundle was not signed with is refused
    other = Ed25519PrivateKey.generate().public_key()
    assert not verify_bundle(out, public_key=other).ok

"""External witnesses of checkpoints, with real parts: OpenSSL's TSA on loopback (`openssl ts -reply`)
and an S3 bucket with Object Lock in moto (server mode), on SQLite and PostgreSQL.

What an operator holding the database, the signing key and the clock tries, and what names it:
history fabricated afterwards with the clock set back, the tail truncated with its witness rows, a
token moved to another checkpoint, a token from a TSA of their own, a copy in the bucket without a
lock or with other content, a bundle without witnesses, an altered manifest token. Both verifiers
(`posture-agent evidence verify` and the standalone `python -m posture_verify`) give the same verdict.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import subprocess
import sys
import zipfile
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from posture_demo.tsa import LocalTsa
from posture_verify.bundle import verify_bundle
from posture_verify.chain import verify_records
from posture_verify.checkpoints import manifest_body
from posture_verify.trust import Trust

from agent.config import AnchorsConfig
from agent.evidence.anchoring import Anchorer
from agent.evidence.checkpoints import Signer, checkpoint_now
from agent.evidence.export import export_bundle
from agent.evidence.store_records import load_store_records
from agent.mappings import load_mappings
from agent.models import utcnow
from agent.store import Store
from tests.integration.evidence.helpers import T0, seed
from tests.integration.evidence.tamper_lab import new_signer as signer
from tests.integration.evidence.tamper_lab import tamper as attack
from tests.integration.evidence.tsa import AnchorBucket, anchored, both_clis

AGENT_CLI = Path(sys.executable).parent / "posture-agent"


# -- helpers ----------------------------------------------------------------------------------------------


def trust(cert: Path | None = None, bucket: AnchorBucket | None = None) -> Trust:
    return Trust(
        tsa_certs=(cert.read_bytes(),) if cert else (),
        anchor_bucket=bucket.url if bucket else None,
        s3_endpoint=bucket.endpoint if bucket else None,
    )


def store_problems(store: Store, t: Trust) -> list[str]:
    return [str(i) for i in verify_records(load_store_records(store), trust=t).issues]


def export(store: Store, out: Path, anchors: AnchorsConfig | None = None, key: Signer | None = None) -> Path:
    export_bundle(
        store,
        load_mappings(),
        framework="soc2",
        start=T0 - timedelta(days=400),
        end=utcnow() + timedelta(hours=1),
        out=out,
        signer=key,
        anchors=anchors,
    )
    return out


def cli_args(cert: Path | None, bucket: AnchorBucket | None) -> list[str]:
    args: list[str] = []
    if cert is not None:
        args += ["--tsa-cert", str(cert)]
    if bucket is not None:
        args += ["--anchor-bucket", bucket.url, "--s3-endpoint", bucket.endpoint]
    return args


def store_cli(store: Store, args: Sequence[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(AGENT_CLI), "evidence", "verify", "--db", store.url, *args],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def rewrite(src: Path, dst: Path, replace: dict[str, bytes | None]) -> Path:
    """A copy of a bundle with members replaced (None: removed)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for name in zin.namelist():
            data = replace.get(name, zin.read(name)) if name in replace else zin.read(name)
            if data is not None:
                zout.writestr(name, data)
    return dst


# -- a clean store and bundle -------------------------------------------------------------------------------


def test_clean_store_and_bundle_verify_with_both_witnesses(
    store: Store, tsa: LocalTsa, tsa_cert: Path, anchor_bucket: AnchorBucket, tmp_path: Path
) -> None:
    anchors = anchor_bucket.anchors_config([tsa.url])
    rows = anchored(store, anchors)
    t = trust(tsa_cert, anchor_bucket)
    report = verify_records(load_store_records(store), trust=t)
    assert report.ok, report.issues
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for w in report.witnesses:
        by_kind.setdefault(w["kind"], []).append(w)
    assert [w["checkpoint_seq"] for w in by_kind["rfc3161"]] == [r["seq"] for r in rows]
    assert [w["checkpoint_seq"] for w in by_kind["s3"]] == [r["seq"] for r in rows]
    assert all(w["verdict"] == "valid" and w["time"] for w in report.witnesses), report.witnesses
    assert any("RFC 3161 tokens from CN=posture-agent test TSA" in n and "(pinned)" in n for n in report.notes)
    assert anchor_bucket.object_keys() == [f"posture/{rows[0]['store']}/checkpoints/{r['seq']:012d}.json" for r in rows]
    # the store through the agent's CLI
    done = store_cli(store, cli_args(tsa_cert, anchor_bucket))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "NOTE witnesses: 3 RFC 3161 tokens" in done.stderr and "3 checkpoint copies" in done.stderr
    # the bundle: its checkpoints' witnesses, the manifest's token and its copy in the bucket
    out = export(store, tmp_path / "bundle.zip", anchors)
    with zipfile.ZipFile(out) as zf:
        names = set(zf.namelist())
        manifest = json.loads(zf.read("manifest.json"))
    assert {"chain/witnesses.jsonl", "manifest.tsr"} <= names
    assert manifest["witnesses"] == {"rfc3161": True, "s3": anchor_bucket.url}
    digest = hashlib.sha256(manifest_body(manifest)).hexdigest()
    assert f"posture/{rows[0]['store']}/bundles/{digest}.json" in anchor_bucket.object_keys()
    breport = verify_bundle(out, trust=t)
    assert breport.ok, breport.issues
    assert {w["witness"] for w in breport.witnesses if w["checkpoint_seq"] is None} >= {"manifest.tsr"}
    code, problems, notes = both_clis(out, cli_args(tsa_cert, anchor_bucket), tmp_path)
    assert code == 0 and problems == []
    assert "the manifest was timestamped at" in notes


def test_without_pins_tokens_are_checked_and_said_unpinned(store: Store, tsa: LocalTsa) -> None:
    anchored(store, AnchorsConfig.model_validate({"tsa": [{"url": tsa.url}]}), checkpoints=1)
    report = verify_records(load_store_records(store), trust=Trust())
    assert report.ok, report.issues
    assert any("the TSA was not pinned" in n for n in report.notes), report.notes


# -- the operator's attempts ---------------------------------------------------------------------------------


def test_history_fabricated_afterwards_with_the_clock_set_back(
    store: Store, tsa: LocalTsa, tsa_cert: Path, anchor_bucket: AnchorBucket, tmp_path: Path
) -> None:
    """A month of history written today with the key and the clock set back 30 days: the witnesses'
    clocks say today, and the checkpoint and both times are named."""
    anchors = anchor_bucket.anchors_config([tsa.url])
    past = utcnow() - timedelta(days=30)
    rows = anchored(store, anchors, checkpoints=1, at=past, key=signer())
    found = store_problems(store, trust(tsa_cert, anchor_bucket))
    token = [p for p in found if p.startswith("evidence_checkpoints seq 1: RFC 3161 token of ")]
    assert (
        token
        and "after its own time " + rows[0]["at"].isoformat().replace("+00:00", "Z") in token[0]
        and "backdated" in token[0]
        and ("29 days" in token[0] or "30 days" in token[0])
    ), found
    copy = [p for p in found if p.startswith("evidence_checkpoints seq 1: its copy s3://") and "backdated" in p]
    assert copy, found
    assert any("has no valid witness" in p for p in found), found
    out = export(store, tmp_path / "fabricated.zip")
    code, problems, _ = both_clis(out, cli_args(tsa_cert, anchor_bucket), tmp_path)
    assert code == 1 and any(
        "backdated" in p and p.startswith("evidence_checkpoints seq 1: RFC 3161") for p in problems
    )


def test_truncated_tail_is_named_by_the_bucket(
    store: Store, tsa: LocalTsa, tsa_cert: Path, anchor_bucket: AnchorBucket, tmp_path: Path
) -> None:
    anchors = anchor_bucket.anchors_config([tsa.url])
    rows = anchored(store, anchors, checkpoints=3)
    last = rows[-1]
    attack(
        store,
        f"DELETE FROM evidence_anchors WHERE checkpoint_seq = {last['seq']}",
        f"DELETE FROM evidence_checkpoints WHERE seq = {last['seq']}",
        f"DELETE FROM evidence_log WHERE seq > {rows[-2]['head_seq']}",
    )
    named = f"evidence_checkpoints seq {last['seq']}: is in the anchor bucket"
    found = store_problems(store, trust(tsa_cert, anchor_bucket))
    assert any(p.startswith(named) and f"truncated after checkpoint {last['seq'] - 1}" in p for p in found), found
    # without the bucket the witness rows went with the checkpoint: nothing left to say it existed
    assert not any(p.startswith(named) for p in store_problems(store, trust(tsa_cert)))
    out = export(store, tmp_path / "truncated.zip")
    code, problems, _ = both_clis(out, cli_args(tsa_cert, anchor_bucket), tmp_path)
    assert code == 1 and any(p.startswith(named) and "not in the" in p for p in problems), problems


def test_token_swapped_between_checkpoints(store: Store, tsa: LocalTsa, tsa_cert: Path) -> None:
    rows = anchored(store, AnchorsConfig.model_validate({"tsa": [{"url": tsa.url}]}), checkpoints=2)
    with store.engine.connect() as conn:
        tokens = dict(
            conn.execute(sa.text("SELECT checkpoint_seq, data FROM evidence_anchors WHERE kind = 'rfc3161'")).all()
        )
    one, two = (r["seq"] for r in rows)
    attack(
        store,
        (
            "UPDATE evidence_anchors SET data = :d WHERE kind = 'rfc3161' AND checkpoint_seq = :s",
            {"d": tokens[two], "s": one},
        ),
        (
            "UPDATE evidence_anchors SET data = :d WHERE kind = 'rfc3161' AND checkpoint_seq = :s",
            {"d": tokens[one], "s": two},
        ),
    )
    found = store_problems(store, trust(tsa_cert))
    for seq in (one, two):
        assert any(
            p.startswith(
                f"evidence_checkpoints seq {seq}: RFC 3161 token of {tsa.url}: its message imprint is not the SHA-256"
            )
            and "swapped" in p
            for p in found
        ), found
        assert any(p.startswith(f"evidence_checkpoints seq {seq}: has no valid witness") for p in found), found


def test_token_from_a_tsa_the_auditor_did_not_pin(store: Store, rogue_tsa: LocalTsa, tsa_cert: Path) -> None:
    anchored(store, AnchorsConfig.model_validate({"tsa": [{"url": rogue_tsa.url}]}), checkpoints=1)
    found = store_problems(store, trust(tsa_cert))
    assert any(
        p.startswith(
            "evidence_checkpoints seq 1: has no valid witness (its RFC 3161 token of "
            f"{rogue_tsa.url} is from a TSA that is not pinned (CN=operator's own TSA"
        )
        for p in found
    ), found


def test_copies_without_lock_or_with_other_content(
    store: Store, tsa: LocalTsa, tsa_cert: Path, anchor_bucket: AnchorBucket
) -> None:
    """The operator writes the copies themselves: one without Object Lock, one with another head; and
    a third, anchored properly, is written again with other content."""
    rows = anchored(store, anchor_bucket.anchors_config(), checkpoints=3)
    store_id = rows[0]["store"]
    s3 = anchor_bucket.s3
    one, two, three = (r["seq"] for r in rows)
    rec = {int(c["seq"]): c for c in load_store_records(store).checkpoints}
    from posture_verify.checkpoints import body
    from posture_verify.s3 import checkpoint_key, checkpoint_object

    # a second bucket the operator filled by hand, its first versions wrong from the start
    s3.create_bucket(Bucket=anchor_bucket.bucket + "-x", ObjectLockEnabledForBucket=True)
    forged = dataclasses.replace(anchor_bucket, bucket=anchor_bucket.bucket + "-x")
    s3.put_object(
        Bucket=forged.bucket,
        Key=checkpoint_key("posture", store_id, one),
        Body=checkpoint_object(body(rec[one]), rec[one]["signature"]),
    )  # no lock
    other = dict(rec[two], head_seq=int(rec[two]["head_seq"]) - 1)
    s3.put_object(
        Bucket=forged.bucket,
        Key=checkpoint_key("posture", store_id, two),
        Body=checkpoint_object(body(other), other["signature"]),
        ObjectLockMode="COMPLIANCE",
        ObjectLockRetainUntilDate=utcnow() + timedelta(days=30),
    )
    found = store_problems(store, trust(None, forged))
    assert any(
        p.startswith(f"evidence_checkpoints seq {one}: its copy s3://{forged.bucket}/")
        and "is not locked in compliance mode (Object Lock mode: none)" in p
        for p in found
    ), found
    assert any(
        p.startswith(f"evidence_checkpoints seq {two}: its copy s3://{forged.bucket}/")
        and "differs from the checkpoint (in head_seq)" in p
        for p in found
    ), found
    assert any(p.startswith(f"evidence_checkpoints seq {three}: has no valid witness") for p in found), found
    # in the real bucket: a new version of checkpoint 3's copy (PutObject is all the writer may do)
    s3.put_object(
        Bucket=anchor_bucket.bucket,
        Key=checkpoint_key("posture", store_id, three),
        Body=b"{}",
        ObjectLockMode="COMPLIANCE",
        ObjectLockRetainUntilDate=utcnow() + timedelta(days=30),
    )
    found = store_problems(store, trust(None, anchor_bucket))
    assert [p for p in found if "written again" in p and p.startswith(f"evidence_checkpoints seq {three}:")], found


def test_bundle_without_witnesses_fails_when_a_tsa_is_pinned(store: Store, tsa_cert: Path, tmp_path: Path) -> None:
    seed(store)
    checkpoint_now(store, utcnow())
    out = export(store, tmp_path / "bare.zip")
    code, problems, _ = both_clis(out, cli_args(tsa_cert, None), tmp_path)
    assert code == 1
    assert any("carries no witnesses at all" in p and "--tsa-cert" in p for p in problems), problems
    assert verify_bundle(out).ok  # without a pinned TSA nothing requires them


def test_altered_or_removed_manifest_token(store: Store, tsa: LocalTsa, tsa_cert: Path, tmp_path: Path) -> None:
    anchors = AnchorsConfig.model_validate({"tsa": [{"url": tsa.url}]})
    anchored(store, anchors, checkpoints=1)
    out = export(store, tmp_path / "bundle.zip", anchors)
    assert verify_bundle(out, trust=trust(tsa_cert)).ok
    with zipfile.ZipFile(out) as zf:
        tsr = zf.read("manifest.tsr")
        witnesses = [json.loads(line) for line in zf.read("chain/witnesses.jsonl").splitlines()]
    flipped = rewrite(out, tmp_path / "flipped.zip", {"manifest.tsr": tsr[:-1] + bytes([tsr[-1] ^ 0x01])})
    found = [str(i) for i in verify_bundle(flipped, trust=trust(tsa_cert)).issues]
    assert any(p.startswith("file manifest.tsr: its signature does not verify") for p in found), found
    import base64

    token = base64.b64decode(next(w["data"] for w in witnesses if w["kind"] == "rfc3161"))
    swapped = rewrite(out, tmp_path / "swapped.zip", {"manifest.tsr": token})
    found = [str(i) for i in verify_bundle(swapped, trust=trust(tsa_cert)).issues]
    assert any(
        p.startswith("file manifest.tsr: its message imprint is not the SHA-256 of the manifest") for p in found
    ), found
    removed = rewrite(out, tmp_path / "removed.zip", {"manifest.tsr": None})
    code, problems, _ = both_clis(removed, cli_args(tsa_cert, None), tmp_path)
    assert (
        code == 1 and "file manifest.tsr: missing, although the manifest says it was timestamped (removed)" in problems
    ), problems


# -- the writer ----------------------------------------------------------------------------------------------


def test_a_tsa_outage_is_retried_on_the_next_tick(store: Store, tsa: LocalTsa) -> None:
    seed(store)
    checkpoint_now(store, utcnow())
    anchorer = Anchorer(store, AnchorsConfig.model_validate({"tsa": [{"url": tsa.url}]}))
    try:
        tsa.down = True
        try:
            assert anchorer.run().failed == 1
        finally:
            tsa.down = False
        assert load_store_records(store).witnesses == []
        assert anchorer.run().anchored == 1
        assert anchorer.run().anchored == 0  # done once
    finally:
        anchorer.close()
    kinds = sorted(w["kind"] for w in load_store_records(store).witnesses)
    assert kinds == ["rfc3161", "rfc3161-certs"]  # the chain once, the token without certificates


def test_witness_rows_are_append_only(store: Store, tsa: LocalTsa) -> None:
    anchored(store, AnchorsConfig.model_validate({"tsa": [{"url": tsa.url}]}), checkpoints=1)
    for sql in ("UPDATE evidence_anchors SET witness = 'x'", "DELETE FROM evidence_anchors"):
        with pytest.raises(sa.exc.DBAPIError, match="append-only"), store.engine.begin() as conn:
            conn.execute(sa.text(sql))


def test_tokens_checked_in_a_worker_process_get_the_in_process_outcomes(
    store: Store, tsa: LocalTsa, tsa_cert: Path
) -> None:
    """A year's tokens are checked in a second process while the chain is checked: the outcomes, a
    swapped token's problem included, are the ones an in-process check gives."""
    from posture_verify.token_jobs import TokenChecks

    anchored(store, AnchorsConfig.model_validate({"tsa": [{"url": tsa.url}]}), checkpoints=3)
    with store.engine.connect() as conn:
        first = conn.execute(
            sa.text("SELECT data FROM evidence_anchors WHERE kind = 'rfc3161' ORDER BY checkpoint_seq LIMIT 1")
        ).scalar_one()
    attack(store, ("UPDATE evidence_anchors SET data = :d WHERE kind = 'rfc3161' AND checkpoint_seq = 2", {"d": first}))
    rec = load_store_records(store)
    pinned = trust(tsa_cert).tsa_certs
    here = TokenChecks(rec, pinned).results()
    worker = TokenChecks(rec, pinned, parallel_from=1).start().results()
    assert worker == here and len(here) == 3
    assert [c.problem is not None for c in here.values()].count(True) == 1
    assert all(c.trusted for c in here.values() if c.problem is None)

"""Documents attached before the period (issue #13, requested by the report work): the bundle holds
each document in force, the chain entry vouching for it (chain/vouchers.jsonl: its manual_evidence
entry, or the last prune entry keeping it) and the stubs of the entries between that entry and the
segment (chain/stubs.jsonl: hashes, no content), so the verifier links the voucher to the segment by
hashes and checks document -> row -> voucher. Every link broken is named, by the agent and the
standalone verifier alike."""

from __future__ import annotations

import hashlib
import json
import zipfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from posture_verify.chain import entry_hash_of

from agent.evidence.checkpoints import checkpoint_now
from agent.evidence.export import export_bundle
from agent.evidence.retention import prune
from agent.mappings import load_mappings
from agent.models import canonical_json, sha256_hex, utcnow
from agent.store import Store
from agent.store.manual import Prepared, store_prepared
from tests.integration.evidence.helpers import STEP, T0, bucket, cycle
from tests.integration.evidence.test_checkpoints_v2 import HOUR, History, bundle_verdict, named, new_signer
from tests.integration.evidence.test_manifest_signature import rewrite
from tests.integration.evidence.test_report_documents import PERIOD, document_history


def jsonl(data: bytes) -> list[dict[str, Any]]:
    return [json.loads(x) for x in data.splitlines() if x.strip()]


def lines(rows: list[dict[str, Any]]) -> bytes:
    return b"".join(canonical_json(r) + b"\n" for r in rows)


@pytest.fixture
def exported(store: Store, tmp_path: Path) -> tuple[dict[str, int], Path, dict[str, bytes]]:
    ids = document_history(store)
    out = tmp_path / "b.zip"
    export_bundle(store, load_mappings(), framework="soc2", start=PERIOD[0], end=PERIOD[1], out=out)
    with zipfile.ZipFile(out) as zf:
        items = {n: zf.read(n) for n in zf.namelist()}
    return ids, out, items


def test_vouchers_and_stubs_link_documents_to_the_segment(
    exported: tuple[dict[str, int], Path, dict[str, bytes]],
) -> None:
    ids, out, items = exported
    vouchers = jsonl(items["chain/vouchers.jsonl"])
    stubs = jsonl(items["chain/stubs.jsonl"])
    segment = json.loads(items["chain/segment.json"])
    first = min(int(v["entry"]["seq"]) for v in vouchers)
    # every entry from the first voucher to the one before the segment, without content
    assert [s["seq"] for s in stubs] == list(range(first, segment["first_seq"]))
    assert all(set(s) == {"seq", "at", "kind", "ref", "content_hash", "prev_hash", "entry_hash"} for s in stubs)
    assert stubs[-1]["entry_hash"] == segment["anchor_prev"]
    assert {v["manual_evidence_id"] for v in vouchers} == {ids["conduct-2025.pdf"], ids["roles.pdf"], ids["nda-v2.pdf"]}
    assert bundle_verdict(out).ok


def _tampered(out: Path, name: str, **replace: bytes) -> Path:
    dst = out.parent / f"{name}.zip"
    rewrite(out, dst, dict(replace))  # the manifest rewritten too: only the vouchers can tell
    return dst


def test_document_swapped(exported: tuple[dict[str, int], Path, dict[str, bytes]]) -> None:
    ids, out, items = exported
    name = next(n for n in items if n.endswith("-roles.pdf"))
    v = bundle_verdict(_tampered(out, "doc", **{name: b"%PDF other roles"}))
    assert v.problems == [
        f"manual_evidence id {ids['roles.pdf']}: the stored document does not match its SHA-256 (document altered)"
    ], v


def test_document_and_its_row_changed_together(exported: tuple[dict[str, int], Path, dict[str, bytes]]) -> None:
    ids, out, items = exported
    name = next(n for n in items if n.endswith("-roles.pdf"))
    doc = b"%PDF other roles"
    rows = jsonl(items["records/manual_evidence.jsonl"])
    for r in rows:
        if r["id"] == ids["roles.pdf"]:
            r["sha256"], r["size"], r["owner"] = hashlib.sha256(doc).hexdigest(), len(doc), "mallory"
    v = bundle_verdict(_tampered(out, "row", **{name: doc, "records/manual_evidence.jsonl": lines(rows)}))
    assert named(v, f"manual_evidence id {ids['roles.pdf']}: sha256 is", "but the chain entry says"), v
    assert named(v, f"manual_evidence id {ids['roles.pdf']}: owner is 'mallory' but the chain entry says 'erin'"), v


def test_voucher_rewritten_with_its_hashes(exported: tuple[dict[str, int], Path, dict[str, bytes]]) -> None:
    """The voucher's content and hashes recomputed to match a changed row: its entry no longer links."""
    ids, out, items = exported
    vouchers = jsonl(items["chain/vouchers.jsonl"])
    for v in vouchers:
        if v["manual_evidence_id"] == ids["roles.pdf"]:
            e = v["entry"]
            content = json.loads(e["content"])
            content["owner"] = "mallory"
            e["content"] = canonical_json(content).decode()
            e["content_hash"] = sha256_hex(e["content"].encode())
            e["entry_hash"] = entry_hash_of(e)
            seq = e["seq"]
    rows = jsonl(items["records/manual_evidence.jsonl"])
    for r in rows:
        if r["id"] == ids["roles.pdf"]:
            r["owner"] = "mallory"
    v = bundle_verdict(
        _tampered(
            out, "voucher", **{"chain/vouchers.jsonl": lines(vouchers), "records/manual_evidence.jsonl": lines(rows)}
        )
    )
    assert _records_problems(v) == [
        f"chain/vouchers.jsonl manual_evidence id {ids['roles.pdf']}: its entry seq {seq} is not "
        "linked to the segment by chain/stubs.jsonl (voucher or stubs altered)",
        f"manual_evidence id {ids['roles.pdf']}: no chain entry in the bundle vouches for it (row "
        "inserted, or its voucher removed)",
    ], v


def test_voucher_edited_without_its_hashes(exported: tuple[dict[str, int], Path, dict[str, bytes]]) -> None:
    ids, out, items = exported
    vouchers = jsonl(items["chain/vouchers.jsonl"])
    vouchers[0]["entry"]["content"] = vouchers[0]["entry"]["content"].replace('"owner":"', '"owner":"x')
    v = bundle_verdict(_tampered(out, "voucher2", **{"chain/vouchers.jsonl": lines(vouchers)}))
    assert named(
        v,
        f"chain/vouchers.jsonl manual_evidence id {vouchers[0]['manual_evidence_id']}: its entry seq",
        "does not match its hashes (voucher altered)",
    ), v


def test_stubs_altered_or_removed(exported: tuple[dict[str, int], Path, dict[str, bytes]]) -> None:
    ids, out, items = exported
    stubs = jsonl(items["chain/stubs.jsonl"])
    altered = [dict(s) for s in stubs]
    altered[1]["content_hash"] = "0" * 64
    v = bundle_verdict(_tampered(out, "stub-altered", **{"chain/stubs.jsonl": lines(altered)}))
    assert named(v, f"chain/stubs.jsonl seq {stubs[1]['seq']}: entry_hash does not match"), v
    assert named(v, "is not linked to the segment by chain/stubs.jsonl"), v
    v = bundle_verdict(_tampered(out, "stub-removed", **{"chain/stubs.jsonl": lines(stubs[:1] + stubs[2:])}))
    assert named(v, f"chain/stubs.jsonl seq {stubs[0]['seq']}", "linked neither to the segment nor to a checkpoint"), v


def _records_problems(v: Any) -> list[str]:
    """The problems other than the summaries, which a changed document row changes too."""
    assert any(p.endswith("(summary altered)") for p in v.problems), v
    return [p for p in v.problems if not p.endswith("(summary altered)")]


def test_voucher_removed_or_row_inserted(exported: tuple[dict[str, int], Path, dict[str, bytes]]) -> None:
    ids, out, items = exported
    vouchers = [v for v in jsonl(items["chain/vouchers.jsonl"]) if v["manual_evidence_id"] != ids["nda-v2.pdf"]]
    v = bundle_verdict(_tampered(out, "no-voucher", **{"chain/vouchers.jsonl": lines(vouchers)}))
    assert v.problems == [
        f"manual_evidence id {ids['nda-v2.pdf']}: no chain entry in the bundle vouches for it (row "
        "inserted, or its voucher removed)"
    ], v
    rows = jsonl(items["records/manual_evidence.jsonl"])
    doc = b"%PDF backdated policy"
    rows.append(
        {
            **rows[0],
            "id": 99,
            "filename": "backdated.pdf",
            "sha256": hashlib.sha256(doc).hexdigest(),
            "size": len(doc),
            "file": "manual/99-backdated.pdf",
        }
    )
    v = bundle_verdict(
        _tampered(out, "inserted", **{"records/manual_evidence.jsonl": lines(rows), "manual/99-backdated.pdf": doc})
    )
    assert _records_problems(v) == [
        "manual_evidence id 99: no chain entry in the bundle vouches for it (row inserted, or its voucher removed)"
    ], v


def test_a_pruned_document_is_vouched_by_the_prune_entry(store: Store, tmp_path: Path) -> None:
    doc = store_prepared(
        store,
        Prepared(
            control_id="GOV-ROLES", filename="roles.pdf", owner="erin", review_every_days=3650, data=b"%PDF roles"
        ),
        now=T0,
    )
    for i in range(3):
        cycle(store, T0 + i * STEP, [bucket("b0")])
    later = T0 + timedelta(days=45)
    cycle(store, later, [bucket("b0")])
    assert prune(store, later + HOUR, 30).pruned_through > 0
    for i in range(3):
        cycle(store, later + timedelta(days=2) + i * STEP, [bucket("b0")])
    out = tmp_path / "b.zip"
    start, end = later + timedelta(days=1), later + timedelta(days=3)
    export_bundle(store, load_mappings(), framework="soc2", start=start, end=end, out=out)
    with zipfile.ZipFile(out) as zf:
        (voucher,) = jsonl(zf.read("chain/vouchers.jsonl"))
        name = next(n for n in zf.namelist() if n.endswith("-roles.pdf"))
    assert voucher["manual_evidence_id"] == doc.id and voucher["entry"]["kind"] == "prune"
    assert bundle_verdict(out).ok
    v = bundle_verdict(_tampered(out, "pruned-doc", **{name: b"%PDF other"}))
    assert named(v, f"manual_evidence id {doc.id}: the stored document does not match its SHA-256"), v


def test_a_period_without_entries_links_vouchers_to_a_checkpoint(store: Store, tmp_path: Path) -> None:
    """A quiet period: no entry, only checkpoints (silence is provable), and a document in force
    whose voucher links to the head of the checkpoint after the period."""
    signer = new_signer()
    t0 = utcnow().replace(microsecond=0) - 4 * HOUR
    checkpoint_now(store, t0, signer)
    store_prepared(
        store,
        Prepared(control_id="GOV-ROLES", filename="roles.pdf", owner="erin", review_every_days=365, data=b"%PDF roles"),
        now=t0 + timedelta(minutes=5),
    )
    cycle(store, t0 + timedelta(minutes=10), [bucket("b0")])
    for k in range(1, 5):
        checkpoint_now(store, t0 + k * HOUR, signer)
    h = History(store, signer, t0, t0 + 4 * HOUR, tmp_path)
    out = h.export(t0 + 1.5 * HOUR, t0 + 2.5 * HOUR)
    with zipfile.ZipFile(out) as zf:
        assert zf.read("chain/entries.jsonl") == b""
        assert len(jsonl(zf.read("chain/vouchers.jsonl"))) == 1 and jsonl(zf.read("chain/stubs.jsonl"))
    v = bundle_verdict(out, "--public-key", h.pem())
    assert v.ok, v

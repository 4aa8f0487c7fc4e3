"""Manual documents in a period's bundle: every document in force during the period is exported
whatever its attach date, the ones not in force are not, and the bundle still verifies."""

from __future__ import annotations

import hashlib
import json
import zipfile
from datetime import timedelta
from pathlib import Path

from agent.evidence.bundle_verify import verify_bundle
from agent.evidence.export import export_bundle
from agent.mappings import load_mappings
from agent.store import Store
from agent.store.manual import Prepared, store_prepared
from tests.integration.evidence.helpers import STEP, T0, bucket, cycle

DAY = timedelta(days=1)
PERIOD = (T0, T0 + 10 * DAY)  # the period most tests export


def attach(store: Store, control: str, filename: str, at_days: float, review_days: int, owner: str = "dana") -> int:
    return store_prepared(
        store,
        Prepared(
            control_id=control,
            filename=filename,
            owner=owner,
            review_every_days=review_days,
            data=f"%PDF {filename}".encode(),
        ),
        now=T0 + at_days * DAY,
    ).id


def document_history(store: Store) -> dict[str, int]:
    """Documents of SOC 2 CC1.1 (GOV-CODE-OF-CONDUCT + HR-AGREEMENTS) and CC1.3 (GOV-ROLES) around
    PERIOD, attached in time order (the chain is append-only), with a few cycles at its start.

    In PERIOD: conduct-2025 (whole period), nda-v2 (first 5 days, then its review lapses), nda-v3
    (last 3 days), roles (whole period). Not in force: conduct-2024 (lapsed before), nda-v1
    (replaced by nda-v2 before the period)."""
    ids = {
        "conduct-2024.pdf": attach(store, "GOV-CODE-OF-CONDUCT", "conduct-2024.pdf", -400, 365),
        "nda-v1.pdf": attach(store, "HR-AGREEMENTS", "nda-v1.pdf", -100, 365),
        "roles.pdf": attach(store, "GOV-ROLES", "roles.pdf", -60, 365, owner="erin"),
        "nda-v2.pdf": attach(store, "HR-AGREEMENTS", "nda-v2.pdf", -35, 40),
        "conduct-2025.pdf": attach(store, "GOV-CODE-OF-CONDUCT", "conduct-2025.pdf", -30, 365),
    }
    for i in range(4):
        cycle(store, T0 + i * STEP, [bucket("b0")])
    ids["nda-v3.pdf"] = attach(store, "HR-AGREEMENTS", "nda-v3.pdf", 7, 365)
    return ids


def _manual_files(out: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(out) as zf:
        return {n.split("-", 1)[1]: zf.read(n) for n in zf.namelist() if n.startswith("manual/")}


def test_documents_in_force_are_exported_whatever_their_attach_date(store: Store, tmp_path: Path) -> None:
    ids = document_history(store)
    out = tmp_path / "b.zip"
    export_bundle(store, load_mappings(), framework="soc2", start=PERIOD[0], end=PERIOD[1], out=out)
    files = _manual_files(out)
    # attached before the period and in force in it (conduct-2025, roles, nda-v2 until its review lapsed)
    assert set(files) == {"conduct-2025.pdf", "roles.pdf", "nda-v2.pdf", "nda-v3.pdf"}
    assert files["nda-v2.pdf"] == b"%PDF nda-v2.pdf"
    with zipfile.ZipFile(out) as zf:
        rows = [json.loads(x) for x in zf.read("records/manual_evidence.jsonl").splitlines()]
        vouchers = [json.loads(x) for x in zf.read("chain/vouchers.jsonl").splitlines()]
    assert {r["filename"] for r in rows} == set(files)
    # the chain entries vouching for the documents attached before the period, for a cross-check
    # with the bundle of the period they were attached in
    assert {v["manual_evidence_id"] for v in vouchers} == {ids["conduct-2025.pdf"], ids["roles.pdf"], ids["nda-v2.pdf"]}
    for v in vouchers:
        content = json.loads(v["entry"]["content"])
        assert v["entry"]["kind"] == "manual_evidence" and content["id"] == v["manual_evidence_id"]
        assert content["sha256"] == hashlib.sha256(files[content["filename"]]).hexdigest()
    # a document row whose chain entry is outside the bundle is not reported as inserted
    report = verify_bundle(out)
    assert report.ok, [str(i) for i in report.issues]


def test_a_later_period_leaves_out_what_lapsed_before_it(store: Store, tmp_path: Path) -> None:
    document_history(store)
    out = tmp_path / "b.zip"
    export_bundle(store, load_mappings(), framework="soc2", start=T0 + 7 * DAY, end=PERIOD[1], out=out)
    assert set(_manual_files(out)) == {"conduct-2025.pdf", "roles.pdf", "nda-v3.pdf"}
    assert verify_bundle(out).ok


def test_swapped_document_attached_before_the_period_is_detected(store: Store, tmp_path: Path) -> None:
    document_history(store)
    out = tmp_path / "b.zip"
    export_bundle(store, load_mappings(), framework="soc2", start=PERIOD[0], end=PERIOD[1], out=out)
    with zipfile.ZipFile(out) as zf:
        items = {n: zf.read(n) for n in zf.namelist()}
    name = next(n for n in items if n.endswith("-conduct-2025.pdf"))
    items[name] = b"%PDF a different code of conduct"
    manifest = json.loads(items["manifest.json"])  # the exporter holds everything: it rewrites the manifest
    manifest["files"][name] = {"sha256": hashlib.sha256(items[name]).hexdigest(), "size": len(items[name])}
    items["manifest.json"] = json.dumps(manifest).encode()
    tampered = tmp_path / "tampered.zip"
    with zipfile.ZipFile(tampered, "w") as zf:
        for n, data in items.items():
            zf.writestr(n, data)
    found = [str(i) for i in verify_bundle(tampered).issues]
    assert any("manual_evidence" in p and "document" in p for p in found), found

"""Everything in the bundle is bound (issue #13): manifest.json lists every file with its SHA-256 and
size, and its canonical body is signed by the current key (manifest.sig). With a pinned key a missing
or invalid signature fails, and so does any file not in the manifest or differing from it: the report,
the OSCAL file, the CSVs, the documents, the records. The agent and the standalone verifier agree."""

from __future__ import annotations

import hashlib
import json
import subprocess
import zipfile
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

import pytest

from agent.evidence.checkpoints import Signer
from agent.store import Store
from agent.store.manual import Prepared, store_prepared
from tests.contract.test_verifier_standalone import _zip_tool
from tests.integration.evidence.test_checkpoints_v2 import (
    History,
    bundle_verdict,
    named,
    new_signer,
    write_history,
)


def rewrite(
    src: Path,
    dst: Path,
    replace: dict[str, bytes] | None = None,
    *,
    drop: Iterable[str] = (),
    manifest: bool = True,
    resign: Signer | None = None,
) -> None:
    """A copy of a bundle with files replaced, added or dropped; ``manifest``: list them in manifest.json
    as its maker would (the attacker holds the exporter); ``resign``: and sign it again with that key."""
    with zipfile.ZipFile(src) as zf:
        items = {n: zf.read(n) for n in zf.namelist()}
    items.update(replace or {})
    for name in drop:
        items.pop(name, None)
    if manifest:
        m = json.loads(items["manifest.json"])
        for name, data in (replace or {}).items():
            if name not in ("manifest.json", "manifest.sig"):
                m["files"][name] = {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
        if resign is not None:
            m["key"], m["signing_key_id"] = resign.fingerprint, resign.key_id
            from posture_verify.checkpoints import manifest_body

            items["manifest.sig"] = resign.sign(manifest_body(m)).encode()
        items["manifest.json"] = json.dumps(m, indent=1, sort_keys=True).encode()
    with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in items.items():
            zf.writestr(name, data)


@pytest.fixture
def signed(store: Store, tmp_path: Path) -> tuple[History, Path]:
    def attach(at: datetime) -> None:
        store_prepared(
            store,
            Prepared(
                control_id="POL-ACCESS",
                filename="access.pdf",
                owner="bob",
                review_every_days=365,
                data=b"%PDF access policy",
            ),
            now=at,
        )

    h = write_history(store, tmp_path, new_signer(), also=[(1.2, attach)])
    return h, h.export(h.at(1), h.at(3.5))


def key(h: History) -> tuple[str, Path]:
    return ("--public-key", h.pem())


def test_signed_bundle_verifies_and_rezipped_too(signed: tuple[History, Path]) -> None:
    h, bundle = signed
    with zipfile.ZipFile(bundle) as zf:
        names = set(zf.namelist())
        manifest = json.loads(zf.read("manifest.json"))
    assert {"manifest.sig", "chain/key-checkpoints.jsonl", "chain/stubs.jsonl", "chain/vouchers.jsonl"} <= names
    assert manifest["format"] == "posture-agent-evidence-bundle/4"
    assert manifest["key"] == h.signer.fingerprint and len(manifest["store"]) == 32  # type: ignore[union-attr]
    assert "manifest.sig" not in manifest["files"] and set(manifest["files"]) == names - {
        "manifest.json",
        "manifest.sig",
    }
    v = bundle_verdict(bundle, *key(h))
    assert v.ok and "manifest signature verified" in v.summary, v
    unpacked = h.tmp / "unpacked"
    with zipfile.ZipFile(bundle) as zf:
        zf.extractall(unpacked)
    rezipped = h.tmp / "rezipped.zip"
    subprocess.run([_zip_tool(), "-q", "-r", str(rezipped), "."], cwd=unpacked, check=True)
    assert bundle_verdict(rezipped, *key(h)).ok


@pytest.mark.parametrize(
    "name",
    [
        "report.html",
        "oscal/assessment-results.json",
        "summary/requirements.csv",
        "logs/gaps.csv",
        "manual/1-access.pdf",
        "records/runs.jsonl",
    ],
)
def test_an_edited_file_fails(signed: tuple[History, Path], name: str) -> None:
    h, bundle = signed
    with zipfile.ZipFile(bundle) as zf:
        data = zf.read(name)
    edited = data + b" "  # one byte more: the content still parses
    alone, listed = h.tmp / "alone.zip", h.tmp / "listed.zip"
    rewrite(bundle, alone, {name: edited}, manifest=False)
    rewrite(bundle, listed, {name: edited})  # the manifest rewritten to match
    v = bundle_verdict(alone, *key(h))
    assert named(v, f"file {name}: SHA-256 differs from the manifest (altered)"), v
    v = bundle_verdict(listed, *key(h))
    assert named(v, "file manifest.sig: the Ed25519 signature over manifest.json does not verify"), v
    assert not named(v, f"file {name}: SHA-256")
    # without a pinned key the bundle's own key still sees the manifest changed
    assert named(bundle_verdict(listed), "file manifest.sig: the Ed25519 signature over manifest.json")


def test_manifest_edits_fail(signed: tuple[History, Path]) -> None:
    h, bundle = signed
    with zipfile.ZipFile(bundle) as zf:
        m = json.loads(zf.read("manifest.json"))
    for field, value in (("to", m["from"]), ("framework", "iso27001"), ("store", "0" * 32)):
        out = h.tmp / f"m-{field}.zip"
        rewrite(bundle, out, {"manifest.json": json.dumps({**m, field: value}).encode()}, manifest=False)
        v = bundle_verdict(out, *key(h))
        assert named(v, "file manifest.sig: the Ed25519 signature over manifest.json does not verify"), (field, v)
    # the signature removed
    out = h.tmp / "no-sig.zip"
    rewrite(bundle, out, drop=["manifest.sig"], manifest=False)
    v = bundle_verdict(out, *key(h))
    assert v.problems == [
        "file manifest.sig: missing: manifest.json is not signed, so nothing binds the report, the "
        "OSCAL file, the CSVs and the documents to the signed checkpoints (unsigned bundle, or its "
        "signature removed)"
    ], v
    assert bundle_verdict(out).ok  # nothing pinned: nothing required
    # re-signed by the attacker's key: the key the manifest names is not the pinned one
    out = h.tmp / "resigned.zip"
    rewrite(bundle, out, {"report.html": b"<p>all good</p>"}, resign=new_signer())
    v = bundle_verdict(out, *key(h))
    assert named(v, "manifest.json: signed by key", "neither pinned nor reached"), v


def test_inserted_file_fails(signed: tuple[History, Path]) -> None:
    h, bundle = signed
    out, listed = h.tmp / "extra.zip", h.tmp / "extra-listed.zip"
    rewrite(bundle, out, {"summary/extra.csv": b"requirement,status\nCC1.1,pass\n"}, manifest=False)
    rewrite(bundle, listed, {"summary/extra.csv": b"requirement,status\nCC1.1,pass\n"})
    assert bundle_verdict(out, *key(h)).problems == [
        "file summary/extra.csv: not listed in the manifest (inserted)",
        "file summary/extra.csv: is not a file the records give (summary inserted)",
    ]
    assert named(bundle_verdict(listed, *key(h)), "file manifest.sig: the Ed25519 signature")
    # listed and signed by the key holder: still not a file the records give
    resigned = h.tmp / "extra-resigned.zip"
    rewrite(bundle, resigned, {"summary/extra.csv": b"requirement,status\nCC1.1,pass\n"}, resign=h.signer)
    assert bundle_verdict(resigned, *key(h)).problems == [
        "file summary/extra.csv: is not a file the records give (summary inserted)"
    ]


def test_unsigned_bundle_with_a_pinned_key_fails(store: Store, tmp_path: Path) -> None:
    """Checkpoints signed by the store, but the bundle exported without the key: its manifest binds
    nothing an auditor can check."""
    h = write_history(store, tmp_path, new_signer())
    bundle = h.export(h.at(1), h.at(3.5), unsigned=True)
    with zipfile.ZipFile(bundle) as zf:
        assert "manifest.sig" not in zf.namelist()
    v = bundle_verdict(bundle, *key(h))
    assert v.problems == [p for p in v.problems if p.startswith("file manifest.sig: missing")] and v.problems, v
    # unpinned, an unsigned bundle edited together with its manifest: the report is computed again from
    # the records, so the edit shows; an edit of the records themselves would not (that is why keys are pinned)
    edited = h.tmp / "edited.zip"
    rewrite(bundle, edited, {"report.html": b"<p>all good</p>"})
    v = bundle_verdict(edited)
    assert v.problems == [
        "file report.html: differs from the same file computed from the verified records for the "
        "framework in framework.json (summary altered)"
    ], v
    assert "nothing proves who wrote it" in v.summary
    assert named(bundle_verdict(edited, *key(h)), "file manifest.sig: missing")

"""Offline verification of an exported bundle: no database, no network.

First every file against manifest.json (altered, missing or extra files), then the chain segment
and the records with the same code that verifies the store.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from agent.evidence.chain import Progress, VerifyReport, verify_records
from agent.evidence.checkpoints import load_public_key
from agent.evidence.records import Records

__all__ = ["verify_bundle"]


def _jsonl(zf: zipfile.ZipFile, name: str) -> list[dict[str, Any]]:
    try:
        data = zf.read(name)
    except KeyError:
        return []
    return [json.loads(line) for line in data.splitlines() if line.strip()]


def verify_bundle(path: Path, *, public_key: Ed25519PublicKey | None = None,
                  progress: Progress | None = None) -> VerifyReport:
    report = VerifyReport()
    try:
        zf = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        report.add(f"bundle {path}", f"not a readable zip: {exc}")
        return report
    with zf:
        try:
            manifest = json.loads(zf.read("manifest.json"))
        except (KeyError, ValueError):
            report.add("file manifest.json", "missing or not JSON")
            return report
        listed: dict[str, dict[str, Any]] = manifest.get("files", {})
        present = set(zf.namelist()) - {"manifest.json"}
        for name in sorted(set(listed) - present):
            report.add(f"file {name}", "listed in the manifest but missing (removed)")
        for name in sorted(present - set(listed)):
            report.add(f"file {name}", "not listed in the manifest (inserted)")
        for name in sorted(set(listed) & present):
            data = zf.read(name)
            if hashlib.sha256(data).hexdigest() != listed[name]["sha256"]:
                report.add(f"file {name}", "SHA-256 differs from the manifest (altered)")
        keys: list[Ed25519PublicKey] = []
        if public_key is not None:
            keys = [public_key]
        elif "keys/signing-public.pem" in present:
            keys = [load_public_key(zf.read("keys/signing-public.pem"))]
        seg = json.loads(zf.read("chain/segment.json")) if "chain/segment.json" in present else {}
        entries = _jsonl(zf, "chain/entries.jsonl")
        by_snapshot: dict[str, dict[int, list[dict[str, Any]]]] = {"finding_events": {}, "drift_events": {}}
        for name, grouped in by_snapshot.items():
            for r in _jsonl(zf, f"records/{name}.jsonl"):
                grouped.setdefault(int(r["snapshot_id"]), []).append(r)
        manual = {}
        for r in _jsonl(zf, "records/manual_evidence.jsonl"):
            try:
                r["content_sha256"] = hashlib.sha256(zf.read(r["file"])).hexdigest()
            except KeyError:
                r["content_sha256"] = "missing"
            manual[int(r["id"])] = {k: v for k, v in r.items() if k != "file"}
        index = {r["hash"]: r for r in _jsonl(zf, "records/blobs.jsonl")}

        def blob(h: str) -> bytes | None:
            try:
                return zf.read(f"blobs/{h[:2]}/{h}.zst")
            except KeyError:
                return None

        def blob_rows() -> Iterator[tuple[str, str, int, bytes]]:
            for h, r in index.items():
                body = blob(h)
                if body is None:
                    report.add(f"blobs {h}", "listed in records/blobs.jsonl but missing from the bundle")
                    continue
                yield h, r["kind"], int(r["size"]), body

        def split(name: str) -> tuple[str, str]:
            src, _, acct = name.partition("\t")
            return src, acct

        rec = Records(
            entries=entries, checkpoints=_jsonl(zf, "chain/checkpoints.jsonl"),
            runs={r["id"]: r for r in _jsonl(zf, "records/runs.jsonl")},
            snapshots={int(r["id"]): r for r in _jsonl(zf, "records/snapshots.jsonl")},
            events=by_snapshot["finding_events"], drift=by_snapshot["drift_events"], manual=manual,
            exceptions={int(r["id"]): r for r in _jsonl(zf, "records/exceptions.jsonl")},
            outbox={int(r["id"]): r for r in _jsonl(zf, "records/alerts_outbox.jsonl")},
            blob=blob, blob_rows=blob_rows,
            baseline={split(k): v for k, v in seg.get("baseline", {}).items()},
            baseline_results={split(k): v for k, v in seg.get("baseline_results", {}).items()},
            complete=False, where=str(path), anchor_seq=seg.get("first_seq"), anchor_prev=seg.get("anchor_prev"))
        inner = verify_records(rec, public_keys=keys, require_signed=public_key is not None, progress=progress)
    if seg.get("last_seq") is not None and inner.last_seq != seg.get("last_seq"):
        report.add("chain/entries.jsonl", f"ends at seq {inner.last_seq}, the segment says {seg.get('last_seq')} "
                   "(tail removed)")
    inner.issues[:0] = report.issues
    return inner

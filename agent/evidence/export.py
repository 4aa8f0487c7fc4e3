"""`evidence export`: one zip an auditor can check offline.

Layout (docs/evidence.md): manifest.json (every file with its SHA-256), chain/ (the entries of the
period, checkpoints, the segment's anchor and baseline), records/ (the rows the entries commit to),
blobs/ (uncompressed resource bodies, manifests and error sets the snapshots refer to), manual/ (documents), summary/,
timelines/, logs/, report.html and oscal/assessment-results.json.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from posture_verify.bundle import BUNDLE_FORMAT, MANIFEST_SIG, blob_path
from posture_verify.checkpoints import manifest_body
from posture_verify.summaries import SCOPE_FILE, carried_findings, derived, listings
from posture_verify.witnesses import store_of

from agent.evidence.anchoring import declared_witnesses, witness_manifest
from agent.evidence.checkpoints import Signer, public_pem
from agent.evidence.coverage import documents_in_force, scope_of
from agent.evidence.records import cycle_snapshot_ids
from agent.mappings import Mappings
from agent.models import canonical_json, isoformat, utcnow
from agent.store import Store, bundle_rows
from agent.store.bundle_rows import BundleRows
from agent.store.db import errors_blob

__all__ = ["BUNDLE_FORMAT", "export_bundle"]

Progress = Callable[[str, int, int], None]


def _jsonl(rows: Iterable[dict[str, Any]]) -> bytes:
    return b"".join(canonical_json(r) + b"\n" for r in rows)


class _Zip:
    """Writes files and remembers their SHA-256 for the manifest."""

    def __init__(self, path: Path) -> None:
        self.zf = zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6)
        self.files: dict[str, dict[str, Any]] = {}

    def add(self, name: str, data: bytes, *, stored: bool = False) -> None:
        self.files[name] = {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
        self.zf.writestr(name, data, compress_type=zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED)


def _baseline(
    rows: BundleRows, keys: set[tuple[str, str]], first_sid: dict[tuple[str, str], int], pruned: bool
) -> tuple[dict[str, dict[str, list[str]]], dict[str, str], dict[str, list[str]]]:
    """Per (source, account): the finding state before the period's first snapshot, and the
    results_hash of the snapshot it must reproduce; and per finding of those states its check and
    resource (the summaries need them; its uid is their hash)."""
    states: dict[str, dict[str, list[str]]] = {}
    hashes: dict[str, str] = {}
    findings: dict[str, list[str]] = {}
    if pruned:
        # after retention pruning the state before the period cannot be rebuilt from the events left:
        # no baseline, and the verifier checks the period's events against their entries only
        return states, hashes, findings
    for src, acct in sorted(keys):
        sid = first_sid[(src, acct)]
        state: dict[str, list[str]] = {}
        for e in rows.events_before(src, acct, sid):
            if e["status"] == "gone":
                state.pop(e["uid"], None)
            else:
                state[e["uid"]] = [e["status"], e["message"]]
                findings[e["uid"]] = [e["check_id"], e["resource_id"]]
        name = f"{src}\t{acct}"
        prev = rows.results_hash_before(src, acct, sid)
        if prev is not None:
            hashes[name] = prev
        states[name] = state
    kept = {u for st in states.values() for u in st}
    return states, hashes, {u: v for u, v in sorted(findings.items()) if u in kept}


def export_bundle(
    store: Store,
    mappings: Mappings,
    *,
    framework: str,
    start: datetime,
    end: datetime,
    out: Path,
    signer: Signer | None = None,
    categories: tuple[str, ...] = (),
    progress: Progress | None = None,
    anchors: Any = None,
) -> dict[str, Any]:
    """Write the bundle; returns its manifest. With ``anchors`` (evidence.anchors) the manifest's
    canonical body is timestamped (manifest.tsr) and copied to the anchor bucket."""
    progress = progress or (lambda _s, _n, _total: None)
    generated = utcnow()  # the one time of the bundle: the summaries, the report and the manifest use it
    scope = scope_of(mappings, framework, categories)
    witnessed = store.has_table("evidence_anchors")  # before the connection: on SQLite a second one waits for it
    z = _Zip(out)
    try:
        with bundle_rows.reading(store) as db:
            seg = db.segment(start, end)
            entries = db.entries(*seg) if seg else []
            progress("chain", 1, 10)
            refs: dict[str, list[str]] = {}
            for e in entries:
                # cycle (and legacy run) entries are referenced by the bare run id, the others as "kind:id"
                refs.setdefault(e["kind"], []).append(
                    e["ref"] if e["kind"] in ("cycle", "run") else e["ref"].partition(":")[2]
                )
            run_ids = set(refs.get("run", [])) | set(refs.get("cycle", []))
            sids = sorted({int(x) for x in refs.get("collection", [])} | cycle_snapshot_ids(entries))
            checkpoints, key_checkpoints, store_id = db.checkpoints(start, end)
            runs = db.runs(run_ids)
            snaps = db.snapshots(sids)
            events = db.finding_events(sids)
            drift_sids = sorted({int(x) for x in refs.get("drift", [])})
            drift = db.drift_events(drift_sids)
            kept = [json.loads(e["content"]).get("kept") or {} for e in entries if e["kind"] == "prune"]
            vouched = {int(x) for x in refs.get("manual_evidence", [])} | {
                int(x) for k in kept for x in k.get("manual_evidence", {})
            }
            # and every document in force during the period, whatever its attach date
            manual_ids = sorted(vouched | _in_force_ids(db, start, end))
            vouched_exc = {int(x) for x in refs.get("exception", [])} | {
                int(x) for k in kept for x in k.get("exceptions", {})
            }
            # and every exception in force during the period, whatever its creation date
            exc_ids = sorted(vouched_exc | db.exceptions_in_force(start, min(end, generated)))
            out_ids = sorted({int(x) for x in refs.get("alert", [])})
            excs = db.exceptions(exc_ids)
            outbox = [{k: v for k, v in r.items() if k != "last_error"} for r in db.outbox(out_ids)]
            progress("records", 3, 10)
            keys = {(s["source"], s["account"]) for s in snaps}
            first_sid: dict[tuple[str, str], int] = {}
            for s in snaps:
                first_sid.setdefault((s["source"], s["account"]), int(s["id"]))
            pruned = db.pruned()
            baseline, baseline_results, baseline_findings = _baseline(db, keys, first_sid, pruned)
            z.add("chain/entries.jsonl", _jsonl(entries))
            z.add("chain/checkpoints.jsonl", _jsonl(checkpoints))
            z.add("chain/key-checkpoints.jsonl", _jsonl(key_checkpoints))
            if witnessed:  # the checkpoints' witnesses, and every TSA's certificates
                z.add("chain/witnesses.jsonl", _jsonl(db.witnesses(int(c["seq"]) for c in checkpoints)))
            z.add(
                "chain/segment.json",
                canonical_json(
                    {
                        "first_seq": seg[0] if seg else None,
                        "last_seq": seg[1] if seg else None,
                        "anchor_prev": entries[0]["prev_hash"] if entries else None,
                        "baseline": baseline,
                        "baseline_results": baseline_results,
                        "baseline_findings": baseline_findings,
                        "baseline_pruned": pruned,
                        "note": "baseline: per source/account the finding state before the period's first snapshot; "
                        "baseline_findings: the check and resource of each of its findings",
                    }
                ),
            )
            for name, rows in (
                ("runs", runs),
                ("snapshots", snaps),
                ("finding_events", events),
                ("drift_events", drift),
                ("exceptions", excs),
                ("alerts_outbox", outbox),
            ):
                z.add(f"records/{name}.jsonl", _jsonl(rows))
            manual_rows = []
            for mid in manual_ids:
                found = db.document(mid)
                if found is None:
                    continue
                row, doc = found
                row["file"] = f"manual/{mid}-{Path(row['filename']).name}"
                z.add(row["file"], doc)
                manual_rows.append(row)
            z.add("records/manual_evidence.jsonl", _jsonl(manual_rows))
            vouchers = _vouchers(
                db, "manual_evidence", sorted(set(manual_ids) - vouched), seg[0] if seg else None
            ) + _vouchers(db, "exceptions", sorted(set(exc_ids) - vouched_exc), seg[0] if seg else None)
            z.add("chain/vouchers.jsonl", _jsonl(vouchers))
            z.add("chain/stubs.jsonl", _jsonl(_stubs(db, seg, checkpoints, vouchers)))
            progress("blobs", 4, 10)
            wanted = sorted(
                db.reachable(s["manifest_hash"] for s in snaps)
                | {h for s in snaps if (h := errors_blob(s["errors"])) is not None}
            )
            blob_index = []
            for b in db.blobs(wanted):
                # uncompressed (the zip deflates it): the standalone verifier needs no zstd
                z.add(blob_path(b.hash), b.body)
                blob_index.append({"hash": b.hash, "kind": b.kind, "size": b.size})
            z.add("records/blobs.jsonl", _jsonl(sorted(blob_index, key=lambda x: x["hash"])))
            progress("coverage", 7, 10)
        # the summaries, from the records just written and with the functions the verifier runs on them
        z.add(SCOPE_FILE, canonical_json(scope.to_dict()))
        carried, _ = carried_findings(
            {(k.partition("\t")[0], k.partition("\t")[2]): v for k, v in baseline.items()}, baseline_findings
        )
        for name, data in {
            **listings(events, drift, outbox),
            **derived(
                scope,
                start=start,
                end=end,
                generated=generated,
                runs=runs,
                events=events,
                carried=carried,
                exceptions=excs,
                documents=manual_rows,
                files={int(r["id"]): r["file"] for r in manual_rows},
                entries=len(entries),
                checkpoints=len(checkpoints),
                key=signer.fingerprint if signer is not None else None,
                start_known=not pruned,
            ),
        }.items():
            z.add(name, data)
        if signer is not None:
            z.add("keys/signing-public.pem", public_pem(signer.public))
        z.add("README.txt", _readme(framework, start, end, signer is not None, declared_witnesses(anchors)))
        progress("manifest", 9, 10)
        manifest = {
            "format": BUNDLE_FORMAT,
            "framework": framework,
            "from": isoformat(start),
            "to": isoformat(end),
            "generated_at": isoformat(generated),
            "entries": len(entries),
            "snapshots": len(snaps),
            "signing_key_id": signer.key_id if signer else None,
            "key": signer.fingerprint if signer else None,
            "store": store_id,
            "files": dict(sorted(z.files.items())),
        }
        declared = declared_witnesses(anchors)
        if declared is not None:  # what the manifest's own witnesses are, so a removed one is missed
            manifest["witnesses"] = declared
        z.zf.writestr("manifest.json", json.dumps(manifest, indent=1, sort_keys=True))
        if signer is not None:  # the manifest binds every file; its signature binds the manifest
            z.zf.writestr(MANIFEST_SIG, signer.sign(manifest_body(manifest)))
        if declared is not None:
            last = max(checkpoints, key=lambda c: int(c["seq"])) if checkpoints else {}
            tsr = witness_manifest(anchors, manifest_body(manifest), str(manifest.get("store") or store_of(last)))
            if tsr is not None:
                z.zf.writestr("manifest.tsr", tsr)
        progress("done", 10, 10)
        return manifest
    finally:
        z.zf.close()


def _in_force_ids(db: BundleRows, start: datetime, end: datetime) -> set[int]:
    """The manual documents in force at some time of the period (agent/evidence/coverage.py's rule)."""
    return {d.id for d in documents_in_force(db.documents_until(end), start, end)}


def _stubs(
    db: BundleRows, seg: tuple[int, int] | None, checkpoints: list[dict[str, Any]], vouchers: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The chain entries, without content, between the segment and what must link to it: the entries
    vouching for documents attached before the period, and the heads of the checkpoints around it."""
    starts = [int(v["entry"]["seq"]) for v in vouchers]
    heads = [int(c["head_seq"]) for c in checkpoints]
    ranges: list[tuple[int, int]] = []
    if seg:
        lo = min([*starts, *(h for h in heads if h < seg[0])], default=None)
        if lo is not None:
            ranges.append((lo, seg[0] - 1))
        after = [h for h in heads if h > seg[1]]
        if after:
            ranges.append((seg[1] + 1, max(after)))
    elif heads or starts:  # no entry in the period: the stubs link the vouchers to a checkpoint's head
        ranges.append((min([*starts, *heads]), max([*starts, *heads])))
    out: list[dict[str, Any]] = []
    for a, b in ranges:
        out.extend(db.stubs(a, b))
    return out


_VOUCHED = {"manual_evidence": ("manual_evidence", "manual_evidence_id"), "exceptions": ("exception", "exception_id")}


def _vouchers(db: BundleRows, table: str, ids: list[int], first_seq: int | None) -> list[dict[str, Any]]:
    """For rows of ``table`` (manual documents, exceptions) whose chain entry is before the segment: that
    entry (or the last prune entry that keeps the row), so an auditor can find it in the bundle of the
    period it was written in."""
    kind, key = _VOUCHED[table]
    out: dict[int, dict[str, Any]] = {}
    if ids:
        for r in db.entries_of(kind, [f"{kind}:{x}" for x in ids]):
            out[int(r["ref"].partition(":")[2])] = r
        missing = set(ids) - set(out)
        if missing:  # pruned: the latest prune entry before the segment re-vouches for kept rows
            for r in db.prune_entries(first_seq):
                kept = {int(k) for k in (json.loads(r["content"]).get("kept") or {}).get(table, {})}
                for rid in missing & kept:
                    out[rid] = dict(r)
                missing -= kept
                if not missing:
                    break
    return [{key: rid, "entry": e} for rid, e in sorted(out.items())]


def _readme(framework: str, start: datetime, end: datetime, signed: bool, witnesses: Any) -> bytes:
    """What an auditor reads first: what the bundle is and how to check it without trusting it."""
    pins = ["--key-fingerprint <the fingerprint the organisation gave you before the period>"] if signed else []
    pins.append("--framework-sha256 <the framework mapping's SHA-256 you agreed on>")
    if witnesses and witnesses.get("rfc3161"):
        pins.append("--tsa-cert <the root certificate of the timestamping authority you trust>")
    if witnesses and witnesses.get("s3"):
        pins.append(f"--anchor-bucket {witnesses['s3']}")
    lines = [
        f"posture-agent evidence bundle: {framework}, {isoformat(start)} to {isoformat(end)}",
        "",
        "Open report.html for the findings. To check that nothing in this bundle was changed, removed,",
        "backdated or made up, use the standalone verifier from the posture-agent repository (not a copy",
        "from this bundle; it needs only Python, cryptography and rfc3161-client):",
        "",
        "    pip install ./deploy/verifier          # in a checkout of the posture-agent repository",
        "    posture-verify this-bundle.zip " + " \\\n        ".join(pins),
        "",
        "Exit status 0: every file, hash, chain link, record, checkpoint signature, cadence and witness",
        "adds up, and report.html, the OSCAL file, summary/, timelines/ and logs/ are what the records give:",
        "the verifier computes them again and compares them byte for byte. They are computed for the",
        "framework mapping in framework.json: add --framework-sha256 <the SHA-256 you were given> to",
        "require the mapping you agreed on. Exit status 1: each problem is printed as 'record: what is wrong'.",
        "" if signed else "This bundle is not signed: nothing in it proves who wrote it.",
        "The formats are defined byte by byte in docs/evidence-format.md of the repository.",
    ]
    return ("\n".join(lines) + "\n").encode()

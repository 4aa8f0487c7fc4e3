"""The evidence hash chain and its verifier (docs/evidence-format.md, "Chain entries").

Each entry commits to its content and to the entry before it. A cycle (one run of one source: its
runs row, its snapshots and their finding events) is one ``cycle`` entry. Its stored content is
small: the snapshot ids and a 16-hex locator per row, so a verifier can name the row that changed.
The locators are not what secures the rows: the entry's content_hash covers the content and the
full SHA-256 of every row, recomputed on verification.

Verification trusts no database: it recomputes every entry hash and the chain links, recomputes
each entry's content from the rows it describes, replays finding events into result sets and
compares them with the recorded results hashes, walks every manifest, rehashes every blob, checks
checkpoints and their signatures, and names every record that does not add up.

Stores written before cycle entries existed hold a ``run`` entry and a ``collection`` entry per
snapshot with the row fields spelled out, and results hashes of the first definition; both are
still verified.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from posture_verify.canonical import GENESIS, canonical_json, sha256_hex
from posture_verify.checkpoints import CheckpointCheck, check_heads
from posture_verify.entries import LOCATOR, CycleCommitment, entry_hash, run_fields, snapshot_fields
from posture_verify.lthash import ResultSetHash, legacy_results_hash
from posture_verify.manifests import Manifest, errors_blob, resolve_manifest
from posture_verify.records import (
    AUDITED_COLUMNS,
    DEFER_MANIFEST_BYTES,
    STARVED_MESSAGE,
    Records,
    Unreadable,
    kept_row_hash,
)
from posture_verify.report import Issue, VerifyReport
from posture_verify.token_jobs import TokenChecks
from posture_verify.trust import Trust
from posture_verify.witnesses import check_witnesses

__all__ = [
    "GENESIS",
    "LOCATOR",
    "CycleCommitment",
    "Issue",
    "Progress",
    "VerifyReport",
    "entry_hash",
    "entry_hash_of",
    "run_fields",
    "snapshot_fields",
    "verify_records",
]

# -- verification -----------------------------------------------------------------------------------

Progress = Callable[[str, int], None]
_KEEP_MANIFEST_BYTES = DEFER_MANIFEST_BYTES


def entry_hash_of(e: dict[str, Any]) -> str:
    """entry_hash over a normalised row (``at`` already the canonical string)."""
    return entry_hash(
        seq=int(e["seq"]),
        at=e["at"],
        kind=e["kind"],
        ref=e["ref"],
        content_hash=e["content_hash"],
        prev_hash=e["prev_hash"],
    )


def _evaluated(state: dict[str, list[str]]) -> dict[str, list[str]]:
    return {u: v for u, v in state.items() if v[1] != STARVED_MESSAGE}


def _matches_results(state: dict[str, list[str]], recorded: str | None, fast: str) -> bool:
    """Whether the recorded results hash is the one of ``state`` (``fast``: its incremental hash),
    by either definition: the legacy one is only computed when the current one does not match."""
    if recorded == fast:
        return True
    items = [(u, s, m) for u, (s, m) in _evaluated(state).items()]
    return recorded == legacy_results_hash(items)


def _diff(expected: dict[str, Any], recorded: dict[str, Any]) -> list[str]:
    """Fields whose recomputed value differs from the chain entry's."""
    exp = json.loads(canonical_json(expected))
    out = []
    for k, v in exp.items():
        if recorded.get(k) != v:
            out.append(f"{k} is {v!r} but the chain entry says {recorded.get(k)!r}")
    return out


def _strip_id(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in r.items() if k != "id"} for r in rows]


NOT_PINNED = (
    "no key pinned (--public-key or --key-fingerprint): hashes and links were checked, but nothing "
    "proves who wrote this evidence, nor that none of it was removed or rewritten by whoever holds it"
)


class _Verifier:
    def __init__(self, rec: Records, report: VerifyReport, check: CheckpointCheck, progress: Progress | None) -> None:
        self.rec, self.r, self.check = rec, report, check
        self.progress = progress or (lambda _stage, _n: None)
        self.seen_runs: set[str] = set()
        self.seen_snapshots: set[int] = set()
        self.seen_drift: set[int] = set()
        self.seen_manual: set[int] = set()
        self.seen_exceptions: set[int] = set()
        self.missing_baseline: set[tuple[str, str]] = set()
        # a bundle's entries and the stubs linked to them, by seq (chain/stubs.jsonl)
        self.linked: dict[int, dict[str, Any]] = {}
        self.anchored: dict[int, bool] = {}
        # run id -> its snapshot ids, built once: a year holds tens of thousands of each
        self.snapshots_of_run: dict[str, list[int]] = {}
        for sid, snap in rec.snapshots.items():
            self.snapshots_of_run.setdefault(snap["run_id"], []).append(sid)
        self.state: dict[tuple[str, str], dict[str, list[str]]] = {
            k: {u: list(v) for u, v in st.items()} for k, st in rec.baseline.items()
        }
        # per (source, account): the running hash of the evaluated result set, updated per event
        self.results: dict[tuple[str, str], ResultSetHash] = {
            k: ResultSetHash((u, s, m) for u, (s, m) in _evaluated(st).items()) for k, st in self.state.items()
        }
        self.last_results: dict[tuple[str, str], str] = dict(rec.baseline_results)
        for key, expected in rec.baseline_results.items():
            st = self.state.get(key, {})
            fast = self.results.get(key, ResultSetHash()).hexdigest()
            if not _matches_results(st, expected, fast):
                report.add(
                    f"baseline of {key[0]}/{key[1]}",
                    "does not hash to the results_hash of the snapshot before the period (baseline altered)",
                )

    # -- the chain -----------------------------------------------------------------------------

    def chain(self, anchor_seq: int, anchor_prev: str) -> None:
        expected, prev = anchor_seq, anchor_prev
        by_seq: dict[int, dict[str, Any]] = {}
        for n, e in enumerate(self.rec.entries):
            seq = int(e["seq"])
            name = f"evidence_log seq {seq} ({e['kind']} {e['ref']})"
            by_seq[seq] = e
            if seq > expected:
                self.r.add(
                    f"evidence_log seq {expected}" + (f"..{seq - 1}" if seq - 1 > expected else ""),
                    "missing from the chain (entries removed)",
                )
            elif seq < expected:
                self.r.add(name, "out of order or duplicated")
            if e["prev_hash"] != prev:
                self.r.add(
                    name, "prev_hash does not match the entry before it (entries removed, inserted or reordered)"
                )
            # a cycle entry's content hash also covers its rows: checked in cycle()
            if e["kind"] != "cycle" and sha256_hex(e["content"].encode()) != e["content_hash"]:
                self.r.add(name, "content does not match content_hash (entry content altered)")
            if entry_hash_of(e) != e["entry_hash"]:
                self.r.add(name, "entry_hash does not match seq/at/kind/ref/content_hash/prev_hash (entry altered)")
            try:
                content = json.loads(e["content"])
            except ValueError:
                self.r.add(name, "content is not JSON")
                content = {}
            if not isinstance(content, dict):
                self.r.add(name, "content is not a JSON object")
                content = {}
            self.record(name, e, content)
            expected, prev = seq + 1, e["entry_hash"]
            if n % 5000 == 0:
                self.progress("chain", n)
        self.r.entries = len(self.rec.entries)
        if self.rec.entries:
            self.r.first_seq, self.r.last_seq = int(self.rec.entries[0]["seq"]), int(self.rec.entries[-1]["seq"])
        stubs = self.stubs(prev if self.rec.entries else None)
        check_heads(self.rec.checkpoints, {**stubs, **by_seq}, self.r.last_seq, self.rec.complete, self.r)
        self.linked = {**{s: e for s, e in stubs.items() if self.anchored.get(s)}, **by_seq}

    # -- a bundle's stubs and vouchers ----------------------------------------------------------

    def stubs(self, last_hash: str | None) -> dict[int, dict[str, Any]]:
        """chain/stubs.jsonl: entries without content, in runs that link the entries vouching for
        documents, and the heads of the checkpoints around the period, to the segment. Returns every
        stub whose hash holds; ``self.anchored`` says which are linked to the segment or to a
        checkpoint's head."""
        runs: list[list[dict[str, Any]]] = []
        for s in sorted(self.rec.stubs, key=lambda x: int(x["seq"])):
            seq = int(s["seq"])
            name = f"chain/stubs.jsonl seq {seq}"
            if entry_hash_of(s) != s["entry_hash"]:
                self.r.add(name, "entry_hash does not match seq/at/kind/ref/content_hash/prev_hash (stub altered)")
                continue
            if runs and seq <= int(runs[-1][-1]["seq"]):
                self.r.add(name, "out of order or duplicated")
            elif runs and seq == int(runs[-1][-1]["seq"]) + 1:
                if s["prev_hash"] != runs[-1][-1]["entry_hash"]:
                    self.r.add(name, "prev_hash does not match the stub before it (stubs altered)")
                    runs.append([s])
                else:
                    runs[-1].append(s)
            else:
                runs.append([s])
        first, prev = self.rec.anchor_seq, self.rec.anchor_prev
        last = self.r.last_seq
        heads = {int(c["head_seq"]): c["head_hash"] for c in self.rec.checkpoints}
        out: dict[int, dict[str, Any]] = {}
        self.anchored = {}
        for run in runs:
            lo, hi = run[0], run[-1]
            linked = False
            if first is not None and self.rec.entries and int(hi["seq"]) == int(first) - 1:
                linked = hi["entry_hash"] == prev
                if not linked:
                    self.r.add(
                        f"chain/stubs.jsonl seq {hi['seq']}",
                        "does not link to the segment's first entry (stubs altered)",
                    )
            if last is not None and last_hash is not None and int(lo["seq"]) == last + 1:
                if lo["prev_hash"] == last_hash:
                    linked = True
                else:
                    self.r.add(
                        f"chain/stubs.jsonl seq {lo['seq']}",
                        "does not link to the segment's last entry (stubs altered)",
                    )
            # without a segment (a period with no entries) a run is anchored by a checkpoint's head in it
            linked = linked or any(heads.get(int(s["seq"])) == s["entry_hash"] for s in run)
            if not linked:
                self.r.add(
                    f"chain/stubs.jsonl seq {lo['seq']}..{hi['seq']}",
                    "linked neither to the segment nor to a checkpoint (stubs altered)",
                )
            for s in run:
                out[int(s["seq"])] = s
                self.anchored[int(s["seq"])] = linked
        return out

    def vouchers(self) -> None:
        """chain/vouchers.jsonl: the entry vouching for each document or exception written before the
        segment, linked to it by hashes; its content must match the row (and a document its file)."""
        kinds = {
            "manual_evidence_id": ("manual_evidence", "manual_evidence", self.rec.manual, self.manual),
            "exception_id": ("exceptions", "exception", self.rec.exceptions, self.exception),
        }
        for n, v in enumerate(self.rec.vouchers or [], 1):
            key = next((k for k in kinds if isinstance(v, dict) and k in v), None)
            try:
                if key is None:
                    raise KeyError("no row id")
                rid, e = int(v[key]), dict(v["entry"])
                seq, content = int(e["seq"]), json.loads(e["content"])
            except (KeyError, TypeError, ValueError):
                self.r.add("file chain/vouchers.jsonl", f"line {n} is not a voucher (altered)")
                continue
            table, kind, rows, check = kinds[key]
            name = f"chain/vouchers.jsonl {table} id {rid}"
            if sha256_hex(str(e["content"]).encode()) != e.get("content_hash") or entry_hash_of(e) != e.get(
                "entry_hash"
            ):
                self.r.add(name, f"its entry seq {seq} does not match its hashes (voucher altered)")
                continue
            linked = self.linked.get(seq)
            if linked is None or linked["entry_hash"] != e["entry_hash"]:
                self.r.add(
                    name,
                    f"its entry seq {seq} is not linked to the segment by chain/stubs.jsonl (voucher or stubs altered)",
                )
                continue
            if rid not in rows or not isinstance(content, dict):
                self.r.add(name, f"vouches for {table} row {rid}, which the bundle does not hold")
            elif e["kind"] == kind and e["ref"] == f"{kind}:{rid}":
                check(name, rid, content)
            elif e["kind"] == "prune" and str(rid) in ((content.get("kept") or {}).get(table) or {}):
                self.prune(name, content)
            else:
                self.r.add(
                    name, f"entry seq {seq} ({e['kind']} {e['ref']}) does not vouch for this row (voucher altered)"
                )

    def unvouched(self) -> None:
        """In a bundle, every document and exception row must be vouched for by an entry of the segment or
        a voucher."""
        for mid in sorted(set(self.rec.manual) - self.seen_manual):
            self.r.add(
                f"manual_evidence id {mid}",
                "no chain entry in the bundle vouches for it (row inserted, or its voucher removed)",
            )
        for xid in sorted(set(self.rec.exceptions) - self.seen_exceptions):
            self.r.add(
                f"exceptions id {xid}",
                "no chain entry in the bundle vouches for it (row inserted, or its voucher removed)",
            )

    def record(self, name: str, e: dict[str, Any], content: dict[str, Any]) -> None:
        kind, ref = e["kind"], e["ref"]
        _, _, rid = ref.partition(":")
        if kind == "cycle":
            self.cycle(name, e, ref, content)
        elif kind == "run":
            self.run(name, ref, content)
        elif kind == "collection":
            self.collection(name, int(rid), content)
        elif kind == "drift":
            self.drift(name, int(rid), content)
        elif kind == "manual_evidence":
            self.manual(name, int(rid), content)
        elif kind == "exception":
            self.exception(name, int(rid), content)
        elif kind == "alert":
            self.alert(name, int(rid), content)
        elif kind == "prune":
            self.prune(name, content)

    def run(self, name: str, run_id: str, content: dict[str, Any]) -> None:
        row = self.rec.runs.get(run_id)
        if row is None:
            self.r.add(name, f"runs row {run_id} is missing (removed)")
            return
        self.seen_runs.add(run_id)
        snaps = sorted(self.snapshots_of_run.get(run_id, ()))
        expected = {
            "run": row["id"],
            "source": row["source"],
            "provider": row["provider"],
            "started_at": row["started_at"],
            "finished_at": row["finished_at"],
            "status": row["status"],
        }
        expected["snapshots"] = snaps
        for d in _diff(expected, content):
            self.r.add(f"runs id {run_id}", f"{d} (row altered)")

    def cycle(self, name: str, e: dict[str, Any], run_id: str, content: dict[str, Any]) -> None:
        """One cycle entry: recompute the digests of its run, snapshots and finding events from the
        rows, name each row whose locator differs, check the content hash over all of them, then
        replay each snapshot's events into its result set."""
        try:
            listed = [(int(x[0]), str(x[1]), int(x[2]), str(x[3])) for x in content.get("snapshots", [])]
        except (TypeError, ValueError, IndexError, KeyError):
            self.r.add(
                name,
                "content does not list its snapshots as [id, locator, event count, locator] (entry content altered)",
            )
            return
        run = self.rec.runs.get(run_id)
        if run is None:
            self.r.add(name, f"runs row {run_id} is missing (removed)")
        else:
            self.seen_runs.add(run_id)
        rows = []
        for sid, *_ in listed:
            snap = self.rec.snapshots.get(sid)
            if snap is None:
                self.r.add(name, f"snapshots row {sid} is missing (removed)")
                continue
            self.seen_snapshots.add(sid)
            rows.append((sid, snapshot_fields(snap), _strip_id(self.rec.events.get(sid, []))))
        if run is None or len(rows) != len(listed):
            return
        listed_ids = {sid for sid, *_ in listed}
        for sid in self.snapshots_of_run.get(run_id, ()):
            if sid not in listed_ids:
                self.r.add(f"snapshots id {sid}", f"belongs to run {run_id} but {name} does not list it (inserted)")
        commitment = CycleCommitment(run_fields(run), rows)
        named = False
        if commitment.run_digest[:LOCATOR] != content.get("run"):
            self.r.add(f"runs id {run_id}", f"does not match what {name} committed to (row altered, or the entry)")
            named = True
        for sid, loc, count, events_loc in listed:
            digest, n, events_digest = commitment.snapshot_digests[sid]
            if digest[:LOCATOR] != loc:
                self.r.add(
                    f"snapshots id {sid}", f"does not match what {name} committed to (row altered, or the entry)"
                )
                named = True
            if n != count:
                self.r.add(
                    f"finding_events of snapshot {sid}",
                    f"{n} rows but the chain entry records {count} (rows removed or inserted)",
                )
                named = True
            elif n and events_digest[:LOCATOR] != events_loc:
                self.r.add(
                    f"finding_events of snapshot {sid}", "rows do not match the chain entry (rows altered or reordered)"
                )
                named = True
        if commitment.content_hash(e["content"].encode()) != e["content_hash"] and not named:
            self.r.add(
                name,
                "content_hash does not match the entry's content and the rows it commits to (entry content altered)",
            )
        for sid, row, events in rows:
            self.replay(sid, self.rec.snapshots[sid], events, row["results_hash"])

    def collection(self, name: str, sid: int, content: dict[str, Any]) -> None:
        """A legacy collection entry: the snapshot's fields and its events' hash spelled out."""
        row = self.rec.snapshots.get(sid)
        if row is None:
            self.r.add(name, f"snapshots row {sid} is missing (removed)")
            return
        self.seen_snapshots.add(sid)
        expected = {
            "run": row["run_id"],
            "snapshot": row["id"],
            "source": row["source"],
            "provider": row["provider"],
            "account": row["account"],
            "started_at": row["started_at"],
            "finished_at": row["finished_at"],
            "status": row["status"],
            "errors": json.loads(row["errors"]),
            "manifest_hash": row["manifest_hash"],
            "results_hash": row["results_hash"],
            "resource_count": row["resource_count"],
        }
        for d in _diff(expected, content):
            self.r.add(f"snapshots id {sid}", f"{d} (row altered)")
        events = _strip_id(self.rec.events.get(sid, []))
        if "events_hash" in content:
            if len(events) != content.get("event_count"):
                self.r.add(
                    f"finding_events of snapshot {sid}",
                    f"{len(events)} rows but the chain entry records {content.get('event_count')} "
                    "(rows removed or inserted)",
                )
            elif sha256_hex(canonical_json(events)) != content["events_hash"]:
                self.r.add(
                    f"finding_events of snapshot {sid}",
                    "rows do not match the chain entry's events_hash (rows altered or reordered)",
                )
        self.replay(sid, row, events, content.get("results_hash"), content.get("finding_count"))

    def replay(
        self,
        sid: int,
        row: dict[str, Any],
        events: list[dict[str, Any]],
        recorded: str | None,
        finding_count: int | None = None,
    ) -> None:
        """Apply a snapshot's finding events to the replayed state of its source/account and compare
        the result set with the results hash recorded for the snapshot."""
        key = (str(row["source"]), str(row["account"]))
        state = self.state.get(key)
        if state is None:
            if self.rec.baseline_required and key not in self.missing_baseline:
                # removing a source's baseline would drop its failures open at the start and skip this check
                self.missing_baseline.add(key)
                self.r.add(
                    f"chain/segment.json baseline of {key[0]}/{key[1]}",
                    "missing, although the bundle does not say its history was pruned (baseline removed)",
                )
            if not self.rec.complete or self.r.pruned_through:
                return  # no baseline before this point (pruned or outside the bundle): events only
            state = self.state.setdefault(key, {})
        results = self.results.setdefault(key, ResultSetHash())
        for ev in events:
            uid = ev["uid"]
            old = state.get(uid)
            if old is not None and old[1] != STARVED_MESSAGE:
                results.remove(uid, old[0], old[1])
            if ev["status"] == "gone":
                state.pop(uid, None)
            else:
                state[uid] = [ev["status"], ev["message"]]
                if ev["message"] != STARVED_MESSAGE:
                    results.add(uid, ev["status"], ev["message"])
        if events or key not in self.last_results:
            fast = results.hexdigest()
            ok = _matches_results(state, recorded, fast)
            self.last_results[key] = recorded if ok and recorded is not None else fast
        else:
            ok = self.last_results[key] == recorded
        if not ok:
            self.r.add(
                f"finding_events up to snapshot {sid}",
                "the result set replayed from the finding events does not match the recorded "
                "results_hash (evaluation results altered, removed or inserted)",
            )
        elif finding_count is not None and events:
            count = len(_evaluated(state))
            if count != finding_count:
                self.r.add(f"snapshots id {sid}", f"{count} findings replayed, the chain entry records {finding_count}")

    def drift(self, name: str, sid: int, content: dict[str, Any]) -> None:
        rows = _strip_id(self.rec.drift.get(sid, []))
        self.seen_drift.add(sid)
        recorded = content.get("events", [])
        if len(rows) != len(recorded):
            self.r.add(
                f"drift_events of snapshot {sid}",
                f"{len(rows)} rows but the chain entry records {len(recorded)} (rows removed or inserted)",
            )
            return
        for i, (row, rec) in enumerate(zip(rows, recorded, strict=True)):
            diffs = _diff(row, rec)
            if diffs:
                rid = self.rec.drift[sid][i].get("id")
                self.r.add(f"drift_events id {rid}", "; ".join(diffs) + " (row altered or reordered)")

    def manual(self, name: str, mid: int, content: dict[str, Any]) -> None:
        row = self.rec.manual.get(mid)
        if row is None:
            self.r.add(name, f"manual_evidence row {mid} is missing (removed)")
            return
        self.seen_manual.add(mid)
        expected = {k: row[k] for k in AUDITED_COLUMNS["manual_evidence"]}
        for d in _diff(expected, content):
            self.r.add(f"manual_evidence id {mid}", f"{d} (row altered)")
        if row.get("content_sha256") != content.get("sha256"):
            self.r.add(f"manual_evidence id {mid}", "the stored document does not match its SHA-256 (document altered)")

    def exception(self, name: str, xid: int, content: dict[str, Any]) -> None:
        row = self.rec.exceptions.get(xid)
        if row is None:
            self.r.add(name, f"exceptions row {xid} is missing (removed)")
            return
        self.seen_exceptions.add(xid)
        expected = {k: row[k] for k in AUDITED_COLUMNS["exceptions"]}
        for d in _diff(expected, content):
            self.r.add(f"exceptions id {xid}", f"{d} (row altered)")

    def alert(self, name: str, oid: int, content: dict[str, Any]) -> None:
        row = self.rec.outbox.get(oid)
        if row is None:
            self.r.add(name, f"alerts_outbox row {oid} is missing (removed)")
            return
        expected = {
            "outbox_id": row["id"],
            "channel": row["channel"],
            "kind": row["kind"],
            "dedup_key": row["dedup_key"],
        }
        for d in _diff(expected, content):
            self.r.add(f"alerts_outbox id {oid}", f"{d} (row altered)")

    def prune(self, name: str, content: dict[str, Any]) -> None:
        """A retention prune: the manual documents and exceptions it keeps are vouched for again."""
        tables = {
            "manual_evidence": (self.rec.manual, self.seen_manual),
            "exceptions": (self.rec.exceptions, self.seen_exceptions),
        }
        for table, kept in (content.get("kept") or {}).items():
            rows, seen = tables.get(table, ({}, set()))
            for rid, expected in kept.items():
                row = rows.get(int(rid))
                if row is None:
                    if self.rec.complete:
                        self.r.add(name, f"{table} row {rid} is missing (removed)")
                    continue
                seen.add(int(rid))
                if kept_row_hash(row, table) != expected:
                    self.r.add(f"{table} id {rid}", "does not match the hash the prune entry keeps (row altered)")
                elif table == "manual_evidence" and row.get("content_sha256") != row.get("sha256"):
                    self.r.add(f"{table} id {rid}", "the stored document does not match its SHA-256 (document altered)")

    # -- rows nothing in the chain vouches for --------------------------------------------------

    def unchained(self) -> None:
        for rid in sorted(set(self.rec.runs) - self.seen_runs):
            self.r.add(f"runs id {rid}", "not in the evidence chain (inserted, or its entry removed)")
        for sid in sorted(set(self.rec.snapshots) - self.seen_snapshots):
            self.r.add(f"snapshots id {sid}", "not in the evidence chain (inserted, or its entry removed)")
        for sid in sorted(set(self.rec.events) - set(self.rec.snapshots)):
            self.r.add(f"finding_events of snapshot {sid}", "refer to a snapshot that does not exist")
        for sid in sorted(set(self.rec.drift) - self.seen_drift):
            self.r.add(f"drift_events of snapshot {sid}", "not in the evidence chain (inserted, or its entry removed)")
        for mid in sorted(set(self.rec.manual) - self.seen_manual):
            self.r.add(f"manual_evidence id {mid}", "not in the evidence chain (inserted, or its entry removed)")
        for xid in sorted(set(self.rec.exceptions) - self.seen_exceptions):
            self.r.add(f"exceptions id {xid}", "not in the evidence chain (inserted, or its entry removed)")

    # -- blobs and manifests --------------------------------------------------------------------

    def blobs(self) -> None:
        if self.rec.blobs_unavailable:
            self.r.add(f"blobs of {self.rec.where}", self.rec.blobs_unavailable)
            return
        known: set[str] = set()
        # small manifests (the per-cycle deltas) kept from this one pass, so walking the manifests
        # does not fetch each of them again (35,000 lookups a year)
        small_manifests: dict[str, bytes] = {}
        # large (full) manifests a reader can hand over one at a time are read once, by the walk:
        # a year holds some 550 of 1 MB each, read, hashed and decoded once rather than twice
        deferred = self.rec.deferred_blobs() if self.rec.deferred_blobs is not None else set()
        rows = self.rec.blob_rows(skip=deferred) if deferred else self.rec.blob_rows()
        for n, row in enumerate(rows):
            raw = self.check_blob(row)
            known.add(row[0])
            if raw is not None and row[1] == "manifest" and len(raw) <= _KEEP_MANIFEST_BYTES:
                small_manifests[row[0]] = raw
            if n % 5000 == 0:
                self.progress("blobs", n)
        known |= deferred
        self.r.blobs = len(known)
        pending = set(deferred)
        if pending and self.rec.plan_blob_rows is not None:  # the order the walk reads them in
            self.rec.plan_blob_rows(
                [
                    h
                    for h in dict.fromkeys(
                        self.rec.snapshots[sid]["manifest_hash"] for sid in sorted(self.seen_snapshots)
                    )
                    if h in pending
                ]
            )
        self.manifests(known, small_manifests, pending)
        for h in sorted(pending):  # present but not reached by any snapshot: checked all the same
            self.read_deferred(h, pending)

    def check_blob(self, row: Any) -> bytes | None:
        """A blob against its address and size; its body, or None when it could not be read."""
        h, _, size, raw = row[:4]
        if isinstance(raw, Unreadable):
            self.r.add(f"blobs {h}", raw.problem)
            return None
        # a reader that already hashed the body (a bundle checks each file against its manifest) hands
        # the digest over: a year's blobs hold some 600 MB, hashed once
        if (row[4] if len(row) > 4 and row[4] else sha256_hex(raw)) != h:
            self.r.add(f"blobs {h}", "body does not hash to its address (altered)")
        elif len(raw) != size:
            self.r.add(f"blobs {h}", f"size says {size}, body has {len(raw)} bytes (altered)")
        body: bytes = raw
        return body

    def read_deferred(self, h: str, pending: set[str]) -> bytes | None:
        """A deferred blob read (and checked like every other) the first time it is needed."""
        pending.discard(h)
        row = self.rec.blob_row(h) if self.rec.blob_row is not None else None
        if row is None:
            self.r.add(f"blobs {h}", "listed but cannot be read")
            return None
        return self.check_blob(row)

    def manifests(self, known: set[str], small: dict[str, bytes], pending: set[str] | None = None) -> None:
        current: dict[tuple[str, str], tuple[str, dict[str, str]]] = {}
        decoded: dict[str, Manifest] = {}
        pending = pending if pending is not None else set()

        def body_of(h: str) -> bytes | None:
            if h in small:
                return small[h]
            if h in pending:
                return self.read_deferred(h, pending)
            return self.rec.blob(h) if h in known else None

        def load(h: str) -> Manifest | None:
            m = decoded.get(h)
            if m is None:
                body = body_of(h)
                if body is None:
                    return None
                try:
                    m = Manifest.decode(body)
                except (ValueError, KeyError, TypeError):  # not a manifest body: named below
                    return None
                if m.base is not None:  # full ones are 1 MB apiece: their mapping is kept in ``current``
                    if len(decoded) > 256:
                        decoded.clear()
                    decoded[h] = m
            return m

        def raw(h: str) -> bytes:
            body = body_of(h)
            if body is None:
                raise KeyError(h)
            return body

        def resolve(h: str) -> dict[str, str] | None:
            try:
                return resolve_manifest(h, raw)
            except (KeyError, ValueError, TypeError):  # a base missing or unreadable, or a chain too long
                return None

        for sid in sorted(self.seen_snapshots):
            row = self.rec.snapshots[sid]
            key, h = (row["source"], row["account"]), row["manifest_hash"]
            cur = current.get(key)
            if cur is not None and cur[0] == h:
                mapping = cur[1]
            else:
                m = load(h)
                if m is None:
                    self.r.add(
                        f"snapshots id {sid}",
                        f"manifest {h} is missing from the blobs"
                        if h not in known
                        else f"manifest {h} cannot be read as a manifest (altered)",
                    )
                    continue
                if cur is not None and m.base == cur[0]:
                    mapping = cur[1]  # the usual delta on the previous manifest: applied in place
                    for rid in m.removed:
                        mapping.pop(rid, None)
                    mapping.update(m.items)
                    new_items: Iterable[str] = m.items.values()
                elif m.base is None:
                    # a full manifest, already decoded (not kept elsewhere: its mapping is used as it is). All
                    # its bodies are looked up: one C-level set pass costs less than picking out in Python
                    # the few the previous mapping does not name
                    mapping = m.items if isinstance(m.items, dict) else dict(m.items)
                    new_items = mapping.values()
                else:
                    resolved = resolve(h)
                    if resolved is None:
                        self.r.add(f"snapshots id {sid}", f"manifest {h} or one of its bases is missing")
                        continue
                    mapping = resolved
                    new_items = mapping.values()
                # the usual answer (all present) from one C-level pass; the list only when something is missing
                missing = [] if known.issuperset(new_items) else [x for x in new_items if x not in known]
                if missing:
                    self.r.add(
                        f"snapshots id {sid}",
                        f"{len(missing)} resource bodies of its manifest are missing, e.g. blob {missing[0]}",
                    )
                current[key] = (h, mapping)
            errors_hash = errors_blob(row.get("errors"))
            if errors_hash is not None and errors_hash not in known:
                self.r.add(
                    f"snapshots id {sid}",
                    f"its collection errors, blob {errors_hash}, are missing from the blobs (removed)",
                )
            if len(mapping) != int(row["resource_count"]):
                self.r.add(
                    f"snapshots id {sid}",
                    f"manifest lists {len(mapping)} resources, resource_count says {row['resource_count']}",
                )
            self.r.snapshots += 1


def verify_records(
    rec: Records,
    *,
    trust: Trust | None = None,
    public_keys: Iterable[Ed25519PublicKey] = (),
    require_signed: bool = False,
    progress: Progress | None = None,
) -> VerifyReport:
    """Verify ``rec``. ``trust``: what the auditor pinned (keys, fingerprints, TSAs, anchor bucket); with a
    key or fingerprint pinned, checkpoints are required, signed by a pinned key or one reached through
    rotations, at their signed cadence over the whole period. ``public_keys`` and ``require_signed``
    are the first spelling of this API: those keys only check checkpoint signatures."""
    pinned = trust is not None and trust.pinned
    trust = trust or Trust()
    report = VerifyReport(pinned=pinned)
    check = CheckpointCheck(
        rec.checkpoints,
        report,
        where="evidence_checkpoints" if rec.complete else "chain/checkpoints.jsonl",
        complete=rec.complete,
        key_checkpoints=rec.key_checkpoints,
        pinned=pinned,
        fingerprints=trust.fingerprints,
        keys=trust.public_keys if pinned else tuple(public_keys),
        material=rec.keys,
        require_signed=require_signed,
        tolerance=trust.tolerance,
        max_cadence=trust.max_cadence,
    )
    tokens = TokenChecks(rec, trust.tsa_certs).start()  # in a second process while the chain is checked
    v = _Verifier(rec, report, check, progress)
    pruned, pruned_hash = check.links()
    check.signatures()
    if rec.anchor_seq is not None:
        anchor_seq, anchor_prev = rec.anchor_seq, rec.anchor_prev or GENESIS
    else:
        anchor_seq, anchor_prev = pruned + 1, pruned_hash
    v.chain(anchor_seq, anchor_prev)
    check_witnesses(rec, trust, report, tokens.results())
    if pinned:
        check.cadence(rec.entries, rec.period_start, rec.period_end, pruned, made_at=rec.made_at)
    if rec.manifest is not None:
        check.manifest(rec.manifest, rec.manifest_sig)
    if rec.complete:
        v.unchained()
    elif rec.vouchers is not None:
        v.vouchers()
        v.unvouched()
    v.blobs()
    if not pinned:
        report.notes.append(NOT_PINNED)
    return report

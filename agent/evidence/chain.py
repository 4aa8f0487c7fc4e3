"""Verify evidence without trusting the database: recompute every entry hash and the chain links,
recompute each entry's content from the rows it describes, replay finding events into result sets
and compare them with the recorded results hashes, walk every manifest, rehash every blob, check
checkpoints and their signatures, and name every record that does not add up.

Stores written before cycle entries existed hold a ``run`` entry and a ``collection`` entry per
snapshot with the row fields spelled out, and results hashes of the first definition; both are
still verified."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from agent.evidence import checkpoints as cps
from agent.evidence.records import AUDITED_COLUMNS, STARVED_MESSAGE, Records, kept_row_hash
from agent.models import canonical_json, sha256_hex
from agent.store.blobs import Manifest, decompress, resolve_manifest
from agent.store.chain import GENESIS, LOCATOR, CycleCommitment, entry_hash, run_fields, snapshot_fields
from agent.store.resultset import ResultSetHash, legacy_results_hash

__all__ = ["Issue", "VerifyReport", "entry_hash_of", "verify_records"]

Progress = Callable[[str, int], None]
_KEEP_MANIFEST_BYTES = 16_384


@dataclass(frozen=True)
class Issue:
    record: str  # which record: "evidence_log seq 12", "snapshots id 5", "file chain/entries.jsonl"
    problem: str

    def __str__(self) -> str:
        return f"{self.record}: {self.problem}"


@dataclass
class VerifyReport:
    issues: list[Issue] = field(default_factory=list)
    entries: int = 0
    first_seq: int | None = None
    last_seq: int | None = None
    checkpoints: int = 0
    signatures_checked: int = 0
    signatures_unchecked: int = 0
    blobs: int = 0
    snapshots: int = 0
    pruned_through: int = 0

    @property
    def ok(self) -> bool:
        return not self.issues

    def add(self, record: str, problem: str) -> None:
        self.issues.append(Issue(record, problem))

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "entries": self.entries, "first_seq": self.first_seq, "last_seq": self.last_seq,
                "checkpoints": self.checkpoints, "signatures_checked": self.signatures_checked,
                "signatures_unchecked": self.signatures_unchecked, "blobs": self.blobs,
                "snapshots": self.snapshots, "pruned_through": self.pruned_through,
                "issues": [{"record": i.record, "problem": i.problem} for i in self.issues]}


def entry_hash_of(e: dict[str, Any]) -> str:
    """agent.store.chain.entry_hash over a normalised row (``at`` already the canonical string)."""
    return entry_hash(seq=int(e["seq"]), at=e["at"], kind=e["kind"], ref=e["ref"], content_hash=e["content_hash"],
                      prev_hash=e["prev_hash"])


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


class _Verifier:
    def __init__(self, rec: Records, report: VerifyReport, keys: list[Ed25519PublicKey],
                 require_signed: bool, progress: Progress | None) -> None:
        self.rec, self.r, self.keys, self.require_signed = rec, report, keys, require_signed
        self.progress = progress or (lambda _stage, _n: None)
        self.seen_runs: set[str] = set()
        self.seen_snapshots: set[int] = set()
        self.seen_drift: set[int] = set()
        self.seen_manual: set[int] = set()
        self.seen_exceptions: set[int] = set()
        # run id -> its snapshot ids, built once: a year holds tens of thousands of each
        self.snapshots_of_run: dict[str, list[int]] = {}
        for sid, snap in rec.snapshots.items():
            self.snapshots_of_run.setdefault(snap["run_id"], []).append(sid)
        self.state: dict[tuple[str, str], dict[str, list[str]]] = {
            k: {u: list(v) for u, v in st.items()} for k, st in rec.baseline.items()}
        # per (source, account): the running hash of the evaluated result set, updated per event
        self.results: dict[tuple[str, str], ResultSetHash] = {
            k: ResultSetHash((u, s, m) for u, (s, m) in _evaluated(st).items()) for k, st in self.state.items()}
        self.last_results: dict[tuple[str, str], str] = dict(rec.baseline_results)
        for key, expected in rec.baseline_results.items():
            st = self.state.get(key, {})
            fast = self.results.get(key, ResultSetHash()).hexdigest()
            if not _matches_results(st, expected, fast):
                report.add(f"baseline of {key[0]}/{key[1]}", "does not hash to the results_hash of the "
                           "snapshot before the period (baseline altered)")

    # -- checkpoints ---------------------------------------------------------------------------

    def checkpoints(self) -> tuple[int, str]:
        """Check every checkpoint; returns (pruned_through, pruned_hash) to anchor the chain."""
        prev: dict[str, Any] | None = None
        pruned, pruned_hash = 0, GENESIS
        by_id = {cps.key_id(k): k for k in self.keys}
        for c in self.rec.checkpoints:
            name = f"evidence_checkpoints seq {c['seq']}"
            self.r.checkpoints += 1
            data = cps.body(c)
            if sha256_hex(data) != c["checkpoint_hash"]:
                self.r.add(name, "checkpoint_hash does not match its content (checkpoint altered)")
            if prev is not None and int(c["seq"]) == int(prev["seq"]) + 1 and c["prev_hash"] != prev["checkpoint_hash"]:
                self.r.add(name, "prev_hash does not match the previous checkpoint (checkpoints altered or reordered)")
            if prev is not None and int(c["seq"]) != int(prev["seq"]) + 1:
                self.r.add(name, f"checkpoints {int(prev['seq']) + 1}..{int(c['seq']) - 1} are missing")
            if c.get("signature"):
                key = by_id.get(str(c.get("key_id"))) or (self.keys[0] if len(self.keys) == 1 else None)
                if key is None:
                    if self.require_signed:
                        self.r.add(name, f"signed by key {c.get('key_id')}, not by the public key given")
                    else:
                        self.r.signatures_unchecked += 1
                elif cps.verify_signature(c, key):
                    self.r.signatures_checked += 1
                else:
                    self.r.add(name, "Ed25519 signature does not verify (checkpoint forged or altered)")
            elif self.require_signed:
                self.r.add(name, "not signed, but a public key was given to verify signatures")
            if int(c["pruned_through"]) > pruned:
                pruned, pruned_hash = int(c["pruned_through"]), c["pruned_hash"]
            prev = c
        self.r.pruned_through = pruned
        return pruned, pruned_hash

    def checkpoint_heads(self, by_seq: dict[int, dict[str, Any]], last: int | None) -> None:
        for c in self.rec.checkpoints:
            head = int(c["head_seq"])
            name = f"evidence_checkpoints seq {c['seq']}"
            e = by_seq.get(head)
            if e is not None:
                if e["entry_hash"] != c["head_hash"]:
                    self.r.add(name, f"commits to entry seq {head} with hash {c['head_hash'][:16]}..., but the "
                               f"chain has {e['entry_hash'][:16]}... (chain rewritten)")
            elif last is not None and head > last and self.rec.complete:
                self.r.add(name, f"commits to entry seq {head}, but the chain ends at seq {last} "
                           "(tail of the chain removed)")
            elif last is None and head > int(c["pruned_through"]) and self.rec.complete:
                self.r.add(name, f"commits to entry seq {head}, but the chain is empty (entries removed)")

    # -- the chain -----------------------------------------------------------------------------

    def chain(self, anchor_seq: int, anchor_prev: str) -> None:
        expected, prev = anchor_seq, anchor_prev
        by_seq: dict[int, dict[str, Any]] = {}
        for n, e in enumerate(self.rec.entries):
            seq = int(e["seq"])
            name = f"evidence_log seq {seq} ({e['kind']} {e['ref']})"
            by_seq[seq] = e
            if seq > expected:
                self.r.add(f"evidence_log seq {expected}" + (f"..{seq - 1}" if seq - 1 > expected else ""),
                           "missing from the chain (entries removed)")
            elif seq < expected:
                self.r.add(name, "out of order or duplicated")
            if e["prev_hash"] != prev:
                self.r.add(name, "prev_hash does not match the entry before it (entries removed, inserted "
                           "or reordered)")
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
        self.checkpoint_heads(by_seq, self.r.last_seq)

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
        expected = {"run": row["id"], "source": row["source"], "provider": row["provider"],
                    "started_at": row["started_at"], "finished_at": row["finished_at"], "status": row["status"]}
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
            self.r.add(name, "content does not list its snapshots as [id, locator, event count, locator] "
                       "(entry content altered)")
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
                self.r.add(f"snapshots id {sid}", f"belongs to run {run_id} but {name} does not list it "
                           "(inserted)")
        commitment = CycleCommitment(run_fields(run), rows)
        named = False
        if commitment.run_digest[:LOCATOR] != content.get("run"):
            self.r.add(f"runs id {run_id}", f"does not match what {name} committed to (row altered, or the "
                       "entry)")
            named = True
        for sid, loc, count, events_loc in listed:
            digest, n, events_digest = commitment.snapshot_digests[sid]
            if digest[:LOCATOR] != loc:
                self.r.add(f"snapshots id {sid}", f"does not match what {name} committed to (row altered, or "
                           "the entry)")
                named = True
            if n != count:
                self.r.add(f"finding_events of snapshot {sid}", f"{n} rows but the chain entry records {count} "
                           "(rows removed or inserted)")
                named = True
            elif n and events_digest[:LOCATOR] != events_loc:
                self.r.add(f"finding_events of snapshot {sid}", "rows do not match the chain entry (rows "
                           "altered or reordered)")
                named = True
        if commitment.content_hash(e["content"].encode()) != e["content_hash"] and not named:
            self.r.add(name, "content_hash does not match the entry's content and the rows it commits to "
                       "(entry content altered)")
        for sid, row, events in rows:
            self.replay(sid, self.rec.snapshots[sid], events, row["results_hash"])

    def collection(self, name: str, sid: int, content: dict[str, Any]) -> None:
        """A legacy collection entry: the snapshot's fields and its events' hash spelled out."""
        row = self.rec.snapshots.get(sid)
        if row is None:
            self.r.add(name, f"snapshots row {sid} is missing (removed)")
            return
        self.seen_snapshots.add(sid)
        expected = {"run": row["run_id"], "snapshot": row["id"], "source": row["source"],
                    "provider": row["provider"], "account": row["account"], "started_at": row["started_at"],
                    "finished_at": row["finished_at"], "status": row["status"], "errors": json.loads(row["errors"]),
                    "manifest_hash": row["manifest_hash"], "results_hash": row["results_hash"],
                    "resource_count": row["resource_count"]}
        for d in _diff(expected, content):
            self.r.add(f"snapshots id {sid}", f"{d} (row altered)")
        events = _strip_id(self.rec.events.get(sid, []))
        if "events_hash" in content:
            if len(events) != content.get("event_count"):
                self.r.add(f"finding_events of snapshot {sid}",
                           f"{len(events)} rows but the chain entry records {content.get('event_count')} "
                           "(rows removed or inserted)")
            elif sha256_hex(canonical_json(events)) != content["events_hash"]:
                self.r.add(f"finding_events of snapshot {sid}",
                           "rows do not match the chain entry's events_hash (rows altered or reordered)")
        self.replay(sid, row, events, content.get("results_hash"), content.get("finding_count"))

    def replay(self, sid: int, row: dict[str, Any], events: list[dict[str, Any]], recorded: str | None,
               finding_count: int | None = None) -> None:
        """Apply a snapshot's finding events to the replayed state of its source/account and compare
        the result set with the results hash recorded for the snapshot."""
        key = (str(row["source"]), str(row["account"]))
        state = self.state.get(key)
        if state is None:
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
            self.r.add(f"finding_events up to snapshot {sid}",
                       "the result set replayed from the finding events does not match the recorded "
                       "results_hash (evaluation results altered, removed or inserted)")
        elif finding_count is not None and events:
            count = len(_evaluated(state))
            if count != finding_count:
                self.r.add(f"snapshots id {sid}", f"{count} findings replayed, the chain entry records "
                           f"{finding_count}")

    def drift(self, name: str, sid: int, content: dict[str, Any]) -> None:
        rows = _strip_id(self.rec.drift.get(sid, []))
        self.seen_drift.add(sid)
        recorded = content.get("events", [])
        if len(rows) != len(recorded):
            self.r.add(f"drift_events of snapshot {sid}", f"{len(rows)} rows but the chain entry records "
                       f"{len(recorded)} (rows removed or inserted)")
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
            self.r.add(f"manual_evidence id {mid}", "the stored document does not match its SHA-256 "
                       "(document altered)")

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
        expected = {"outbox_id": row["id"], "channel": row["channel"], "kind": row["kind"],
                    "dedup_key": row["dedup_key"]}
        for d in _diff(expected, content):
            self.r.add(f"alerts_outbox id {oid}", f"{d} (row altered)")

    def prune(self, name: str, content: dict[str, Any]) -> None:
        """A retention prune: the manual documents and exceptions it keeps are vouched for again."""
        tables = {"manual_evidence": (self.rec.manual, self.seen_manual),
                  "exceptions": (self.rec.exceptions, self.seen_exceptions)}
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
                    self.r.add(f"{table} id {rid}", "the stored document does not match its SHA-256 "
                               "(document altered)")

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
        known: set[str] = set()
        # small manifests (the per-cycle deltas) kept from this one pass, so walking the manifests
        # does not fetch each of them again (35,000 lookups a year); large full ones are re-read
        small_manifests: dict[str, bytes] = {}
        for n, (h, kind, size, body) in enumerate(self.rec.blob_rows()):
            known.add(h)
            if kind == "manifest" and len(body) <= _KEEP_MANIFEST_BYTES:
                small_manifests[h] = body
            try:
                raw = decompress(body)
            except Exception:
                self.r.add(f"blobs {h}", "body is not valid zstd (altered)")
                continue
            if sha256_hex(raw) != h:
                self.r.add(f"blobs {h}", "body does not hash to its address (altered)")
            elif len(raw) != size:
                self.r.add(f"blobs {h}", f"size says {size}, body has {len(raw)} bytes (altered)")
            if n % 5000 == 0:
                self.progress("blobs", n)
        self.r.blobs = len(known)
        self.manifests(known, small_manifests)

    def manifests(self, known: set[str], small: dict[str, bytes]) -> None:
        current: dict[tuple[str, str], tuple[str, dict[str, str]]] = {}
        decoded: dict[str, Manifest] = {}

        def load(h: str) -> Manifest | None:
            m = decoded.get(h)
            if m is None:
                body = small.get(h) or (self.rec.blob(h) if h in known else None)
                if body is None:
                    return None
                m = Manifest.decode(decompress(body))
                if len(decoded) > 256:
                    decoded.clear()
                decoded[h] = m
            return m

        def raw(h: str) -> bytes:
            body = small.get(h) or (self.rec.blob(h) if h in known else None)
            if body is None:
                raise KeyError(h)
            return decompress(body)

        def resolve(h: str) -> dict[str, str] | None:
            try:
                return resolve_manifest(h, raw)
            except (KeyError, ValueError):  # a base missing, or a chain longer than any we write
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
                    self.r.add(f"snapshots id {sid}", f"manifest {h} is missing from the blobs")
                    continue
                if cur is not None and m.base == cur[0]:
                    mapping = cur[1]  # the usual delta on the previous manifest: applied in place
                    for rid in m.removed:
                        mapping.pop(rid, None)
                    mapping.update(m.items)
                    new_items: Iterable[str] = m.items.values()
                else:
                    resolved = resolve(h)
                    if resolved is None:
                        self.r.add(f"snapshots id {sid}", f"manifest {h} or one of its bases is missing")
                        continue
                    mapping = resolved
                    new_items = mapping.values()
                missing = [x for x in new_items if x not in known]
                if missing:
                    self.r.add(f"snapshots id {sid}", f"{len(missing)} resource bodies of its manifest are "
                               f"missing, e.g. blob {missing[0]}")
                current[key] = (h, mapping)
            if len(mapping) != int(row["resource_count"]):
                self.r.add(f"snapshots id {sid}", f"manifest lists {len(mapping)} resources, resource_count "
                           f"says {row['resource_count']}")
            self.r.snapshots += 1


def verify_records(rec: Records, *, public_keys: Iterable[Ed25519PublicKey] = (), require_signed: bool = False,
                   progress: Progress | None = None) -> VerifyReport:
    report = VerifyReport()
    v = _Verifier(rec, report, list(public_keys), require_signed, progress)
    pruned, pruned_hash = v.checkpoints()
    if rec.anchor_seq is not None:
        anchor_seq, anchor_prev = rec.anchor_seq, rec.anchor_prev or GENESIS
    else:
        anchor_seq, anchor_prev = pruned + 1, pruned_hash
    v.chain(anchor_seq, anchor_prev)
    if rec.complete:
        v.unchained()
    v.blobs()
    return report

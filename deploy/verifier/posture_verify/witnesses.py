"""External witnesses of checkpoints: RFC 3161 timestamp tokens and copies in an S3 bucket with
Object Lock in compliance mode (docs/evidence-format.md, "Witnesses").

The operator holds the database, the signing key and the clock; a witness is a time they cannot set.
A checkpoint is witnessed when a token from a TSA the auditor pinned, or its copy in the bucket the
auditor controls, is intact, is about exactly this checkpoint, and its time (genTime, the object's
Last-Modified) is within the tolerance of the checkpoint's own ``at``. A witness much later than its
checkpoint means the checkpoint was written afterwards (backdated); much earlier, that its clock was
set forward. The bucket also holds what the operator cannot take back: a checkpoint there that the
records lack means they were truncated or rewritten.

Witness records (``Records.witnesses``, table ``evidence_anchors``, a bundle's chain/witnesses.jsonl):
``{"checkpoint_seq", "kind", "witness", "at", "detail", "data"}`` with kind ``rfc3161`` (data: the
base64 DER TimeStampResp, detail ``{"nonce"}``), ``rfc3161-certs`` (detail ``{"certs": [PEM, ...]}``:
the TSA's chain, once per TSA) or ``s3`` (detail ``{"key", "version_id", "etag", "retain_until"}``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

from posture_verify import checkpoints as cps
from posture_verify.canonical import isoformat, sha256_hex
from posture_verify.records import Records
from posture_verify.report import VerifyReport
from posture_verify.rfc3161 import Checked, TsaCerts
from posture_verify.s3 import (
    Credentials,
    S3Error,
    S3Reader,
    Version,
    bundle_key,
    checkpoint_key,
    checkpoint_object,
    lock_of,
    parse_bucket_url,
    store_prefix,
)
from posture_verify.token_jobs import TokenChecks, check_tokens, recorded_certs
from posture_verify.trust import Trust

__all__ = ["LEGACY_STORE", "check_manifest_witnesses", "check_witnesses", "span", "store_of"]

# the store id of a version-1 checkpoint, which names none (its copies go under this name)
LEGACY_STORE = "unnamed"
_GET_WORKERS = 16
_SHOW_EACH = 12  # checkpoints named one by one in a problem; beyond, a range


def store_of(checkpoint: dict[str, Any]) -> str:
    """The store id a checkpoint's copies are filed under."""
    return str(checkpoint.get("store") or LEGACY_STORE)


def _ts(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        return None


def span(delta: timedelta) -> str:
    """A duration for people: 12 s, 45 min, 3 h 20 min, 29 days 23 h."""
    s = int(abs(delta.total_seconds()))
    if s < 120:
        return f"{s} s"
    if s < 7200:
        return f"{s // 60} min"
    if s < 2 * 86400:
        return f"{s // 3600} h {s % 3600 // 60} min"
    return f"{s // 86400} days {s % 86400 // 3600} h"


def _checkpoint(seq: int) -> str:
    return f"evidence_checkpoints seq {seq}"


def _ranges(seqs: Iterable[int]) -> list[str]:
    """1, 2, 3, 7 -> ["1..3", "7"]"""
    runs: list[list[int]] = []
    for s in sorted(seqs):
        if runs and runs[-1][1] == s - 1:
            runs[-1][1] = s
        else:
            runs.append([s, s])
    return [f"{a}" if a == b else f"{a}..{b}" for a, b in runs]


class _Witnessing:
    def __init__(self, rec: Records, trust: Trust, report: VerifyReport) -> None:
        self.rec, self.trust, self.r = rec, trust, report
        self.cps = {int(c["seq"]): c for c in rec.checkpoints}
        self.tolerance = trust.tolerance
        self.valid: dict[int, set[str]] = {}  # seq -> kinds of valid witnesses in time
        self.why_not: dict[int, list[str]] = {}  # seq -> why a present witness does not count
        certs = TsaCerts()  # only to name a recorded certificate that cannot be read: tokens use their own
        for w in rec.witnesses:
            if w.get("kind") == "rfc3161-certs":
                for pem in (w.get("detail") or {}).get("certs", []):
                    try:
                        certs.add_pem(pem)
                    except ValueError:
                        report.add(
                            f"evidence_anchors {w.get('witness')}",
                            "a recorded TSA certificate cannot be read (altered)",
                        )
        ends = [t for t in (_ts(rec.period_end), *(_ts(c["at"]) for c in rec.checkpoints)) if t is not None]
        self.period_end = _ts(rec.period_end) if rec.period_end else (max(ends) if ends else None)
        self.skews: dict[str, list[float]] = {"rfc3161": [], "s3": []}
        self.tsas: set[str] = set()

    # -- helpers ------------------------------------------------------------------------------------

    def note(self, seq: int, why: str) -> None:
        self.why_not.setdefault(seq, []).append(why)

    def seen(
        self, seq: int | None, kind: str, witness: str, when: datetime | None, verdict: str, detail: str | None = None
    ) -> None:
        self.r.witnesses.append(
            {
                "checkpoint_seq": seq,
                "kind": kind,
                "witness": witness,
                "time": isoformat(when) if when else None,
                "verdict": verdict,
                **({"detail": detail} if detail else {}),
            }
        )

    def in_time(self, name: str, at: Any, when: datetime, what: str) -> bool:
        """A witness's time against its subject's own time: names the backdating or the forward clock."""
        own = _ts(at)
        if own is None:
            self.r.add(name, f"its time {at!r} is not a timestamp")
            return False
        skew = when - own
        if skew > self.tolerance:
            self.r.add(
                name,
                f"{what} is from {isoformat(when)}, {span(skew)} after its own time {isoformat(own)}: "
                f"it was written after its time (backdated; tolerance {span(self.tolerance)})",
            )
            return False
        if -skew > self.tolerance:
            self.r.add(
                name,
                f"{what} is from {isoformat(when)}, {span(skew)} before its own time {isoformat(own)}: "
                f"its clock was ahead of the witness (set forward; tolerance {span(self.tolerance)})",
            )
            return False
        return True

    # -- RFC 3161 tokens ----------------------------------------------------------------------------

    def tokens(self, checked: dict[int, Checked] | None = None) -> None:
        """``checked``: every checkable token's outcome by the id() of its record (TokenChecks), when
        computed beforehand in a worker process."""
        if checked is None:
            checked = TokenChecks(self.rec, self.trust.tsa_certs).results()
        for w in self.rec.witnesses:
            if w.get("kind") != "rfc3161":
                continue
            seq = int(w.get("checkpoint_seq") or 0)
            tsa = str(w.get("witness"))
            c = self.cps.get(seq)
            if c is None:
                self.r.add(
                    f"evidence_anchors of checkpoint {seq}",
                    f"an RFC 3161 token of {tsa} witnesses checkpoint "
                    f"{seq}, which is not in the {self.rec.where} (checkpoint removed)",
                )
                continue
            name, what = _checkpoint(seq), f"RFC 3161 token of {tsa}"
            res = checked.get(id(w))
            if res is None:  # token_job refused it: its data or nonce cannot be read
                self.r.add(name, f"{what}: the recorded token is not base64 DER (altered)")
                continue
            if res.problem is not None:
                self.note(seq, f"its RFC 3161 token of {tsa} does not hold")
                self.r.add(name, f"{what}: {res.problem}")
                self.seen(seq, "rfc3161", tsa, res.gen_time, "problem", res.problem)
                continue
            assert res.gen_time is not None
            recorded = _ts(w.get("at"))
            if recorded is not None and abs((recorded - res.gen_time).total_seconds()) >= 1:
                self.r.add(
                    name,
                    f"{what}: recorded as of {isoformat(recorded)}, but its genTime is "
                    f"{isoformat(res.gen_time)} (record altered)",
                )
            ok_time = self.in_time(name, c["at"], res.gen_time, what)
            own = _ts(c["at"])
            if own is not None:
                self.skews["rfc3161"].append((res.gen_time - own).total_seconds())
            self.tsas.add(f"{res.tsa} ({'pinned' if res.trusted else 'not pinned'})")
            if res.trusted and ok_time:
                self.valid.setdefault(seq, set()).add("rfc3161")
                self.seen(seq, "rfc3161", tsa, res.gen_time, "valid", f"TSA {res.tsa}, policy {res.policy}")
            else:
                if not res.trusted:
                    self.note(seq, f"its RFC 3161 token of {tsa} is from a TSA that is not pinned ({res.tsa})")
                elif not ok_time:
                    self.note(seq, f"its RFC 3161 token of {tsa} is not from its time")
                self.seen(
                    seq,
                    "rfc3161",
                    tsa,
                    res.gen_time,
                    "not from its time" if not ok_time else "not pinned",
                    res.note or f"TSA {res.tsa}, policy {res.policy}",
                )

    # -- the anchor bucket --------------------------------------------------------------------------

    def bucket(self) -> None:
        url = str(self.trust.anchor_bucket)
        try:
            bucket, prefix = parse_bucket_url(url)
        except ValueError as exc:
            self.r.add(f"anchor bucket {url}", str(exc))
            return
        reader = S3Reader(
            bucket,
            region=self.trust.s3_region,
            endpoint=self.trust.s3_endpoint,
            credentials=Credentials.from_environment(),
        )
        stores = sorted({store_of(c) for c in self.rec.checkpoints}) or (
            [self.rec.store_id] if self.rec.store_id else []
        )
        for store in stores:
            self.bucket_store(reader, url, bucket, prefix, store)
        if not stores:
            self.r.notes.append(f"anchor bucket {url}: no checkpoints to look up")

    def bucket_store(self, reader: S3Reader, url: str, bucket: str, prefix: str, store: str) -> None:
        base = f"{store_prefix(prefix, store)}/checkpoints/"
        try:
            versions = reader.list_versions(base)
        except S3Error as exc:
            self.r.add(f"anchor bucket {url}", f"cannot list s3://{bucket}/{base}: {exc}")
            return
        by_seq: dict[int, list[Version]] = {}
        for v in versions:
            stem = v.key.removeprefix(base).removesuffix(".json")
            if stem.isdigit() and v.key == checkpoint_key(prefix, store, int(stem)):
                by_seq.setdefault(int(stem), []).append(v)
        mine = {s: c for s, c in self.cps.items() if store_of(c) == store}
        recorded = {(int(w.get("checkpoint_seq") or 0)): w for w in self.rec.witnesses if w.get("kind") == "s3"}
        todo = []
        for seq, vs in sorted(by_seq.items()):
            live = [v for v in vs if not v.delete_marker]
            if seq in mine and live:
                todo.append((seq, live))
        with ThreadPoolExecutor(max_workers=_GET_WORKERS) as pool:
            fetched = list(pool.map(lambda item: self._fetch(reader, item[1][0]), todo))
        for (seq, live), got in zip(todo, fetched, strict=True):
            self.copy(bucket, mine[seq], live, got, recorded.get(seq))
        self.beyond(url, bucket, mine, by_seq)

    @staticmethod
    def _fetch(reader: S3Reader, v: Version) -> tuple[dict[str, str], bytes] | S3Error:
        try:
            return reader.get(v.key, v.version_id)
        except S3Error as exc:
            return exc

    def copy(
        self,
        bucket: str,
        c: dict[str, Any],
        live: list[Version],
        got: tuple[dict[str, str], bytes] | S3Error,
        recorded: dict[str, Any] | None,
    ) -> None:
        """The first version of a checkpoint's copy: locked, retained, the same bytes, in time; and no
        later version with other content."""
        seq, first = int(c["seq"]), live[0]
        name, what = _checkpoint(seq), f"its copy s3://{bucket}/{first.key}"
        if isinstance(got, S3Error):
            self.note(seq, "its copy in the anchor bucket cannot be read")
            self.r.add(name, f"{what} (version {first.version_id}) cannot be read: {got}")
            return
        headers, data = got
        problems = []
        mode, until = lock_of(headers)
        if mode != "COMPLIANCE":
            problems.append(
                f"is not locked in compliance mode (Object Lock mode: {mode or 'none'}): it can be deleted or replaced"
            )
        elif until is None or (self.period_end is not None and until <= self.period_end):
            problems.append(
                f"is retained only until {isoformat(until) if until else 'no date'}, not beyond the "
                f"end of the period {isoformat(self.period_end) if self.period_end else ''}"
            )
        expected = checkpoint_object(cps.body(c), c.get("signature"))
        if data != expected:
            problems.append(
                f"differs from the checkpoint ({self._difference(data, expected)}): the checkpoint was "
                "rewritten after it was anchored"
            )
        for later in live[1:]:
            if later.etag != first.etag:
                problems.append(
                    f"was written again on {isoformat(later.last_modified)} with other content "
                    f"(version {later.version_id}): an attempt to rewrite the witness"
                )
        if recorded is not None:
            vid = (recorded.get("detail") or {}).get("version_id")
            if vid and vid not in {v.version_id for v in live}:
                problems.append(f"has no version {vid}, the one the store recorded")
        for p in problems:
            self.r.add(name, f"{what} {p}")
        ok_time = self.in_time(name, c["at"], first.last_modified, what)
        own = _ts(c["at"])
        if own is not None:
            self.skews["s3"].append((first.last_modified - own).total_seconds())
        verdict = "valid" if not problems and ok_time else "problem"
        if verdict == "valid":
            self.valid.setdefault(seq, set()).add("s3")
        else:
            self.note(
                seq,
                "its copy in the anchor bucket does not hold"
                if problems
                else "its copy in the anchor bucket is not from its time",
            )
        self.seen(
            seq,
            "s3",
            f"s3://{bucket}/{first.key}",
            first.last_modified,
            verdict,
            f"version {first.version_id}, mode {mode}, retained until {isoformat(until) if until else None}",
        )

    @staticmethod
    def _difference(data: bytes, expected: bytes) -> str:
        try:
            got = json.loads(data)
            want = json.loads(expected)
            body, want_body = json.loads(got["body"]), json.loads(want["body"])
        except (ValueError, KeyError, TypeError):
            return "not a checkpoint copy"
        fields = sorted(k for k in set(body) | set(want_body) if body.get(k) != want_body.get(k))
        if got.get("signature") != want.get("signature"):
            fields.append("signature")
        return "in " + ", ".join(fields) if fields else "in its encoding"

    def beyond(self, url: str, bucket: str, mine: dict[int, dict[str, Any]], by_seq: dict[int, list[Version]]) -> None:
        """Copies of checkpoints the records lack: after the last one (truncated), or between two; or all of
        them, when the records hold none (every checkpoint removed)."""
        if not mine:
            self.none_left(bucket, by_seq)
            return
        first, last = min(mine), max(mine)
        where = self.rec.where
        for seq, vs in sorted(by_seq.items()):
            live = [v for v in vs if not v.delete_marker]
            if seq in mine or not live:
                continue
            when = live[0].last_modified
            obj = f"s3://{bucket}/{live[0].key}"
            if seq > last:
                if self.period_end is None or when <= self.period_end + self.tolerance:
                    self.r.add(
                        _checkpoint(seq),
                        f"is in the anchor bucket ({obj}, written {isoformat(when)}) but not "
                        f"in the {where}, which ends at checkpoint {last}: the records were truncated after "
                        f"checkpoint {last}, or rewritten from there",
                    )
            elif seq > first or self.rec.complete:
                self.r.add(
                    _checkpoint(seq),
                    f"is in the anchor bucket ({obj}, written {isoformat(when)}) but not in "
                    f"the {where} (checkpoint removed)",
                )

    def none_left(self, bucket: str, by_seq: dict[int, list[Version]]) -> None:
        """The records hold no checkpoint, the bucket holds copies: of the store, every one; of a bundle,
        those written during its period."""
        start = _ts(self.rec.period_start) if self.rec.period_start else None
        found = []
        for seq, vs in sorted(by_seq.items()):
            live = [v for v in vs if not v.delete_marker]
            if not live:
                continue
            when = live[0].last_modified
            if self.rec.complete or (
                (start is None or when >= start - self.tolerance)
                and (self.period_end is None or when <= self.period_end + self.tolerance)
            ):
                found.append((seq, when, live[0].key))
        if found:
            first, last = found[0], found[-1]
            seqs = f"{first[0]}..{last[0]}" if len(found) > 1 else str(first[0])
            self.r.add(
                f"evidence_checkpoints seq {seqs}",
                f"{len(found)} in the anchor bucket (s3://{bucket}/"
                f"{first[2]}{' ...' if len(found) > 1 else ''}, written {isoformat(first[1])}.."
                f"{isoformat(last[1])}) but none in the {self.rec.where}: every checkpoint removed",
            )

    # -- required -----------------------------------------------------------------------------------

    def required(self) -> None:
        given = " and ".join(
            x
            for x in (
                "--tsa-cert" if self.trust.tsa_certs else "",
                "--anchor-bucket" if self.trust.anchor_bucket else "",
            )
            if x
        )
        if not self.trust.witnesses_required:
            return
        if not self.cps:
            self.r.add(self.rec.where, f"has no checkpoints, so nothing in it is witnessed ({given} given)")
            return
        bare = [s for s in sorted(self.cps) if not self.valid.get(s)]
        if not bare:
            return
        if len(bare) == len(self.cps) and not self.why_not:
            what = "no RFC 3161 tokens" + (" and no copies in the anchor bucket" if self.trust.anchor_bucket else "")
            self.r.add(
                self.rec.where,
                f"carries no witnesses at all ({what}), although {given} was given: the "
                f"times of its {_count(len(self.cps), 'checkpoint')} rest on the operator's word alone",
            )
            return
        reasons: dict[str, list[int]] = {}
        for s in bare:
            why = "; ".join(self.why_not.get(s, [])) or (
                "no RFC 3161 token" + (" and no copy in the anchor bucket" if self.trust.anchor_bucket else "")
            )
            if self.trust.anchor_bucket and not any("anchor bucket" in x for x in self.why_not.get(s, [])):
                why += "; no copy in the anchor bucket" if s in self.why_not else ""
            reasons.setdefault(why, []).append(s)
        for why, seqs in reasons.items():
            if len(seqs) <= _SHOW_EACH:
                for s in seqs:
                    self.r.add(_checkpoint(s), f"has no valid witness ({why}): its time rests on the operator's word")
            else:
                self.r.add(
                    f"evidence_checkpoints seq {', '.join(_ranges(seqs))}",
                    f"{len(seqs)} checkpoints have no valid witness ({why}): their times rest on the operator's word",
                )

    def summary(self) -> None:
        tokens = [w for w in self.r.witnesses if w["kind"] == "rfc3161"]
        copies = [w for w in self.r.witnesses if w["kind"] == "s3"]
        if tokens:
            worst = span(timedelta(seconds=max((abs(x) for x in self.skews["rfc3161"]), default=0)))
            self.r.notes.append(
                f"witnesses: {_count(len(tokens), 'RFC 3161 token')} from "
                f"{', '.join(sorted(self.tsas))}, genTime at most {worst} from their checkpoints"
            )
        recorded = sum(1 for w in self.rec.witnesses if w.get("kind") == "s3")
        if self.trust.anchor_bucket:
            worst = span(timedelta(seconds=max((abs(x) for x in self.skews["s3"]), default=0)))
            self.r.notes.append(
                f"witnesses: {_count(len(copies), 'checkpoint copy', 'checkpoint copies')} in "
                f"{self.trust.anchor_bucket}, written at most {worst} from their checkpoints"
            )
        elif recorded:
            self.r.notes.append(
                f"witnesses: {_count(recorded, 'checkpoint copy', 'checkpoint copies')} in an S3 "
                "bucket recorded but not checked (give --anchor-bucket s3://BUCKET/PREFIX)"
            )
        if tokens and not self.trust.tsa_certs:
            self.r.notes.append(
                "witnesses: the TSA was not pinned (--tsa-cert): the tokens are intact, but who "
                "signed them is not established"
            )


def _count(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else many or one + 's'}"


def check_witnesses(
    rec: Records, trust: Trust, report: VerifyReport, checked: dict[int, Checked] | None = None
) -> None:
    """Check every witness of every checkpoint of ``rec`` against what the auditor trusts; with
    ``trust.witnesses_required`` every checkpoint must have a valid one. ``checked``: the tokens'
    outcomes computed beforehand (TokenChecks.start), else they are checked here."""
    w = _Witnessing(rec, trust, report)
    w.tokens(checked)
    if trust.anchor_bucket:
        w.bucket()
    w.required()
    w.summary()


def check_manifest_witnesses(
    rec: Records, manifest: dict[str, Any], body: bytes, tsr: bytes | None, trust: Trust, report: VerifyReport
) -> None:
    """A bundle manifest's own witnesses: its RFC 3161 token (manifest.tsr over ``body``, the
    manifest's canonical body) and, with an anchor bucket, its copy there. The manifest declares
    which it was given (``"witnesses"``), so a removed one is missed."""
    declared: dict[str, Any] = manifest["witnesses"] if isinstance(manifest.get("witnesses"), dict) else {}
    name = "file manifest.tsr"
    if tsr is None:
        if declared.get("rfc3161"):
            report.add(name, "missing, although the manifest says it was timestamped (removed)")
    else:
        res = check_tokens([(tsr, body, None)], trust.tsa_certs, recorded_certs(rec))[0]
        if res.problem is not None:
            report.add(name, f"{res.problem.replace('what it is recorded for', 'the manifest')}")
        else:
            assert res.gen_time is not None
            skew = res.gen_time - (_ts(manifest.get("generated_at")) or res.gen_time)
            if abs(skew) > trust.tolerance:
                report.add(
                    name,
                    f"its genTime {isoformat(res.gen_time)} is {span(skew)} from the manifest's "
                    f"generated_at {manifest.get('generated_at')} (tolerance {span(trust.tolerance)})",
                )
            if trust.tsa_certs and not res.trusted:
                report.add(name, f"{res.note} (the manifest's time is not witnessed by a pinned TSA)")
            report.witnesses.append(
                {
                    "checkpoint_seq": None,
                    "kind": "rfc3161",
                    "witness": "manifest.tsr",
                    "time": isoformat(res.gen_time),
                    "verdict": "valid",
                    "detail": f"TSA {res.tsa}, policy {res.policy}",
                }
            )
            report.notes.append(
                f"witnesses: the manifest was timestamped at {isoformat(res.gen_time)} by {res.tsa}"
                + ("" if res.trusted else " (not pinned)")
            )
    if not trust.anchor_bucket:
        return
    try:
        bucket, prefix = parse_bucket_url(trust.anchor_bucket)
    except ValueError:
        return  # named by check_witnesses
    if not rec.checkpoints:
        return
    # the manifest is filed under its store (that of the bundle's latest checkpoint)
    store = str(manifest.get("store") or store_of(max(rec.checkpoints, key=lambda c: int(c["seq"]))))
    digest = sha256_hex(body)
    reader = S3Reader(
        bucket, region=trust.s3_region, endpoint=trust.s3_endpoint, credentials=Credentials.from_environment()
    )
    key = bundle_key(prefix, store, digest)
    try:
        live = [v for v in reader.list_versions(key) if v.key == key and not v.delete_marker]
    except S3Error as exc:
        report.add(f"anchor bucket {trust.anchor_bucket}", f"cannot list s3://{bucket}/{key}: {exc}")
        return
    if not live:
        if declared.get("s3"):
            report.add(
                "file manifest.json",
                f"has no copy s3://{bucket}/{key} in the anchor bucket, although it "
                f"says it was copied to {declared.get('s3')} (manifest altered, or copied elsewhere)",
            )
        return
    try:
        headers, data = reader.get(key, live[0].version_id)
    except S3Error as exc:
        report.add("file manifest.json", f"its copy s3://{bucket}/{key} cannot be read: {exc}")
        return
    mode, until = lock_of(headers)
    if mode != "COMPLIANCE":
        report.add(
            "file manifest.json",
            f"its copy s3://{bucket}/{key} is not locked in compliance mode (mode: {mode or 'none'})",
        )
    if data != body:
        report.add("file manifest.json", f"its copy s3://{bucket}/{key} differs from the manifest (altered)")
    report.witnesses.append(
        {
            "checkpoint_seq": None,
            "kind": "s3",
            "witness": f"s3://{bucket}/{key}",
            "time": isoformat(live[0].last_modified),
            "verdict": "valid" if mode == "COMPLIANCE" and data == body else "problem",
            "detail": f"retained until {isoformat(until) if until else None}",
        }
    )

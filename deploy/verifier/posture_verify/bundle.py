"""Offline verification of an exported bundle: no database, no network (docs/evidence-format.md,
"Bundle").

First every file against manifest.json (altered, missing, extra or duplicated files), then the chain
segment and the records with the same code that verifies the agent's store. Zip directory entries
(names ending in "/") and the order of the files in the zip do not count, so a bundle unpacked and
zipped again with another tool still verifies.

Format 3 adds manifest.sig (the manifest's canonical body signed by the current key), the
checkpoints that reach the period's keys from the pinned ones (chain/key-checkpoints.jsonl), and
the vouchers of documents attached before the period with the stubs linking them to the segment.
Format 2 stores blob bodies uncompressed (``blobs/xx/<sha256>.json``, deflated by the zip). Format 1
stored them zstd-compressed (``.zst``); such a bundle is read when the Python package ``zstandard``
happens to be importable (it is wherever the agent is installed), and otherwise reported as needing
the agent.
"""

from __future__ import annotations

import hashlib
import importlib
import io
import json
import mmap
import struct
import zipfile
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from posture_verify.chain import Progress, verify_records
from posture_verify.checkpoints import fingerprint, load_public_key, manifest_body, parse_time
from posture_verify.coverage import Scope
from posture_verify.records import DEFER_MANIFEST_BYTES, BlobRow, Records, Unreadable
from posture_verify.report import VerifyReport
from posture_verify.summaries import DERIVED, SCOPE_FILE, carried_findings, derived, is_listing, listings
from posture_verify.trust import Trust
from posture_verify.witnesses import check_manifest_witnesses

__all__ = [
    "BUNDLE_FORMAT",
    "BUNDLE_FORMAT_1",
    "BUNDLE_FORMAT_2",
    "BUNDLE_FORMAT_3",
    "MANIFEST",
    "MANIFEST_SIG",
    "SIGNING_KEY",
    "UNLISTED",
    "blob_path",
    "verify_bundle",
]

BUNDLE_FORMAT = "posture-agent-evidence-bundle/4"
BUNDLE_FORMAT_3 = "posture-agent-evidence-bundle/3"
BUNDLE_FORMAT_2 = "posture-agent-evidence-bundle/2"
BUNDLE_FORMAT_1 = "posture-agent-evidence-bundle/1"
FORMATS = (BUNDLE_FORMAT, BUNDLE_FORMAT_3, BUNDLE_FORMAT_2, BUNDLE_FORMAT_1)
LISTED = (BUNDLE_FORMAT, BUNDLE_FORMAT_3)  # formats whose listings the verifier writes again
MANIFEST = "manifest.json"
MANIFEST_SIG = "manifest.sig"  # base64 Ed25519 over the manifest's canonical body
MANIFEST_TSR = "manifest.tsr"  # an RFC 3161 token over the same bytes (posture_verify.witnesses)
# what the manifest cannot list: itself and what is computed over it
UNLISTED = frozenset({MANIFEST, MANIFEST_SIG, MANIFEST_TSR})
SIGNING_KEY = "keys/signing-public.pem"
_LOCAL_HEADER = struct.Struct(zipfile.structFileHeader)  # type: ignore[attr-defined]  # a member's local header
# what the exporter computed from the records (written again here since format 4: docs/evidence-format.md
# section 10; in older bundles only bound by the manifest)
SUMMARY_FILES = ("report.html", "oscal/assessment-results.json")
SUMMARY_PREFIXES = ("summary/", "timelines/", "logs/")
_PARSED = ("chain/", "records/", SIGNING_KEY)  # files verification reads after checking them


def blob_path(hash_: str) -> str:
    """Where a format-2 bundle keeps the uncompressed body whose SHA-256 is ``hash_``."""
    return f"blobs/{hash_[:2]}/{hash_}.json"


def _legacy_blob_path(hash_: str) -> str:
    return f"blobs/{hash_[:2]}/{hash_}.zst"


def _zstd_decompress() -> Callable[[bytes], bytes] | None:
    """zstandard's decompressor when the package is importable (the agent's environment), else None.
    Loaded by name: the standalone verifier does not depend on it."""
    try:
        zstd = importlib.import_module("zstandard")
    except ImportError:
        return None
    return lambda data: bytes(zstd.ZstdDecompressor().decompress(data))


_SCAN = json.JSONDecoder().scan_once  # type: ignore[attr-defined]


def _json_value(line: bytes) -> Any:
    """json.loads(line), without its per-call overhead for the usual line (one UTF-8 JSON object or
    array, no surrounding space): a year's records hold some 200,000 lines. Anything else goes to
    json.loads as it is."""
    if line[:1] in (b"{", b"[") and line[-1:] in (b"}", b"]"):
        text = line.decode("utf-8")
        try:
            value, end = _SCAN(text, 0)
        except StopIteration:
            raise ValueError("not JSON") from None
        if end == len(text):
            return value
    return json.loads(line)


class _Zip:
    """The bundle's files by name; a file that cannot be read is reported once and read as absent.

    Members are inflated straight from the mapped file (a year's bundle holds some 80,000 of them, and
    zipfile's per-member bookkeeping costs as much as inflating a small one); anything unusual about a
    member (encryption, another compression method, a local header that does not match the central
    directory, a size or CRC-32 that does not hold) is left to zipfile, which reads it or names the fault."""

    def __init__(self, zf: zipfile.ZipFile, report: VerifyReport) -> None:
        self.zf, self.report = zf, report
        counts = Counter(i.filename for i in zf.infolist() if not i.is_dir())
        for name, n in sorted(counts.items()):
            if n > 1:
                report.add(f"file {name}", f"is in the zip {n} times (inserted)")
        self.names = set(counts)
        self._broken: set[str] = set()
        self._kept: dict[str, bytes] = {}  # read once for the manifest check, handed over on the next read
        self.readers: list[_ReadAhead] = []  # closed with the zip
        self._map: mmap.mmap | None = None
        try:
            if zf.fp is not None:
                self._map = mmap.mmap(zf.fp.fileno(), 0, access=mmap.ACCESS_READ)
        except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
            self._map = None  # not a mappable file: zipfile reads every member

    def close(self) -> None:
        for ahead in self.readers:
            ahead.close()
        if self._map is not None:
            self._map.close()
            self._map = None

    def read(self, name: str, *, keep: bool = False) -> bytes | None:
        """The member's bytes; ``keep``: also hold them for the next read of the same name."""
        if name in self._kept:
            data = self._kept[name] if keep else self._kept.pop(name)
            return data
        if name not in self.names or name in self._broken:
            return None
        try:
            inflated = self._inflate(name)
            data = inflated if inflated is not None else self.zf.read(name)
        except (zipfile.BadZipFile, zlib.error, OSError, EOFError, NotImplementedError, RuntimeError) as exc:
            # a bad CRC, a truncated or encrypted member, an unknown compression method
            self._broken.add(name)
            self.report.add(f"file {name}", f"cannot be read from the zip: {exc} (altered)")
            return None
        if keep:
            self._kept[name] = data
        return data

    def _inflate(self, name: str) -> bytes | None:
        """The member read directly, or None to let zipfile read it (and name what is wrong)."""
        mm = self._map
        info = self.zf.getinfo(name)  # the last of duplicated names, as zipfile reads
        if mm is None or info.flag_bits & 0x41 or info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            return None
        at = info.header_offset
        head = mm[at : at + _LOCAL_HEADER.size]
        if len(head) != _LOCAL_HEADER.size:
            return None
        fields = _LOCAL_HEADER.unpack(head)
        if fields[0] != zipfile.stringFileHeader:  # type: ignore[attr-defined]
            return None
        name_len, extra_len = fields[-2], fields[-1]
        start = at + _LOCAL_HEADER.size
        encoded = info.orig_filename.encode("utf-8" if info.flag_bits & 0x800 else "cp437")
        if mm[start : start + name_len] != encoded:
            return None
        start += name_len + extra_len
        raw = mm[start : start + info.compress_size]
        if len(raw) != info.compress_size:
            return None
        try:
            data = raw if info.compress_type == zipfile.ZIP_STORED else zlib.decompress(raw, -15, info.file_size or 1)
        except zlib.error:
            return None
        if len(data) != info.file_size or zlib.crc32(data) != info.CRC:
            return None
        return data

    def json(self, name: str) -> Any:
        data = self.read(name)
        if data is None:
            return None
        try:
            return json.loads(data)
        except ValueError:
            self.report.add(f"file {name}", "is not JSON")
            return None

    def jsonl(self, name: str) -> list[dict[str, Any]]:
        data = self.read(name)
        out: list[dict[str, Any]] = []
        for n, line in enumerate((data or b"").splitlines(), 1):
            if not line.strip():
                continue
            try:
                obj = _json_value(line)
            except ValueError:  # UnicodeDecodeError too
                obj = None
            if not isinstance(obj, dict):
                self.report.add(f"file {name}", f"line {n} is not a JSON object")
                continue
            out.append(obj)
        return out

    def keyed(
        self, name: str, rows: Iterable[dict[str, Any]], key: str, conv: Callable[[Any], Any]
    ) -> dict[Any, dict[str, Any]]:
        out: dict[Any, dict[str, Any]] = {}
        for n, r in enumerate(rows, 1):
            try:
                k = conv(r[key])
            except (KeyError, TypeError, ValueError):
                self.report.add(f"file {name}", f"record {n} has no valid {key!r}")
                continue
            if k in out:
                self.report.add(f"file {name}", f"{key} {k} appears more than once (inserted)")
            out[k] = r
        return out


class _ReadAhead:
    """Inflates and hashes the large blob files the verifier will ask for, in its order, a few ahead, on a
    thread of its own: zlib and SHA-256 release the GIL, so a year's 500 MB of full manifests are inflated
    while the verifier decodes the previous ones. Only the fault-free path runs there; a file it cannot
    read is left to the verifier's own read, which names the fault."""

    AHEAD = 6

    def __init__(self, z: _Zip) -> None:
        self.z = z
        self._order: list[str] = []
        self._next = 0
        self._pending: set[str] = set()  # planned, not yet submitted nor asked for
        self._futures: dict[str, Future[tuple[bytes, str] | None]] = {}
        self._pool: ThreadPoolExecutor | None = None

    def _read(self, name: str) -> tuple[bytes, str] | None:
        data = self.z._inflate(name) if name in self.z.names else None
        return (data, hashlib.sha256(data).hexdigest()) if data is not None else None

    def plan(self, names: list[str]) -> None:
        self._order, self._next = list(dict.fromkeys(names)), 0
        self._pending = set(self._order)
        if self._order and self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="posture-verify-read")
        self._fill()

    def _fill(self) -> None:
        while self._pool is not None and self._next < len(self._order) and len(self._futures) < self.AHEAD:
            name = self._order[self._next]
            self._next += 1
            if name in self._pending:  # not asked for early
                self._pending.discard(name)
                self._futures[name] = self._pool.submit(self._read, name)

    def take(self, name: str) -> tuple[bytes, str] | None:
        """The file read ahead, or None (not planned, or not readable without a fault to name)."""
        future = self._futures.pop(name, None)
        if future is None:
            self._pending.discard(name)  # asked for early (or never planned): not read ahead later
            return None
        result = future.result()
        self._fill()
        return result

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        self._futures.clear()


class _Files:
    """Every file against manifest.json. The blob files are checked when the blob pass reads them
    (a year holds some 80,000: reading each once saves seconds); ``finish`` checks any it did not."""

    def __init__(self, z: _Zip, listed: dict[str, Any], report: VerifyReport) -> None:
        self.z, self.report = z, report
        present = z.names - UNLISTED
        for name in sorted(set(listed) - present):
            report.add(f"file {name}", "listed in the manifest but missing (removed)")
        for name in sorted(present - set(listed)):
            report.add(f"file {name}", "not listed in the manifest (inserted)")
        self.pending: dict[str, Any] = {}
        for name in sorted(set(listed) & present):
            entry = listed[name]
            expected = entry.get("sha256") if isinstance(entry, dict) else None
            if name.startswith("blobs/"):
                self.pending[name] = expected
            else:
                # the chain and the records are parsed next: kept, so they are inflated once
                self.check(name, z.read(name, keep=name.startswith(_PARSED)), expected)

    def check(self, name: str, data: bytes | None, expected: Any, digest: str | None = None) -> None:
        if data is not None and (digest or hashlib.sha256(data).hexdigest()) != expected:
            self.report.add(f"file {name}", "SHA-256 differs from the manifest (altered)")

    def seen(self, name: str, data: bytes, digest: str | None = None) -> str:
        """A blob file the blob pass has read; returns its SHA-256 (hex), which the blob pass reuses: a
        format-2 blob file is the body itself, so its file digest is the digest of the body."""
        digest = digest or hashlib.sha256(data).hexdigest()
        if name in self.pending:
            self.check(name, data, self.pending.pop(name), digest)
        return digest

    def finish(self) -> None:
        for name in sorted(self.pending):
            self.check(name, self.z.read(name), self.pending[name])
        self.pending.clear()


def verify_bundle(
    path: Path | str,
    *,
    trust: Trust | None = None,
    public_keys: Iterable[Ed25519PublicKey] = (),
    public_key: Ed25519PublicKey | None = None,
    progress: Progress | None = None,
) -> VerifyReport:
    """Verify a bundle zip. ``trust``: what the auditor pinned; with a key or fingerprint pinned the
    checkpoints must cover the period, signed by a pinned key or one it rotated to, and manifest.json
    must be signed. ``public_keys``/``public_key``, the first spelling of this API, only check
    signatures. Without either, the bundle's own keys check what they can, which proves consistency only."""
    path = Path(path)
    report = VerifyReport()
    given = [*public_keys, *([public_key] if public_key is not None else [])]
    try:
        zf = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile, ValueError) as exc:
        report.add(f"bundle {path}", f"not a readable zip: {exc}")
        return report
    with zf:
        z = _Zip(zf, report)
        manifest = z.json(MANIFEST) if MANIFEST in z.names else None
        if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), dict):
            report.add(f"file {MANIFEST}", "missing or not a bundle manifest")
            z.close()
            return report
        files = _Files(z, manifest["files"], report)
        fmt = manifest.get("format")
        if fmt not in FORMATS:
            report.add(f"file {MANIFEST}", f"format is {fmt!r}, this verifier reads {', '.join(FORMATS)}")
        own: list[Ed25519PublicKey] = []
        if SIGNING_KEY in z.names:
            pem = z.read(SIGNING_KEY)
            try:
                own = [load_public_key(pem)] if pem is not None else []
            except ValueError:
                report.add(f"file {SIGNING_KEY}", "is not an Ed25519 public key in PEM")
        if own and manifest.get("key") and fingerprint(own[0]) != str(manifest["key"]).lower():
            report.add(
                f"file {SIGNING_KEY}",
                f"holds key {fingerprint(own[0])[:16]}, but the manifest names signing "
                f"key {str(manifest['key'])[:16]} (key file swapped)",
            )
        seg = z.json("chain/segment.json") if "chain/segment.json" in z.names else {}
        if not isinstance(seg, dict):
            if seg is not None:  # None: unreadable or not JSON, already said
                report.add("file chain/segment.json", "is not a JSON object")
            seg = {}
        try:
            rec = _records(z, path, fmt, seg, files, report)
            rec.keys, rec.manifest = own, manifest
            rec.store_id = str(manifest["store"]) if manifest.get("store") else None
            sig = z.read(MANIFEST_SIG)
            rec.manifest_sig = sig.decode("ascii", "replace") if sig is not None else None
            rec.period_start, rec.period_end = _period(manifest)
            rec.made_at = str(manifest["generated_at"]) if manifest.get("generated_at") else None
            if trust is not None:
                inner = verify_records(rec, trust=trust, progress=progress)
            else:
                inner = verify_records(rec, public_keys=given, require_signed=bool(given), progress=progress)
            _manifest_witnesses(z, rec, manifest, trust or Trust(), inner)
            if fmt in LISTED:
                _listings(z, rec, inner)
            if fmt == BUNDLE_FORMAT:
                try:
                    _derived(z, rec, seg, manifest, trust or Trust(), inner)
                except Exception as exc:  # records of a shape the computation cannot take: named, the rest goes on
                    inner.add(
                        f"file {SCOPE_FILE}",
                        "the summaries cannot be computed from the records: "
                        f"{type(exc).__name__}: {exc} (records or framework malformed)",
                    )
        except Exception as exc:  # a record of the wrong shape: the bundle does not verify, say where it stopped
            report.add(f"bundle {path}", f"verification stopped: {type(exc).__name__}: {exc} (records malformed)")
            files.finish()
            z.close()
            return report
        files.finish()
        z.close()
    if seg.get("last_seq") is not None and inner.last_seq != seg.get("last_seq"):
        report.add(
            "chain/entries.jsonl",
            f"ends at seq {inner.last_seq}, the segment says {seg.get('last_seq')} (tail removed)",
        )
    inner.issues[:0] = report.issues
    inner.summaries = sorted(
        n
        for n in z.names
        if (n.startswith(SUMMARY_PREFIXES) or n in SUMMARY_FILES)
        and not (fmt in LISTED and is_listing(n))
        and not (fmt == BUNDLE_FORMAT and n in DERIVED)
    )
    if inner.summaries:
        inner.notes.append(
            f"summaries: {len(inner.summaries)} files ({', '.join(inner.summaries[:4])}"
            f"{', ...' if len(inner.summaries) > 4 else ''}) are the exporter's summaries of the "
            "records; the manifest signature binds them to the key holder, but this verifier does not "
            "recompute them: rely on the verified records, not on their figures alone"
        )
    return inner


def _listings(z: _Zip, rec: Records, report: VerifyReport) -> None:
    """timelines/*.csv, logs/drift.csv and logs/alerts.csv written again from the records and compared."""
    expected = listings(
        (e for rows in rec.events.values() for e in rows),
        (d for rows in rec.drift.values() for d in rows),
        rec.outbox.values(),
    )
    for name, data in expected.items():
        got = z.read(name, keep=True)  # kept for the manifest check that follows
        if got is None:
            report.add(f"file {name}", "missing: the records give it (listing removed)")
        elif got != data:
            report.add(
                f"file {name}", "differs from the same listing written from the verified records (listing altered)"
            )
    for name in sorted(n for n in z.names if is_listing(n) and n not in expected):
        report.add(f"file {name}", "lists no records of the bundle (listing inserted)")


def _derived(
    z: _Zip, rec: Records, seg: dict[str, Any], manifest: dict[str, Any], trust: Trust, report: VerifyReport
) -> None:
    """The coverage files (summary/, logs/exceptions.csv, logs/gaps.csv, the OSCAL file, report.html) written
    again from the verified records for the framework the bundle states, and compared byte for byte."""
    raw = z.read(SCOPE_FILE, keep=True)
    if raw is None:
        report.add(
            f"file {SCOPE_FILE}",
            "missing: the bundle does not state the framework its summaries are computed for (removed)",
        )
        return
    digest = hashlib.sha256(raw).hexdigest()
    report.framework_sha256 = digest
    if trust.framework_sha256 is not None and digest != trust.framework_sha256:
        report.add(
            f"file {SCOPE_FILE}",
            f"SHA-256 {digest[:16]}... is not the framework mapping you pinned "
            f"({trust.framework_sha256[:16]}...): the summaries are computed for another mapping",
        )
    elif trust.framework_sha256 is None:
        report.notes.append(
            f"framework: the summaries are computed for the mapping in {SCOPE_FILE}, SHA-256 "
            f"{digest}; pin the one you agreed on with --framework-sha256"
        )
    try:
        scope = Scope.from_dict(json.loads(raw))
        start, end, made = (parse_time(manifest.get(k)) for k in ("from", "to", "generated_at"))
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        report.add(f"file {SCOPE_FILE}", f"is not a framework mapping ({type(exc).__name__}: {exc})")
        return
    if start is None or end is None or made is None:
        report.add(f"file {MANIFEST}", "has no valid from, to and generated_at: the summaries cannot be computed")
        return
    findings = seg.get("baseline_findings") or {}
    carried, problems = carried_findings(rec.baseline, findings if isinstance(findings, dict) else {})
    for where, what in problems:
        report.add(where, what)
    expected = derived(
        scope,
        start=start,
        end=end,
        generated=made,
        runs=rec.runs.values(),
        events=[e for rows in rec.events.values() for e in rows],
        carried=carried,
        exceptions=rec.exceptions.values(),
        documents=rec.manual.values(),
        files=rec.manual_files,
        entries=len(rec.entries),
        checkpoints=len(rec.checkpoints),
        key=str(manifest["key"]) if manifest.get("key") else None,
        start_known=not rec.baseline_pruned,
    )
    for name, data in expected.items():
        got = z.read(name, keep=True)  # kept for the manifest check that follows
        if got is None:
            report.add(f"file {name}", "missing: the records give it (summary removed)")
        elif got != data:
            report.add(
                f"file {name}",
                "differs from the same file computed from the verified records for the "
                f"framework in {SCOPE_FILE} (summary altered)",
            )
    for name in sorted(
        n for n in z.names if n.startswith(SUMMARY_PREFIXES + ("oscal/",)) and n not in expected and not is_listing(n)
    ):
        report.add(f"file {name}", "is not a file the records give (summary inserted)")


def _period(manifest: dict[str, Any]) -> tuple[str | None, str | None]:
    """The bundle's period: from ``from`` to ``to``, or to ``generated_at`` when the bundle was made
    before its period ended (no checkpoint can follow the moment of export)."""
    start, end, made = (
        parse_time(manifest.get(k)) if manifest.get(k) else None for k in ("from", "to", "generated_at")
    )
    if end is not None and made is not None and made < end:
        end = made
    return (
        str(manifest["from"]) if start is not None else None,
        end.isoformat().replace("+00:00", "Z") if end is not None else None,
    )


def _manifest_witnesses(z: _Zip, rec: Records, manifest: dict[str, Any], trust: Trust, report: VerifyReport) -> None:
    """The manifest's own witnesses (an RFC 3161 token, its copy in the anchor bucket): posture_verify.witnesses."""
    check_manifest_witnesses(rec, manifest, manifest_body(manifest), z.read(MANIFEST_TSR), trust, report)


def _records(z: _Zip, path: Path, fmt: Any, seg: dict[str, Any], files: _Files, report: VerifyReport) -> Records:
    """The bundle's records in the verifier's neutral form."""
    by_snapshot: dict[str, dict[int, list[dict[str, Any]]]] = {"finding_events": {}, "drift_events": {}}
    for name, grouped in by_snapshot.items():
        for r in z.jsonl(f"records/{name}.jsonl"):
            grouped.setdefault(int(r["snapshot_id"]), []).append(r)
    manual, documents = {}, {}
    for mid, r in z.keyed("records/manual_evidence.jsonl", z.jsonl("records/manual_evidence.jsonl"), "id", int).items():
        doc = z.read(str(r.get("file")))
        r["content_sha256"] = hashlib.sha256(doc).hexdigest() if doc is not None else "missing"
        manual[mid] = {k: v for k, v in r.items() if k != "file"}
        documents[mid] = str(r.get("file"))
    index = z.keyed("records/blobs.jsonl", z.jsonl("records/blobs.jsonl"), "hash", str)

    legacy = fmt == BUNDLE_FORMAT_1
    unzstd = _zstd_decompress() if legacy else None
    unavailable = None
    if legacy and unzstd is None:
        unavailable = (
            f"this bundle is {BUNDLE_FORMAT_1}, whose blobs are zstd-compressed; verify it with "
            "`posture-agent evidence verify` (the Python package zstandard is not installed here)"
        )

    ahead = _ReadAhead(z)
    z.readers.append(ahead)

    def body(h: str, first_read: bool = False) -> tuple[bytes | Unreadable | None, str | None]:
        """(the body, its SHA-256 when known without hashing it again)."""
        name = _legacy_blob_path(h) if legacy else blob_path(h)
        early = ahead.take(name) if first_read else None
        data: bytes | None
        digest: str | None
        if early is not None:  # read ahead on the other thread, as z.read would have (no fault found)
            data, digest = early
            files.seen(name, data, digest)
        else:
            data = z.read(name)
            digest = files.seen(name, data) if data is not None and first_read else None
        if data is None or unzstd is None:
            return data, digest
        try:
            return unzstd(data), None
        except Exception:  # zstandard.ZstdError and friends
            return Unreadable("body is not valid zstd (altered)"), None

    def blob(h: str) -> bytes | None:
        data = body(h)[0]
        return data if isinstance(data, bytes) else None

    def row(h: str, r: dict[str, Any]) -> BlobRow | None:
        data, digest = body(h, first_read=True)
        if data is None:
            return None
        return (
            (h, str(r.get("kind")), int(r["size"]), data, digest)
            if digest
            else (h, str(r.get("kind")), int(r["size"]), data)
        )

    def blob_rows(skip: set[str] | frozenset[str] = frozenset()) -> Iterator[BlobRow]:
        for h, r in index.items():
            if h in skip:
                continue
            found = row(h, r)
            if found is None:
                report.add(f"blobs {h}", "listed in records/blobs.jsonl but missing from the bundle")
                continue
            yield found

    def deferred_blobs() -> set[str]:
        """The full manifests present: the verifier reads each once, when it walks the manifests."""
        out = set()
        for h, r in index.items():
            try:
                large = r.get("kind") == "manifest" and int(r["size"]) > DEFER_MANIFEST_BYTES
            except (KeyError, TypeError, ValueError):
                continue  # named by the pass over the blobs
            if large and (_legacy_blob_path(h) if legacy else blob_path(h)) in z.names:
                out.add(h)
        return out

    def split(name: str) -> tuple[str, str]:
        src, _, acct = name.partition("\t")
        return src, acct

    linked = fmt not in (BUNDLE_FORMAT_1, BUNDLE_FORMAT_2)  # vouchers linked by stubs since format 3
    return Records(
        key_checkpoints=z.jsonl("chain/key-checkpoints.jsonl"),
        vouchers=z.jsonl("chain/vouchers.jsonl") if linked else None,
        stubs=z.jsonl("chain/stubs.jsonl"),
        witnesses=z.jsonl("chain/witnesses.jsonl"),
        entries=z.jsonl("chain/entries.jsonl"),
        checkpoints=z.jsonl("chain/checkpoints.jsonl"),
        runs=z.keyed("records/runs.jsonl", z.jsonl("records/runs.jsonl"), "id", str),
        snapshots=z.keyed("records/snapshots.jsonl", z.jsonl("records/snapshots.jsonl"), "id", int),
        events=by_snapshot["finding_events"],
        drift=by_snapshot["drift_events"],
        manual=manual,
        manual_files=documents,
        exceptions=z.keyed("records/exceptions.jsonl", z.jsonl("records/exceptions.jsonl"), "id", int),
        outbox=z.keyed("records/alerts_outbox.jsonl", z.jsonl("records/alerts_outbox.jsonl"), "id", int),
        blob=blob,
        blob_rows=blob_rows,
        deferred_blobs=deferred_blobs,
        blob_row=lambda h: row(h, index[h]),
        plan_blob_rows=lambda hashes: ahead.plan([_legacy_blob_path(h) if legacy else blob_path(h) for h in hashes]),
        baseline={split(k): v for k, v in (seg.get("baseline") or {}).items()},
        baseline_results={split(k): v for k, v in (seg.get("baseline_results") or {}).items()},
        baseline_pruned=seg.get("baseline_pruned") is True,
        baseline_required=fmt == BUNDLE_FORMAT and seg.get("baseline_pruned") is not True,
        complete=False,
        where=str(path),
        anchor_seq=seg.get("first_seq"),
        anchor_prev=seg.get("anchor_prev"),
        blobs_unavailable=unavailable,
    )

"""Signed checkpoints: periodic commitments to the chain head, each chained to the previous one, and
the rules that make them hold against the party that holds the key (docs/evidence-format.md,
"Checkpoints", "Keys", "Cadence").

A version-1 checkpoint body is the canonical JSON of (seq, at, head_seq, head_hash, pruned_through,
pruned_hash, prev_hash). A version-2 body adds ``v``, ``store`` (the store's id), ``cadence_s`` (the
longest the writer promises to let pass before the next checkpoint), ``key`` (the fingerprint of the
signing key), and ``announce`` (a raw public key, base64) on the store's first checkpoint and on a
rotation, whose ``rotate_to`` names the next key. ``checkpoint_hash`` is the SHA-256 of the body and
``signature`` the base64 Ed25519 signature of the body bytes.

With keys pinned by the auditor, every checkpoint must be signed by a pinned key or one reached from
it through rotations, and the signed checkpoints must cover the whole period at their signed
cadence: no gap, no unsigned head or tail.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from posture_verify.canonical import GENESIS, canonical_json, isoformat, sha256_hex
from posture_verify.report import VerifyReport

__all__ = [
    "DEFAULT_CADENCE_S",
    "CheckpointCheck",
    "announce_value",
    "body",
    "check_heads",
    "fingerprint",
    "key_id",
    "load_public_key",
    "manifest_body",
    "parse_time",
    "public_from_announce",
    "raw_public",
    "show_duration",
    "show_time",
    "verify_signature",
    "version",
]

# what a version-1 checkpoint, which signs no cadence, is taken to promise: the hourly job that wrote it
DEFAULT_CADENCE_S = 3600


# -- keys -------------------------------------------------------------------------------------------


def raw_public(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def fingerprint(public: Ed25519PublicKey) -> str:
    """SHA-256 hex of the 32 raw public key bytes: what an auditor pins (--key-fingerprint)."""
    return hashlib.sha256(raw_public(public)).hexdigest()


def key_id(public: Ed25519PublicKey) -> str:
    """The first 16 hex characters of the fingerprint (version-1 checkpoints name their key so)."""
    return fingerprint(public)[:16]


def announce_value(public: Ed25519PublicKey) -> str:
    """A checkpoint's ``announce``: the raw public key in standard base64."""
    return base64.b64encode(raw_public(public)).decode()


def public_from_announce(value: str) -> Ed25519PublicKey:
    """The key an ``announce`` carries; ValueError when it is not 32 bytes of base64."""
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError, TypeError):
        raise ValueError("not base64") from None
    if len(raw) != 32:
        raise ValueError(f"{len(raw)} bytes, an Ed25519 public key has 32")
    return Ed25519PublicKey.from_public_bytes(raw)


def load_public_key(pem: bytes) -> Ed25519PublicKey:
    """An Ed25519 public key from PEM (SubjectPublicKeyInfo); ValueError otherwise."""
    try:
        key = serialization.load_pem_public_key(pem)
    except UnsupportedAlgorithm as exc:
        raise ValueError(f"unsupported key type: {exc}") from None
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("not an Ed25519 public key")
    return key


# -- bodies ------------------------------------------------------------------------------------------


def version(row: dict[str, Any]) -> int:
    """1 for a row written before version 2 (no ``v``)."""
    v = row.get("v")
    return 1 if v is None else int(v)


def body(row: dict[str, Any]) -> bytes:
    """The signed bytes of a checkpoint (row as stored, or as normalised JSON)."""
    at = row["at"]
    fields: dict[str, Any] = {
        "seq": int(row["seq"]),
        "at": isoformat(at) if isinstance(at, datetime) else at,
        "head_seq": int(row["head_seq"]),
        "head_hash": row["head_hash"],
        "pruned_through": int(row["pruned_through"]),
        "pruned_hash": row["pruned_hash"],
        "prev_hash": row["prev_hash"],
    }
    if version(row) == 1:
        return canonical_json(fields)
    fields.update(
        {"v": version(row), "store": row["store"], "cadence_s": int(row["cadence_s"]), "key": row.get("key_id")}
    )
    for optional in ("announce", "rotate_to"):  # present only where they say something
        if row.get(optional):
            fields[optional] = row[optional]
    return canonical_json(fields)


def manifest_body(manifest: dict[str, Any]) -> bytes:
    """The signed bytes of a bundle's manifest.json: the canonical JSON of its object."""
    return canonical_json(manifest)


def verify_signature(row: dict[str, Any], public: Ed25519PublicKey) -> bool:
    try:
        public.verify(base64.b64decode(row["signature"] or ""), body(row))
        return True
    except (InvalidSignature, ValueError, KeyError, TypeError):  # binascii.Error is a ValueError
        return False


# -- time, for messages and the cadence ----------------------------------------------------------------


def parse_time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    try:
        ts = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return ts if ts.tzinfo else ts.replace(tzinfo=UTC)


def show_time(ts: datetime) -> str:
    """2026-03-01T10:00Z, or with seconds when there are any."""
    ts = ts.astimezone(UTC)
    return ts.strftime("%Y-%m-%dT%H:%MZ" if ts.second == 0 else "%Y-%m-%dT%H:%M:%SZ")


def show_duration(td: timedelta) -> str:
    """1h, 1h 10m, 45s, 2d 3h: at most two units, for people."""
    s = int(td.total_seconds())
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if s >= size:
            parts.append(f"{s // size}{unit}")
            s %= size
    return " ".join(parts[:2]) or "0s"


def _seqs(first: int, last: int) -> str:
    return f"evidence_checkpoints seq {first}" + (f"..{last}" if last != first else "")


def _entries(first: int, last: int) -> str:
    return f"evidence_log seq {first}" + (f"..{last}" if last != first else "")


def _count(n: int) -> str:
    return "1 entry" if n == 1 else f"{n} entries"


def _tally(into: dict[int, list[Any]], key: int, seq: int, t: datetime, pick: Any) -> None:
    """[first seq, last seq, the earliest (min) or latest (max) time, count] of the entries under ``key``."""
    got = into.get(key)
    if got is None:
        into[key] = [seq, seq, t, 1]
    else:
        got[1], got[2], got[3] = seq, pick(got[2], t), got[3] + 1


def _ranges(seqs: Iterable[int]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for s in sorted(seqs):
        if out and s == out[-1][1] + 1:
            out[-1] = (out[-1][0], s)
        else:
            out.append((s, s))
    return out


# -- the checks -----------------------------------------------------------------------------------------


class CheckpointCheck:
    """Checks the checkpoints of a store or a bundle in three steps: ``links`` (hashes, seqs, the
    previous-checkpoint links), ``signatures`` (and, with pinned keys, which keys may sign), and with
    pinned keys ``cadence`` (the signed checkpoints cover the period).

    Three ways to hold keys:
    - ``pinned``: the auditor's keys and fingerprints; a key announced in a checkpoint becomes usable
      once its fingerprint is trusted, and a rotation signed by a trusted key trusts the next key;
    - ``given`` (without ``pinned``): keys the caller hands in; they check signatures, and with
      ``require_signed`` every checkpoint must carry one (the first spelling of this API);
    - neither: the records' own keys (a bundle's keys/ file, announcements) check what they can,
      which proves consistency only.
    """

    def __init__(
        self,
        checkpoints: Sequence[dict[str, Any]],
        report: VerifyReport,
        *,
        where: str,
        complete: bool,
        key_checkpoints: Sequence[dict[str, Any]] = (),
        pinned: bool = False,
        fingerprints: Iterable[str] = (),
        keys: Iterable[Ed25519PublicKey] = (),
        material: Iterable[Ed25519PublicKey] = (),
        require_signed: bool = False,
        tolerance: timedelta = timedelta(minutes=10),
        max_cadence: timedelta = timedelta(days=1),
    ) -> None:
        self.cps = list(checkpoints)
        seqs = {int(c["seq"]) for c in self.cps}
        self.extra = [c for c in key_checkpoints if int(c["seq"]) not in seqs]
        self.r, self.where, self.complete, self.pinned = report, where, complete, pinned
        self.keys = list(keys)
        self.require_signed = require_signed or pinned
        self.tolerance, self.max_cadence = tolerance, max_cadence
        self.trusted: set[str] = (
            {f.lower() for f in fingerprints} | {fingerprint(k) for k in self.keys} if pinned else set()
        )
        self.material: dict[str, Ed25519PublicKey] = {fingerprint(k): k for k in [*self.keys, *material]}
        self.retired: dict[str, tuple[int, str]] = {}  # fingerprint -> (seq of its rotation, next fingerprint)
        self.announced: set[str] = set()  # fingerprints some checkpoint so far announced
        # the keys announced, usable once their fingerprint is trusted
        self.candidates: dict[str, Ed25519PublicKey] = {}
        self.store: str | None = None
        self.good: set[int] = set()  # seqs (main list) whose signature verified with a trusted key
        self.cadences: set[int] = set()

    # -- hashes and links ---------------------------------------------------------------------------

    def links(self) -> tuple[int, str]:
        """Every checkpoint's hash and its link to the previous one; returns (pruned_through,
        pruned_hash): where the remaining chain starts after retention pruning."""
        prev: dict[str, Any] | None = None
        pruned, pruned_hash = 0, GENESIS
        for c in self.cps:
            seq = int(c["seq"])
            name = f"evidence_checkpoints seq {seq}"
            self.r.checkpoints += 1
            self._hash(c, name)
            if prev is None:
                if self.complete and seq > 1:
                    self.r.add(_seqs(1, seq - 1), "missing (removed): the store's checkpoints start at seq 1")
                if seq == 1 and c["prev_hash"] != GENESIS:
                    self.r.add(name, "the first checkpoint's prev_hash is not GENESIS (altered)")
            else:
                pseq = int(prev["seq"])
                if seq == pseq + 1 and c["prev_hash"] != prev["checkpoint_hash"]:
                    self.r.add(
                        name, "prev_hash does not match the previous checkpoint (checkpoints altered or reordered)"
                    )
                elif seq > pseq + 1:
                    self.r.add(_seqs(pseq + 1, seq - 1), "missing (removed)")
                elif seq <= pseq:
                    self.r.add(name, "out of order or duplicated")
            if int(c["pruned_through"]) > pruned:
                pruned, pruned_hash = int(c["pruned_through"]), c["pruned_hash"]
            prev = c
        for c in self.extra:
            self._hash(c, f"chain/key-checkpoints.jsonl seq {c['seq']}")
        self.r.pruned_through = pruned
        return pruned, pruned_hash

    def _hash(self, c: dict[str, Any], name: str) -> None:
        v = version(c)
        if v not in (1, 2):
            self.r.add(name, f"version {v} is not one this verifier reads (1, 2)")
            return
        try:
            data = body(c)
        except (KeyError, TypeError, ValueError) as exc:
            self.r.add(name, f"a version-{v} checkpoint without a valid {exc} (altered)")
            return
        if sha256_hex(data) != c["checkpoint_hash"]:
            self.r.add(name, "checkpoint_hash does not match its content (checkpoint altered)")
        if v == 2:
            self.cadences.add(int(c["cadence_s"]))
            if self.store is None:
                self.store = c.get("store")
            elif c.get("store") != self.store:
                self.r.add(
                    name,
                    f"belongs to store {c.get('store')}, the other checkpoints to store {self.store} "
                    "(checkpoints of another store spliced in)",
                )

    # -- signatures and keys --------------------------------------------------------------------------

    def signatures(self) -> None:
        main = {int(c["seq"]) for c in self.cps}
        grouped: dict[str, list[int]] = {}
        ordered = sorted([*self.cps, *self.extra], key=lambda c: int(c["seq"]))
        for c in ordered:  # announced keys authenticate themselves by fingerprint: usable before their turn
            try:
                k = public_from_announce(str(c["announce"])) if c.get("announce") else None
            except ValueError:
                continue  # named in order below
            if k is not None:
                self.candidates[fingerprint(k)] = k
        for c in ordered:
            seq = int(c["seq"])
            name = f"evidence_checkpoints seq {seq}" if seq in main else f"chain/key-checkpoints.jsonl seq {seq}"
            if not c.get("signature"):
                if self.pinned and seq in main:
                    grouped.setdefault(
                        "not signed, but a key is pinned: every checkpoint must be signed by it "
                        "(written without a key, or its signature removed)",
                        [],
                    ).append(seq)
                elif self.require_signed and seq in main:
                    self.r.add(name, "not signed, but a public key was given to verify signatures")
                continue
            if self.pinned:
                self._pinned(c, seq, name, seq in main, grouped)
            else:
                self._unpinned(c, name)
        for problem, seqs in grouped.items():
            for first, last in _ranges(seqs):
                self.r.add(_seqs(first, last), problem)
        if self.pinned and self.good:
            self.r.signed_by = sorted({str(c.get("key_id")) for c in self.cps if int(c["seq"]) in self.good})

    def trusted_fingerprint(self, kid: Any) -> str | None:
        """The trusted fingerprint a checkpoint's key_id (a full fingerprint, or a version-1 key id) names."""
        kid = str(kid or "").lower()
        if not kid:
            return None
        for fp in self.trusted:
            if fp == kid or (len(kid) == 16 and fp.startswith(kid)):
                return fp
        return None

    def _pinned(self, c: dict[str, Any], seq: int, name: str, main: bool, grouped: dict[str, list[int]]) -> None:
        kid = str(c.get("key_id") or "").lower()
        if c.get("announce"):
            # an announcement is a raw key: usable once its fingerprint is trusted, whoever signed it, and
            # it shows the store's first checkpoint (or the rotation) is there
            announced = self._announced_key(c, name, kid)
            if announced is not None:
                self.candidates[fingerprint(announced)] = announced
                self.announced.add(fingerprint(announced))
        fp = self.trusted_fingerprint(kid)
        if fp is None:
            if main:  # a key checkpoint outside the period only helps reach keys: an untrusted one is skipped
                grouped.setdefault(
                    f"signed by key {kid[:16]}, which is neither pinned nor reached from a pinned "
                    "key through a rotation (re-signed with another key, or the key changed without "
                    "a rotation)",
                    [],
                ).append(seq)
            return
        if fp in self.retired and seq > self.retired[fp][0]:
            at, nxt = self.retired[fp]
            self.r.add(
                name,
                f"signed by key {fp[:16]}, which checkpoint seq {at} rotated to key {nxt[:16]} "
                "(a retired key used after its rotation)",
            )
            return
        key = self.material.get(fp) or self.candidates.get(fp)
        if key is None:
            self.r.add(
                name,
                f"signed by the trusted key {fp[:16]}, whose public key is not known: give it with "
                "--public-key (the checkpoint announcing it is missing)",
            )
            return
        if not verify_signature(c, key):
            self.r.add(name, "Ed25519 signature does not verify (checkpoint forged or altered)")
            return
        self.r.signatures_checked += 1
        if main:
            self.good.add(seq)
        rotate_to = str(c.get("rotate_to") or "").lower()
        if rotate_to:
            self.trusted.add(rotate_to)
            self.retired[fp] = (seq, rotate_to)
        if version(c) == 2 and fp not in self.announced:
            self.announced.add(fp)  # said once
            if seq == 1:
                self.r.add(name, "the store's first checkpoint does not announce its signing key")
            else:
                self.r.add(
                    name,
                    f"signed by key {fp[:16]}, which no earlier checkpoint announces: the store's first "
                    "checkpoint, or the one rotating to this key, is missing (removed)",
                )

    def _announced_key(self, c: dict[str, Any], name: str, signer: str) -> Ed25519PublicKey | None:
        """The key a checkpoint announces: its own signing key, or on a rotation the next key."""
        try:
            key = public_from_announce(str(c["announce"]))
        except ValueError as exc:
            self.r.add(name, f"announce is not an Ed25519 public key ({exc}; altered)")
            return None
        fp = fingerprint(key)
        expected = str(c.get("rotate_to") or signer).lower()
        if fp != expected:
            what = "rotates to" if c.get("rotate_to") else "is signed by"
            self.r.add(name, f"announces key {fp[:16]} but {what} key {expected[:16]} (altered)")
            return None
        return key

    def _unpinned(self, c: dict[str, Any], name: str) -> None:
        kid = str(c.get("key_id") or "").lower()
        if self.keys:  # keys handed in by the caller: only they count, as before key pinning
            key = self._lookup(kid, {fingerprint(k): k for k in self.keys}) or (
                self.keys[0] if len(self.keys) == 1 else None
            )
            if key is None:
                if self.require_signed:
                    self.r.add(name, f"signed by key {kid[:16]}, not by the public key given")
                else:
                    self.r.signatures_unchecked += 1
                return
        else:
            if c.get("announce"):  # nothing is pinned: a key the records carry checks consistency only
                try:
                    k = public_from_announce(str(c["announce"]))
                    self.material.setdefault(fingerprint(k), k)
                except ValueError:
                    self.r.add(name, "announce is not an Ed25519 public key (altered)")
            found = self._lookup(kid, self.material)
            if found is None:
                self.r.signatures_unchecked += 1
                return
            key = found
        if verify_signature(c, key):
            self.r.signatures_checked += 1
        else:
            self.r.add(name, "Ed25519 signature does not verify (checkpoint forged or altered)")

    @staticmethod
    def _lookup(kid: str, keys: dict[str, Ed25519PublicKey]) -> Ed25519PublicKey | None:
        if not kid:
            return None
        for fp, key in keys.items():
            if fp == kid or (len(kid) == 16 and fp.startswith(kid)):
                return key
        return None

    # -- cadence ----------------------------------------------------------------------------------------

    def cadence(
        self,
        entries: Sequence[dict[str, Any]],
        period_start: str | None,
        period_end: str | None,
        pruned_through: int,
        made_at: str | None = None,
    ) -> None:
        """With pinned keys: the signed checkpoints cover the period at their signed cadence. ``made_at``
        (a bundle's export time): the checkpoint due after the period end, if due before then, too."""
        good = [c for c in self.cps if int(c["seq"]) in self.good]
        start, end = parse_time(period_start) if period_start else None, parse_time(period_end) if period_end else None
        tol = self.tolerance
        if self.cadences:
            self.r.cadence_s = max(self.cadences)
        if not good:
            lo = start or (parse_time(entries[0]["at"]) if entries else None)
            hi = end or (parse_time(entries[-1]["at"]) if entries else None)
            span = f"{show_time(lo)}..{show_time(hi)}" if lo and hi else "the evidence"
            self.r.add(
                self.where,
                f"no signed checkpoint covers {span}: the period has no signed checkpoint "
                "(checkpoints removed, or never signed)",
            )
            return
        self._too_long(good)
        self._entry_times(good, entries)
        first = good[0]
        fat, fcad = parse_time(first["at"]), self._cadence(first)
        if fat is None:
            self.r.add(f"evidence_checkpoints seq {first['seq']}", "at is not a timestamp (altered)")
            return
        store_first = int(first["seq"]) == 1 and first["prev_hash"] == GENESIS
        if start is not None and fat > start and not store_first:
            self.r.add(
                self.where,
                f"no signed checkpoint covers {show_time(start)}..{show_time(fat)} (cadence "
                f"{show_duration(fcad)}): the checkpoint at or before the period start is missing (removed, "
                "or not signed)",
            )
        elif entries and not pruned_through and int(entries[0]["seq"]) <= int(first["head_seq"]):
            e0 = parse_time(entries[0]["at"])
            if e0 is not None and fat - e0 > fcad + tol:
                last = min(int(first["head_seq"]), int(entries[-1]["seq"]))
                self.r.add(
                    f"evidence_log seq {entries[0]['seq']}..{last}",
                    f"written from {show_time(e0)}, {show_duration(fat - e0)} before the first signed "
                    f"checkpoint (seq {first['seq']} at {show_time(fat)}), more than its signed cadence "
                    f"{show_duration(fcad)} plus tolerance {show_duration(tol)}: no signed checkpoint covers "
                    f"{show_time(e0)}..{show_time(fat)} (history written before its checkpoints, or the first "
                    "checkpoints removed)",
                )
        for a, b in zip(good, good[1:], strict=False):
            ta, tb, cad = parse_time(a["at"]), parse_time(b["at"]), self._cadence(a)
            if ta is None or tb is None:
                continue
            if tb - ta > cad + tol:
                self.r.add(
                    _seqs(int(a["seq"]), int(b["seq"])),
                    f"{show_duration(tb - ta)} apart, more than the signed cadence {show_duration(cad)} plus "
                    f"tolerance {show_duration(tol)}: no signed checkpoint covers {show_time(ta)}.."
                    f"{show_time(tb)} (checkpoints removed, or the agent stopped)",
                )
        self._tail(good[-1], entries, end, parse_time(made_at) if made_at else None)

    def _tail(
        self, last: dict[str, Any], entries: Sequence[dict[str, Any]], end: datetime | None, made: datetime | None
    ) -> None:
        lat, cad = parse_time(last["at"]), self._cadence(last)
        if lat is None:
            return
        if end is not None and made is not None and made > end:
            # the period ends mid-cadence: the next checkpoint was due by end + cadence, and the bundle
            # carries it when it was made after that
            end = max(end, min(made, end + cad))
        head = int(last["head_seq"])
        after: list[dict[str, Any]] = []
        for e in reversed(entries):
            if int(e["seq"]) <= head:
                break
            after.append(e)
        after.reverse()
        times = [t for t in (parse_time(e["at"]) for e in after) if t is not None]
        hi = max([t for t in (end, *times) if t is not None], default=None)
        if hi is None or hi - lat <= cad + self.tolerance:
            return
        tail = (
            f"; {len(after)} entries after it (evidence_log seq {after[0]['seq']}..{after[-1]['seq']}) are signed "
            "by no checkpoint"
            if after
            else ""
        )
        self.r.add(
            self.where,
            f"no signed checkpoint covers {show_time(lat)}..{show_time(hi)} (cadence "
            f"{show_duration(cad)}): the last signed checkpoint is seq {last['seq']}{tail} (unsigned tail: "
            "truncated, or the later checkpoints removed)",
        )

    def _cadence(self, c: dict[str, Any]) -> timedelta:
        """The cadence a checkpoint signs, capped at the longest the auditor accepts."""
        signed = timedelta(seconds=int(c["cadence_s"]) if version(c) == 2 else DEFAULT_CADENCE_S)
        return min(signed, self.max_cadence)

    def _too_long(self, good: Sequence[dict[str, Any]]) -> None:
        """A signed cadence longer than --max-cadence fails: the signer picks the cadence, and the first
        checkpoint's cadence is how much history it may cover before its witness."""
        longest = self.max_cadence.total_seconds()
        by_cadence: dict[int, list[int]] = {}
        for c in good:
            if version(c) == 2 and int(c["cadence_s"]) > longest:
                by_cadence.setdefault(int(c["cadence_s"]), []).append(int(c["seq"]))
        for cad, seqs in sorted(by_cadence.items()):
            for a, b in _ranges(seqs):
                self.r.add(
                    _seqs(a, b),
                    f"signs a cadence of {show_duration(timedelta(seconds=cad))}, longer than "
                    f"the longest accepted ({show_duration(self.max_cadence)}, --max-cadence): it would let "
                    "that much history be written before its witness (a cadence chosen to cover a backfill)",
                )

    def _entry_times(self, good: Sequence[dict[str, Any]], entries: Sequence[dict[str, Any]]) -> None:
        """Every entry's time lies between the signed checkpoints around it in the chain, within the
        tolerance: an entry after checkpoint A was written after A's (witnessed) time, so it cannot be
        dated before it, and one that checkpoint B signs cannot be dated after B. History written later
        with the clock set back, or ahead, is named."""
        tol = self.tolerance
        marks = [(int(c["head_seq"]), parse_time(c["at"]), int(c["seq"])) for c in good]
        early: dict[int, list[Any]] = {}  # checkpoint seq -> [first entry seq, last, earliest time, count]
        late: dict[int, list[Any]] = {}
        i = 0
        for e in entries:
            seq = int(e["seq"])
            while i < len(marks) and marks[i][0] < seq:
                i += 1
            before = marks[i - 1] if i > 0 else None
            after = marks[i] if i < len(marks) else None
            if (before is None or before[1] is None) and (after is None or after[1] is None):
                continue
            t = parse_time(e["at"])
            if t is None:
                continue
            if before is not None and before[1] is not None and t < before[1] - tol:
                _tally(early, before[2], seq, t, min)
            if after is not None and after[1] is not None and t > after[1] + tol:
                _tally(late, after[2], seq, t, max)
        ats = {m[2]: m[1] for m in marks if m[1] is not None}
        for cseq, (a, b, t, n) in sorted(early.items()):
            self.r.add(
                _entries(a, b),
                f"{_count(n)} written after signed checkpoint seq {cseq} at "
                f"{show_time(ats[cseq])} {'is' if n == 1 else 'are'} dated before it, from {show_time(t)} "
                f"(more than tolerance "
                f"{show_duration(tol)}): history written later with the clock set back (backdated)",
            )
        for cseq, (a, b, t, n) in sorted(late.items()):
            self.r.add(
                _entries(a, b),
                f"{_count(n)} signed by checkpoint seq {cseq} at {show_time(ats[cseq])} "
                f"{'is' if n == 1 else 'are'} dated after it, up to {show_time(t)} (more than tolerance "
                f"{show_duration(tol)}): times "
                "altered, or written with the clock set ahead",
            )

    # -- the bundle manifest ----------------------------------------------------------------------------

    def manifest(self, manifest: dict[str, Any], signature: str | None) -> None:
        """manifest.json signed by the current key (manifest.sig: base64 Ed25519 over its canonical body)."""
        fp = str(manifest.get("key") or "").lower()
        if manifest.get("store") and self.store and manifest.get("store") != self.store:
            self.r.add(
                "manifest.json",
                f"names store {manifest.get('store')}, the checkpoints belong to store "
                f"{self.store} (bundle assembled from another store)",
            )
        if signature is None:
            self.r.manifest_signature = "absent"
            if self.pinned:
                self.r.add(
                    "file manifest.sig",
                    "missing: manifest.json is not signed, so nothing binds the report, "
                    "the OSCAL file, the CSVs and the documents to the signed checkpoints (unsigned bundle, "
                    "or its signature removed)",
                )
            return
        if self.pinned:
            tfp = self.trusted_fingerprint(fp)
            if tfp is None:
                self.r.add(
                    "manifest.json",
                    f"signed by key {fp[:16] or '(none named)'}, which is neither pinned nor "
                    "reached from a pinned key through a rotation (re-signed with another key)",
                )
                return
            if tfp in self.retired:
                at, nxt = self.retired[tfp]
                self.r.add(
                    "manifest.json",
                    f"signed by key {tfp[:16]}, which checkpoint seq {at} rotated to key "
                    f"{nxt[:16]} (a retired key used after its rotation)",
                )
                return
            key = self.material.get(tfp) or self.candidates.get(tfp)
            if key is None:
                self.r.add(
                    "manifest.json",
                    f"signed by the trusted key {tfp[:16]}, whose public key is not known: give it with --public-key",
                )
                return
        else:
            found = self._lookup(fp, {fingerprint(k): k for k in self.keys} if self.keys else self.material)
            if found is None and len(self.keys) == 1:
                found = self.keys[0]
            if found is None:
                self.r.manifest_signature = "not checked"
                return
            key = found
        try:
            key.verify(base64.b64decode(signature.strip(), validate=True), manifest_body(manifest))
        except (InvalidSignature, ValueError):
            self.r.add(
                "file manifest.sig",
                "the Ed25519 signature over manifest.json does not verify (manifest edited, or signed by another key)",
            )
            return
        self.r.manifest_signature = "verified"


def check_heads(
    checkpoints: Sequence[dict[str, Any]],
    by_seq: dict[int, dict[str, Any]],
    last: int | None,
    complete: bool,
    report: VerifyReport,
) -> None:
    """Each checkpoint's head must be the chain's entry at that seq; a head past the end of a
    complete chain means its tail was removed."""
    for c in checkpoints:
        head = int(c["head_seq"])
        name = f"evidence_checkpoints seq {c['seq']}"
        e = by_seq.get(head)
        if e is not None:
            if e["entry_hash"] != c["head_hash"]:
                report.add(
                    name,
                    f"commits to entry seq {head} with hash {c['head_hash'][:16]}..., but the "
                    f"chain has {e['entry_hash'][:16]}... (chain rewritten)",
                )
        elif last is not None and head > last and complete:
            report.add(
                name, f"commits to entry seq {head}, but the chain ends at seq {last} (tail of the chain removed)"
            )
        elif last is None and head > int(c["pruned_through"]) and complete:
            report.add(name, f"commits to entry seq {head}, but the chain is empty (entries removed)")

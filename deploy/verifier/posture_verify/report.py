"""What verification found: every problem named by the record it is about."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["Issue", "VerifyReport"]


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
    # every witness of a checkpoint or of the bundle manifest: what, whose, its time, and its verdict
    witnesses: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what was checked and what could not be (not problems)
    # keys: whether the auditor pinned any (only then do signatures prove who wrote the evidence), the
    # fingerprints whose signatures verified, the longest signed cadence, and the manifest signature's verdict
    pinned: bool = False
    signed_by: list[str] = field(default_factory=list)
    cadence_s: int | None = None
    manifest_signature: str | None = None  # "verified", "absent", "not checked"; None: not a bundle
    summaries: list[str] = field(default_factory=list)  # a bundle's derived files, bound but not recomputed
    framework_sha256: str | None = None  # the SHA-256 of the bundle's framework.json, when it has one

    @property
    def ok(self) -> bool:
        return not self.issues

    def add(self, record: str, problem: str) -> None:
        self.issues.append(Issue(record, problem))

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "entries": self.entries,
            "first_seq": self.first_seq,
            "last_seq": self.last_seq,
            "checkpoints": self.checkpoints,
            "signatures_checked": self.signatures_checked,
            "signatures_unchecked": self.signatures_unchecked,
            "blobs": self.blobs,
            "snapshots": self.snapshots,
            "pruned_through": self.pruned_through,
            "witnesses": self.witnesses,
            "notes": self.notes,
            "pinned": self.pinned,
            "authorship_proven": self.pinned and self.ok,
            "signed_by": self.signed_by,
            "cadence_s": self.cadence_s,
            "manifest_signature": self.manifest_signature,
            "summaries_not_recomputed": self.summaries,
            "framework_sha256": self.framework_sha256,
            "issues": [{"record": i.record, "problem": i.problem} for i in self.issues],
        }

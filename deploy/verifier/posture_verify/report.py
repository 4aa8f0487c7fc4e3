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

"""What a chain entry commits to: its hash, and a cycle entry's digests of its rows.

The writer (the agent's store) and the verifier compute these the same way; they are kept apart
from the verifier's machinery so that the agent imports only this (spec: docs/evidence-format.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from posture_verify.canonical import canonical_json, isoformat, sha256_hex

__all__ = ["LOCATOR", "CycleCommitment", "entry_hash", "run_fields", "snapshot_fields"]

LOCATOR = 16  # hex characters of a row digest kept in the entry, to name what changed


def entry_hash(*, seq: int, at: datetime | str, kind: str, ref: str, content_hash: str, prev_hash: str) -> str:
    """``at``: a datetime, or already its canonical string (a normalised row, a bundle)."""
    return sha256_hex(
        canonical_json(
            {
                "seq": seq,
                "at": isoformat(at) if isinstance(at, datetime) else at,
                "kind": kind,
                "ref": ref,
                "content_hash": content_hash,
                "prev_hash": prev_hash,
            }
        )
    )


class CycleCommitment:
    """What a cycle entry commits to, computed the same way by the writer (Python values) and the
    verifier (rows normalised to JSON): canonical JSON makes both byte-identical."""

    def __init__(
        self, run: dict[str, Any], snapshots: Sequence[tuple[int, dict[str, Any], Sequence[dict[str, Any]]]]
    ) -> None:
        self.run_digest = sha256_hex(canonical_json(run))
        self.snapshot_digests: dict[int, tuple[str, int, str]] = {}
        for sid, snap, events in snapshots:
            self.snapshot_digests[sid] = (
                sha256_hex(canonical_json(snap)),
                len(events),
                sha256_hex(canonical_json(list(events))),
            )
        self.rows_digest = sha256_hex(
            canonical_json(
                {
                    "run": self.run_digest,
                    "snapshots": [[sid, d, n, e] for sid, (d, n, e) in self.snapshot_digests.items()],
                }
            )
        )

    def content(self) -> dict[str, Any]:
        # with no finding events the events locator says nothing: left empty
        return {
            "run": self.run_digest[:LOCATOR],
            "snapshots": [
                [sid, d[:LOCATOR], n, e[:LOCATOR] if n else ""] for sid, (d, n, e) in self.snapshot_digests.items()
            ],
        }

    def content_hash(self, content: bytes) -> str:
        return sha256_hex(content + b"\n" + self.rows_digest.encode())


def run_fields(row: dict[str, Any]) -> dict[str, Any]:
    """The runs row columns a cycle entry commits to."""
    return {
        k: row[k]
        for k in (
            "id",
            "source",
            "provider",
            "started_at",
            "finished_at",
            "status",
            "resource_count",
            "error_count",
            "detail",
        )
    }


def snapshot_fields(row: dict[str, Any]) -> dict[str, Any]:
    """The snapshots row columns a cycle entry commits to (every column)."""
    return {
        k: row[k]
        for k in (
            "id",
            "run_id",
            "source",
            "provider",
            "account",
            "started_at",
            "finished_at",
            "status",
            "errors",
            "manifest_hash",
            "results_hash",
            "resource_count",
        )
    }

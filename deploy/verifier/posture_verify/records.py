"""Evidence records in one neutral, JSON-shaped form, whether read from the store or from a bundle.

Verification runs on this form only, so the store and an exported bundle are checked by the same
code. Rows are JSON objects as canonical JSON reads them back: timestamps are ``...Z`` strings.
Blob bodies are handed over uncompressed; how a reader stores them (zstd in the agent's database,
deflate inside a bundle's zip) is the reader's business.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from posture_verify.canonical import canonical_json, sha256_hex

__all__ = [
    "AUDITED_COLUMNS",
    "DEFER_MANIFEST_BYTES",
    "STARVED_MESSAGE",
    "BlobRow",
    "Records",
    "Unreadable",
    "cycle_snapshot_ids",
    "kept_row_hash",
]

# the message the store gives a finding it could not re-collect: such a row is in the replayed state
# but was not in the evaluated result set of that cycle (the agent's agent.store.db.STARVED; a test
# keeps the two equal)
STARVED_MESSAGE = "not collected this cycle; see the snapshot's collection errors"

# the columns of a manual_evidence or exceptions row that its chain entry (and a prune entry that
# keeps the row) vouches for
AUDITED_COLUMNS: dict[str, tuple[str, ...]] = {
    "manual_evidence": (
        "id",
        "control_id",
        "filename",
        "sha256",
        "size",
        "owner",
        "attached_at",
        "review_every_days",
        "next_review",
    ),
    "exceptions": ("id", "check_id", "resource_pattern", "reason", "owner", "created_at", "expires_at"),
}


@dataclass(frozen=True)
class Unreadable:
    """A stored blob body the reader could not turn into bytes (e.g. corrupt compression)."""

    problem: str


# a manifest body larger than this (a full manifest) may be deferred by a reader (``Records.deferred_blobs``);
# the verifier keeps smaller ones in memory from its pass over the blobs
DEFER_MANIFEST_BYTES = 16_384

# (hash, kind, size, uncompressed body or why it could not be read[, SHA-256 hex of the body, when the
# reader computed it already])
BlobRow = tuple[str, str, int, "bytes | Unreadable"] | tuple[str, str, int, "bytes | Unreadable", str]


def cycle_snapshot_ids(entries: Iterable[Any]) -> set[int]:
    """The snapshot ids the cycle entries among ``entries`` (rows or dicts with kind and content) list."""
    out: set[int] = set()
    for e in entries:
        kind, content = (e["kind"], e["content"]) if isinstance(e, dict) else (e.kind, e.content)
        if kind == "cycle":
            try:
                out.update(int(x[0]) for x in json.loads(content).get("snapshots", []))
            except (ValueError, TypeError, AttributeError, IndexError):
                continue  # an altered entry: verification names it
    return out


def kept_row_hash(row: dict[str, Any], table: str) -> str:
    """SHA-256 of a kept row's audited columns as JSON values (a store row with datetimes, or a
    bundle record: the same bytes)."""
    return sha256_hex(canonical_json({c: json.loads(canonical_json(row[c])) for c in AUDITED_COLUMNS[table]}))


@dataclass
class Records:
    """Everything verification needs. ``complete`` is True for the store (every row must be
    chained), False for a bundle's period (only the rows the segment refers to are present)."""

    entries: list[dict[str, Any]]
    checkpoints: list[dict[str, Any]]
    runs: dict[str, dict[str, Any]]
    snapshots: dict[int, dict[str, Any]]
    events: dict[int, list[dict[str, Any]]]  # snapshot id -> finding_events rows in id order
    drift: dict[int, list[dict[str, Any]]]  # snapshot id -> drift_events rows in id order
    manual: dict[int, dict[str, Any]]  # with "content_sha256": SHA-256 of the stored document
    exceptions: dict[int, dict[str, Any]]
    outbox: dict[int, dict[str, Any]]
    blob: Callable[[str], bytes | None]  # hash -> uncompressed body, None when missing or unreadable
    # every stored blob, once; a reader that offers ``deferred_blobs`` takes ``skip=`` (hashes to leave out)
    blob_rows: Callable[..., Iterator[BlobRow]]
    manual_files: dict[int, str] = field(default_factory=dict)  # a bundle's document id -> its file
    baseline: dict[tuple[str, str], dict[str, list[str]]] = field(default_factory=dict)
    # (source, account) -> {uid: [status, message]} before the first snapshot present
    baseline_results: dict[tuple[str, str], str] = field(default_factory=dict)  # ... and its results_hash
    # a bundle (format 4) must hold a baseline for every source/account it has snapshots of, unless its
    # segment says the history before it was pruned (``baseline_pruned``)
    baseline_required: bool = False
    baseline_pruned: bool = False
    complete: bool = True
    where: str = "store"
    # a bundle's segment starts mid-chain: the seq and prev_hash its first entry must have
    anchor_seq: int | None = None
    anchor_prev: str | None = None
    # set when the blobs cannot be read at all (a format-1 bundle without zstandard): one issue,
    # and the blob and manifest checks are skipped
    blobs_unavailable: str | None = None
    # external witnesses of checkpoints: {"checkpoint_seq", "kind": "rfc3161"|"s3", ...} (posture_verify.witnesses)
    witnesses: list[dict[str, Any]] = field(default_factory=list)
    # the store's id (its evidence_store row, or a bundle manifest's "store"): where its checkpoint copies
    # are filed in the anchor bucket, also when no checkpoint is left in the records
    store_id: str | None = None
    # the end of what is being verified (a bundle's period end, or the store's "now"), canonical string:
    # the signed cadence is measured up to it
    period_end: str | None = None
    # a bundle's period start: the checkpoint at or before it must be present (docs/evidence-format.md, "Cadence")
    period_start: str | None = None
    # when a bundle was made (its generated_at): a checkpoint due after the period end but before then
    # (the first after the end) must be present
    made_at: str | None = None
    # a bundle's checkpoints that announce or rotate keys, outside its own run of checkpoints: the auditor's
    # pinned key reaches the keys of the period through them
    key_checkpoints: list[dict[str, Any]] = field(default_factory=list)
    # public keys the records carry (a bundle's keys/ file): candidates only, trusted only when pinned
    keys: list[Any] = field(default_factory=list)
    # a bundle's chain/vouchers.jsonl ({"manual_evidence_id", "entry"}: the entry vouching for a document
    # whose entry is before the segment) and chain/stubs.jsonl (entries without content linking them, and
    # the checkpoints around the period, to the segment); None: a bundle written before vouchers were linked
    vouchers: list[dict[str, Any]] | None = None
    stubs: list[dict[str, Any]] = field(default_factory=list)
    # a bundle's manifest.json object and manifest.sig text (None when absent); None: not a bundle
    manifest: dict[str, Any] | None = None
    manifest_sig: str | None = None
    # optional: blobs present that the reader can hand over one at a time (``blob_row``) instead of in the pass
    # over every blob: the large (full) manifests, which the verifier then reads once, when it walks them
    deferred_blobs: Callable[[], set[str]] | None = None
    blob_row: Callable[[str], BlobRow | None] | None = None
    # optional: the order in which ``blob_row`` will be asked for deferred blobs (a reader may read ahead)
    plan_blob_rows: Callable[[list[str]], None] | None = None

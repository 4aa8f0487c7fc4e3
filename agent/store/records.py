"""What a cycle's write is given and gives back."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from agent.models import FindingChange

__all__ = ["AlreadyRecorded", "RunRecord", "SnapshotWrite", "SweepSlot"]


@dataclass(frozen=True, kw_only=True)
class RunRecord:
    id: str
    source: str
    provider: str
    started_at: datetime
    finished_at: datetime
    status: str
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class SnapshotWrite:
    snapshot_id: int
    manifest_hash: str
    results_hash: str
    new_bodies: int
    bytes_added: int
    changes: tuple[FindingChange, ...]


@dataclass(frozen=True)
class SweepSlot:
    """The (sweep, account) a worker's run is recorded for (agent/scale/): the run claims it in its
    own transaction, so a sweep has exactly one run per account."""

    sweep_id: str
    account: str
    outcome: str | None = None  # recorded as the slot's outcome; None: the run's status


class AlreadyRecorded(Exception):
    """The (sweep, account) already has its run (a redelivered task, or the deadline's gap): the
    transaction that found it out is rolled back and nothing of this run is stored."""

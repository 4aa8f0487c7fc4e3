"""What a cycle's write is given and gives back."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from agent.models import FindingChange

__all__ = ["RunRecord", "SnapshotWrite"]


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

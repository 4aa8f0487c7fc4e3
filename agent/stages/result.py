"""What one cycle produced."""

from __future__ import annotations

from dataclasses import dataclass, field

from agent.drift import DriftEvent
from agent.models import Finding, Snapshot
from agent.store import RunRecord, SnapshotWrite

__all__ = ["CycleResult"]


@dataclass
class CycleResult:
    run: RunRecord
    snapshots: list[Snapshot]
    findings: list[Finding]
    writes: list[SnapshotWrite] = field(default_factory=list)  # empty when nothing was stored
    error: str = ""
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage
    drift: list[DriftEvent] = field(default_factory=list)  # as committed with the cycle

    @property
    def ok(self) -> bool:
        return self.run.status != "failed"

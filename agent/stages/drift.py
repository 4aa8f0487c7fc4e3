"""Drift: what changed with this cycle, from the store's before and after. Pure.

- resources added, removed or modified since the previous snapshot of the same (source, account);
  a resource missing because its type could not be collected is unknown, not removed;
- finding transitions (regressed, resolved, new_failing, gone, ...) from the store's finding diff;
- framework requirements whose state changed (SOC2:CC6.1 pass -> fail), against the states of the
  last committed cycle of this process.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from agent.drift import DriftEvent, ResourceChange, classify, diff_resources
from agent.models import FindingChange, Resource
from checks.base import Check

__all__ = [
    "FindingTransition",
    "RequirementStates",
    "SnapshotDrift",
    "requirement_events",
    "resource_changes",
    "snapshot_drift",
]

# requirement ref -> (status, framework id, title)
RequirementStates = dict[str, tuple[str, str, str]]


@dataclass(frozen=True)
class FindingTransition:
    event: DriftEvent
    change: FindingChange
    attribute_changes: tuple[str, ...]  # of the resource, for the alert ("path: old -> new")


@dataclass(frozen=True)
class SnapshotDrift:
    resources: list[DriftEvent] = field(default_factory=list)
    findings: list[FindingTransition] = field(default_factory=list)


def resource_changes(
    previous: Mapping[str, Resource], current: Mapping[str, Resource], errors: Sequence[Mapping[str, Any]]
) -> list[ResourceChange]:
    starved = {(e.get("resource_type"), e.get("region")) for e in errors}
    kept = {
        rid: r
        for rid, r in previous.items()
        if rid in current or not ((r.type, r.region) in starved or (r.type, "") in starved)
    }
    return diff_resources(kept, dict(current))


def snapshot_drift(
    *,
    source: str,
    provider: str,
    account: str,
    resources: Sequence[ResourceChange],
    findings: Sequence[FindingChange],
    checks: Mapping[str, Check],
) -> SnapshotDrift:
    out = SnapshotDrift()
    for c in resources:
        out.resources.append(
            DriftEvent(
                kind=c.kind,
                source=source,
                provider=c.provider or provider,
                account=c.account or account,
                region=c.region,
                resource_id=c.resource_id,
                resource_type=c.resource_type,
                detail=c.to_dict() if c.kind == "modified" else {},
            )
        )
    attr_changes = {c.resource_id: tuple(str(a) for a in c.changes) for c in resources}
    regions = {c.resource_id: c.region for c in resources}
    for ch in findings:
        kind = classify(ch)
        if kind is None:
            continue
        f = ch.finding
        chk = checks.get(ch.check_id)
        event = DriftEvent(
            kind=kind,
            source=source,
            provider=provider,
            account=account,
            region=f.region if f else regions.get(ch.resource_id, ""),
            resource_id=ch.resource_id,
            resource_type=f.resource_type if f else (chk.meta.resource_type if chk else ""),
            check_id=ch.check_id,
            severity=f.severity.value if f else (chk.meta.severity.value if chk else "info"),
            previous_status=ch.previous_status,
            status=ch.status,
            detail={"message": f.recorded_message if f else ""},
            uid=ch.uid,
        )
        out.findings.append(FindingTransition(event, ch, attr_changes.get(ch.resource_id, ())))
    return out


def requirement_events(source: str, previous: RequirementStates | None, now: RequirementStates) -> list[DriftEvent]:
    """Requirements whose state changed; none on the first cycle of a process (the baseline)."""
    if previous is None:
        return []
    events = []
    for ref, (status, framework, title) in sorted(now.items()):
        before = previous.get(ref, (None,))[0]
        if before is None or before == status:
            continue
        kind = (
            "requirement_regressed"
            if (before, status) == ("pass", "fail")
            else "requirement_resolved"
            if (before, status) == ("fail", "pass")
            else "requirement_changed"
        )
        events.append(
            DriftEvent(
                kind=kind,
                source=source,
                provider="",
                account="",
                region="",
                resource_id=ref,
                resource_type="requirement",
                previous_status=before,
                status=status,
                detail={"framework": framework, "title": title},
            )
        )
    return events

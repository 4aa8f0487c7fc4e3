"""Hand-built endpoint devices (with the shared device model) and the case-table helper."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from agent.evaluate import evaluate
from agent.models import Finding, Resource, Snapshot, Status
from checks.base import Check
from collectors.endpoints.device import Antivirus, device_resource
from tests.unit.checks.casekit import note

__all__ = ["DEFENDER", "ERROR", "FAIL", "NA", "NOW", "PASS", "Case", "ago", "case", "dev", "run", "run_case"]

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
PASS, FAIL, ERROR, NA = Status.PASS, Status.FAIL, Status.ERROR, Status.NOT_APPLICABLE
DEFENDER = Antivirus(product="Microsoft Defender", enabled=True, up_to_date=True, definitions_updated=None)


def ago(days: float) -> str:
    return (NOW - timedelta(days=days)).isoformat().replace("+00:00", "Z")


def dev(**kw: Any) -> Resource:
    """A healthy macOS laptop reported by push; override any attribute."""
    base: dict[str, Any] = dict(
        source_kind="push",
        account="realm",
        device_id="d1",
        hostname="alice-mbp",
        platform="macos",
        last_seen=ago(0.5),
        antivirus=[DEFENDER],
        disk_encryption=True,
        firewall=True,
        screen_lock_seconds=300,
        os_updated_at=ago(3),
        os_supported=True,
        os_version="14.5",
    )
    return device_resource(**{**base, **kw})


@dataclass(frozen=True)
class Case:
    check: Check
    device: Resource
    expect: Status
    reason: str
    params: dict[str, Any] = field(default_factory=dict)


def case(
    check: Check,
    device: Resource,
    expect: Status,
    reason: str = "",
    *,
    id: str,
    params: dict[str, Any] | None = None,
    looks_fine: str = "",
) -> Any:
    """One row of a case table. ``looks_fine``: why a careless reading would pass this input
    (tests/unit/checks/casekit.py); such a case never expects pass."""
    note(check.id, expect, looks_fine)
    return pytest.param(Case(check, device, expect, reason, params or {}), id=f"{check.id}:{id}")


def run(check: Check, device: Resource, params: dict[str, Any] | None = None) -> Finding:
    snap = Snapshot(
        source="t", provider="endpoints", account="realm", started_at=NOW, finished_at=NOW, resources=(device,)
    )
    [finding] = evaluate(snap, [check], params={check.id: params or {}})
    return finding


def run_case(c: Case) -> None:
    finding = run(c.check, c.device, c.params)
    assert finding.status == c.expect, finding.message
    assert c.reason.lower() in finding.recorded_message.lower(), finding.recorded_message
    assert finding.message.strip()

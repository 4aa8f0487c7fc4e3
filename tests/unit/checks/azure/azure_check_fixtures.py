"""Hand-built Azure resources and snapshots, and a table-driven case runner through agent.evaluate."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any

import pytest

from agent.evaluate import evaluate
from agent.models import CollectionError, Finding, Resource, Snapshot, Status
from checks.base import Check
from tests.unit.checks.casekit import note

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
TENANT = "11111111-2222-3333-4444-555555555555"
SUB = "99999999-8888-7777-6666-555555555555"
RG = f"/subscriptions/{SUB}/resourceGroups/rg"

PASS, FAIL, ERROR, NA = Status.PASS, Status.FAIL, Status.ERROR, Status.NOT_APPLICABLE


def ago(days: float) -> str:
    return (NOW - timedelta(days=days)).isoformat().replace("+00:00", "Z")


def arm(
    rtype: str,
    provider_path: str,
    name: str,
    *,
    properties: Mapping[str, Any] | None = None,
    errors: Mapping[str, str] | None = None,
    region: str = "westeurope",
    **attrs: Any,
) -> Resource:
    rid = f"{RG}/providers/{provider_path}/{name}"
    body: dict[str, Any] = {"id": rid, "name": name, "location": region, **attrs}
    if properties is not None:
        body["properties"] = dict(properties)
    return Resource(
        provider="azure",
        account=SUB,
        region=region,
        type=rtype,
        id=rid,
        name=name,
        attributes=body,
        errors=dict(errors or {}),
    )


def listing_error(rtype: str) -> CollectionError:
    return CollectionError(
        service="arm",
        operation="List",
        region="",
        code="AuthorizationFailed",
        message="not authorized",
        resource_type=rtype,
    )


def snapshot(resources: Iterable[Resource], errors: Iterable[CollectionError] = (), now: datetime = NOW) -> Snapshot:
    items = tuple(resources)
    account = items[0].account if items else SUB
    return Snapshot(
        source="test",
        provider="azure",
        account=account,
        started_at=now - timedelta(minutes=5),
        finished_at=now,
        resources=items,
        errors=tuple(errors),
    )


@dataclass
class Case:
    check: Check
    resources: list[Resource]
    expect: Status
    reason: str = ""
    params: Mapping[str, Any] = field(default_factory=dict)
    errors: list[CollectionError] = field(default_factory=list)
    now: datetime = NOW  # the evaluation time (the snapshot's end)

    def run(self) -> Finding:
        findings = evaluate(
            snapshot(self.resources, self.errors, self.now), [self.check], params={self.check.id: dict(self.params)}
        )
        own = [r for r in self.resources if r.type == self.check.meta.resource_type]
        target = own[0].id if own else findings[0].resource_id
        found = [f for f in findings if f.resource_id == target]
        assert len(found) == 1, f"no single finding for {target}: {findings}"
        return found[0]


def check_case(case: Case) -> None:
    finding = case.run()
    assert finding.status == case.expect, f"{finding.status}: {finding.message}"
    assert case.reason.lower() in finding.recorded_message.lower(), finding.recorded_message
    assert finding.message.strip()


def case(
    check: Check,
    resources: Resource | list[Resource],
    expect: Status,
    reason: str = "",
    *,
    id: str,
    looks_fine: str = "",
    **kw: Any,
) -> Any:
    """One row of a case table. ``looks_fine``: why a careless reading would pass this input
    (see tests/unit/checks/casekit.py); such a case never expects pass."""
    note(check.id, expect, looks_fine)
    items = resources if isinstance(resources, list) else [resources]
    return pytest.param(Case(check, items, expect, reason, **kw), id=f"{check.id}:{id}")


def assert_covered(cases: Iterable[Any], modules: Iterable[ModuleType]) -> None:
    """Every check of the modules has a pass, a fail and an error case."""
    seen: dict[str, set[Status]] = {}
    for item in cases:
        c = item.values[0]
        seen.setdefault(c.check.id, set()).add(c.expect)
    for module in modules:
        for chk in (v for v in vars(module).values() if isinstance(v, Check)):
            missing = {PASS, FAIL, ERROR} - seen.get(chk.id, set())
            assert not missing, f"{chk.id} lacks cases for {sorted(missing)}"

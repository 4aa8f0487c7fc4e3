"""Hand-built resources and snapshots for the AWS check tests, and a table-driven case runner.

Cases run through agent.evaluate.evaluate, so the evaluator's fail-safe paths (missing detail
attributes, collection errors on required types) are exercised exactly as in production.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any

from agent.evaluate import evaluate
from agent.models import CollectionError, Finding, Resource, Snapshot, Status
from checks.base import Check
from tests.unit.checks.casekit import note

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
ACCT = "123456789012"
REGION = "us-east-1"

PASS, FAIL, ERROR, NA = Status.PASS, Status.FAIL, Status.ERROR, Status.NOT_APPLICABLE


def ago(days: float) -> str:
    """An ISO timestamp ``days`` before NOW, in the collector's ``Z`` form."""
    return (NOW - timedelta(days=days)).isoformat().replace("+00:00", "Z")


def res(
    rtype: str,
    rid: str | None = None,
    *,
    region: str = REGION,
    account: str = ACCT,
    errors: Mapping[str, str] | None = None,
    **attrs: Any,
) -> Resource:
    return Resource(
        provider="aws",
        account=account,
        region=region,
        type=rtype,
        id=rid or f"arn:aws:{rtype.split('.')[1]}:{region}:{account}:{rtype.split('.')[-1]}/x",
        attributes=attrs,
        errors=dict(errors or {}),
    )


def settings(rtype: str, *, region: str = REGION, errors: Mapping[str, str] | None = None, **attrs: Any) -> Resource:
    service = rtype.split(".")[1]
    return res(rtype, f"arn:aws:{service}:{region}:{ACCT}:settings", region=region, errors=errors, **attrs)


def listing_error(rtype: str, region: str = REGION) -> CollectionError:
    return CollectionError(
        service=rtype.split(".")[1],
        operation="List",
        region=region,
        code="AccessDenied",
        message="not authorized",
        resource_type=rtype,
    )


def snapshot(resources: Iterable[Resource], errors: Iterable[CollectionError] = ()) -> Snapshot:
    return Snapshot(
        source="test",
        provider="aws",
        account=ACCT,
        started_at=NOW - timedelta(minutes=5),
        finished_at=NOW,
        resources=tuple(resources),
        errors=tuple(errors),
    )


@dataclass
class Case:
    check: Check
    resources: list[Resource]
    expect: Status
    reason: str = ""
    target: str | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    errors: list[CollectionError] = field(default_factory=list)

    def run(self) -> Finding:
        findings = evaluate(
            snapshot(self.resources, self.errors), [self.check], params={self.check.id: dict(self.params)}
        )
        target = self.target
        if target is None:
            own = [r for r in self.resources if r.type == self.check.meta.resource_type]
            target = own[0].id if own else findings[0].resource_id
        found = [f for f in findings if f.resource_id == target]
        assert len(found) == 1, f"no single finding for {target}: {findings}"
        return found[0]


def check_case(case: Case) -> None:
    finding = case.run()
    assert finding.status == case.expect, f"{finding.status}: {finding.message}"
    assert case.reason.lower() in finding.recorded_message.lower(), finding.recorded_message
    assert finding.message.strip(), "every result needs a reason"


def assert_covered(cases: Iterable[Any], module: ModuleType) -> None:
    """Every check of ``module`` has at least one pass, one fail and one error case."""
    seen: dict[str, set[Status]] = {}
    for item in cases:
        case = item.values[0] if hasattr(item, "values") else item
        seen.setdefault(case.check.id, set()).add(case.expect)
    checks = [v for v in vars(module).values() if isinstance(v, Check)]
    assert checks, f"{module.__name__} defines no checks"
    for chk in checks:
        statuses = seen.get(chk.id, set())
        missing = {PASS, FAIL, ERROR} - statuses
        assert not missing, f"{chk.id} lacks cases for {sorted(missing)}"


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
    import pytest

    note(check.id, expect, looks_fine)
    items = resources if isinstance(resources, list) else [resources]
    return pytest.param(Case(check, items, expect, reason, **kw), id=f"{check.id}:{id}")

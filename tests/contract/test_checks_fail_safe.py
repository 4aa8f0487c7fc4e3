"""Fail safe across the whole catalog: a resource the collector could read nothing of never passes,
and neither does one whose every attribute came back as an error."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from agent.evaluate import evaluate
from agent.models import Resource, Snapshot, Status
from agent.registry import load_checks
from checks.base import Check

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
CHECKS = sorted(load_checks().values(), key=lambda c: c.id)


def _run(chk: Check, resource: Resource) -> Status:
    snap = Snapshot(
        source="t",
        provider=chk.meta.provider,
        account="acct",
        started_at=NOW - timedelta(minutes=1),
        finished_at=NOW,
        resources=(resource,),
    )
    [finding] = [f for f in evaluate(snap, [chk]) if f.resource_id == resource.id]
    return finding.status


def _resource(chk: Check, attributes: dict[str, object], errors: dict[str, str]) -> Resource:
    provider = chk.meta.provider
    return Resource(
        provider=provider,
        account="acct",
        region="global",
        type=chk.meta.resource_type,
        id=f"{chk.meta.resource_type}/nothing-read",
        name="nothing-read",
        attributes=attributes,
        errors=errors,
    )


@pytest.mark.parametrize("chk", CHECKS, ids=lambda c: c.id)
def test_a_resource_with_nothing_collected_never_passes(chk: Check) -> None:
    assert _run(chk, _resource(chk, {}, {})) != Status.PASS


@pytest.mark.parametrize("chk", CHECKS, ids=lambda c: c.id)
def test_a_resource_whose_reads_all_failed_never_passes(chk: Check) -> None:
    """Every attribute name any check of the catalog reads, each recorded as denied."""
    denied = {key: "AccessDenied: not authorized" for key in _ATTRIBUTE_NAMES}
    assert _run(chk, _resource(chk, {}, denied)) != Status.PASS


def _attribute_names() -> set[str]:
    import ast
    from pathlib import Path

    names: set[str] = set()
    for path in (Path(__file__).resolve().parents[2] / "checks").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", getattr(node.func, "attr", "")) in ("need", "known", "props")
                and len(node.args) >= 2
                and isinstance(node.args[1], ast.Constant)
            ):
                names.add(str(node.args[1].value))
    return names | {"properties"}


_ATTRIBUTE_NAMES = _attribute_names()

"""Drift between two snapshots of one (source, account). Pure: no I/O, no clock.

Two kinds of change come out of here:

- resource changes: added, removed, modified (with attribute-level paths and old/new values);
- finding transitions: a FindingChange (computed by the store) classified as regressed,
  resolved, new_failing, error, gone or excepted.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from agent.models import FindingChange, Resource
from agent.observations import strip_observations

__all__ = [
    "DRIFT_KINDS",
    "ABSENT",
    "AttributeChange",
    "DriftEvent",
    "ResourceChange",
    "classify",
    "diff_attributes",
    "diff_manifests",
    "diff_resources",
    "FAILURE_KINDS",
    "RESOLUTION_KINDS",
]

# every kind of drift event, in the order `drift --kind` and the console list them
DRIFT_KINDS = (
    "added",
    "removed",
    "modified",
    "regressed",
    "resolved",
    "new_failing",
    "error",
    "gone",
    "excepted",
    "requirement_regressed",
    "requirement_resolved",
    "requirement_changed",
)

MAX_CHANGES_PER_RESOURCE = 200  # a rewritten policy document must not produce a megabyte event

# Finding transition kinds that alert: a new problem, or a problem that went away.
FAILURE_KINDS = frozenset({"regressed", "new_failing"})
RESOLUTION_KINDS = frozenset({"resolved"})


@dataclass(frozen=True, kw_only=True)
class DriftEvent:
    """One recorded change of a cycle: a resource added, removed or modified, a finding transition
    (regressed, resolved, ...) or a framework requirement changing state."""

    kind: str
    source: str
    provider: str
    account: str
    region: str
    resource_id: str
    resource_type: str
    check_id: str = ""
    severity: str = ""
    previous_status: str | None = None
    status: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    uid: str = ""


class _Absent:
    """The value on the side where the attribute does not exist."""

    _inst: _Absent | None = None

    def __new__(cls) -> _Absent:
        if cls._inst is None:
            cls._inst = super().__new__(cls)
        return cls._inst

    def __repr__(self) -> str:
        return "(absent)"


ABSENT: Any = _Absent()


def _fmt(value: Any) -> str:
    if value is ABSENT:
        return "(absent)"
    return json.dumps(value, sort_keys=True, default=str, ensure_ascii=False)


@dataclass(frozen=True, slots=True)
class AttributeChange:
    path: str  # dotted, list items as [i]: PublicAccessBlockConfiguration.BlockPublicAcls
    old: Any
    new: Any

    def __str__(self) -> str:
        return f"{self.path}: {_fmt(self.old)} -> {_fmt(self.new)}"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"path": self.path}
        if self.old is not ABSENT:
            out["old"] = self.old
        if self.new is not ABSENT:
            out["new"] = self.new
        return out


@dataclass(frozen=True, slots=True)
class ResourceChange:
    kind: str  # added | removed | modified
    resource_id: str
    resource_type: str
    provider: str
    account: str
    region: str
    changes: tuple[AttributeChange, ...] = ()
    truncated: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "changes": [c.to_dict() for c in self.changes],
            "summary": [str(c) for c in self.changes],
            "truncated": self.truncated,
        }


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _walk(old: Any, new: Any, path: str, out: list[AttributeChange]) -> None:
    if len(out) > MAX_CHANGES_PER_RESOURCE:
        return
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        for key in sorted(set(old) | set(new), key=str):
            _walk(old.get(key, ABSENT), new.get(key, ABSENT), _join(path, str(key)), out)
    elif isinstance(old, list) and isinstance(new, list):
        for i in range(max(len(old), len(new))):
            _walk(old[i] if i < len(old) else ABSENT, new[i] if i < len(new) else ABSENT, f"{path}[{i}]", out)
    elif old != new or type(old) is not type(new):
        # 1 == True in Python; a flag that became 1 is still a change worth showing
        out.append(AttributeChange(path or "(root)", old, new))


def diff_attributes(old: Mapping[str, Any], new: Mapping[str, Any]) -> tuple[tuple[AttributeChange, ...], bool]:
    """Leaf-level differences of two attribute trees; (changes, truncated)."""
    out: list[AttributeChange] = []
    _walk(old, new, "", out)
    truncated = len(out) > MAX_CHANGES_PER_RESOURCE
    return tuple(out[:MAX_CHANGES_PER_RESOURCE]), truncated


def _resource_tree(r: Resource, observations: Iterable[str] = ()) -> dict[str, Any]:
    tree: dict[str, Any] = strip_observations(r.attributes, observations)
    # name and unreadable inputs are part of what a reviewer wants to see change
    if r.name:
        tree["(name)"] = r.name
    if r.errors:
        tree["(errors)"] = dict(r.errors)
    return tree


def diff_manifests(prev: Mapping[str, str], cur: Mapping[str, str]) -> tuple[list[str], list[str], list[str]]:
    """(added, removed, modified) resource ids of two id -> content-hash manifests."""
    added = [rid for rid in cur if rid not in prev]
    removed = [rid for rid in prev if rid not in cur]
    modified = [rid for rid, h in cur.items() if rid in prev and prev[rid] != h]
    return sorted(added), sorted(removed), sorted(modified)


def _change(
    kind: str, r: Resource, changes: tuple[AttributeChange, ...] = (), truncated: bool = False
) -> ResourceChange:
    return ResourceChange(
        kind=kind,
        resource_id=r.id,
        resource_type=r.type,
        provider=r.provider,
        account=r.account,
        region=r.region,
        changes=changes,
        truncated=truncated,
    )


def diff_resources(
    prev: Mapping[str, Resource] | Iterable[Resource], cur: Mapping[str, Resource] | Iterable[Resource]
) -> list[ResourceChange]:
    """Resource changes between two snapshots (by id; unchanged bodies skipped by content hash).
    Observations (agent.observations) are not changes: a body that differs only by them is none."""
    p = prev if isinstance(prev, Mapping) else {r.id: r for r in prev}
    c = cur if isinstance(cur, Mapping) else {r.id: r for r in cur}
    added, removed, modified = diff_manifests(
        {k: v.content_hash for k, v in p.items()}, {k: v.content_hash for k, v in c.items()}
    )
    out = [_change("added", c[rid]) for rid in added]
    out += [_change("removed", p[rid]) for rid in removed]
    for rid in modified:
        # either side's observations, so that a body stored before its type declared them (or with
        # them left in) differs only by its configuration
        ticks = sorted({*p[rid].observations, *c[rid].observations})
        changes, truncated = diff_attributes(_resource_tree(p[rid], ticks), _resource_tree(c[rid], ticks))
        if changes:
            out.append(_change("modified", c[rid], changes, truncated))
    return out


def classify(change: FindingChange) -> str | None:
    """The drift kind of a finding transition, or None when it is not worth an event
    (e.g. a new resource that passes)."""
    prev, now = change.previous_status, change.status
    if now == "excepted":
        return "excepted" if prev != "excepted" else None
    if now == "fail":
        if prev is None:
            return "new_failing"
        return "regressed" if prev != "fail" else None
    if now in ("pass", "not_applicable"):
        return "resolved" if prev == "fail" else None
    if now == "error":
        return "error" if prev != "error" else None
    if now == "gone":
        return "gone"
    return None

"""The contract every check follows.

A check is a small pure function over one resource of its ``resource_type``::

    @check(
        id="aws.s3.bucket_versioning",
        title="S3 buckets have versioning enabled",
        severity=Severity.MEDIUM,
        resource_type="aws.s3.bucket",
        rationale="...",
        remediation=Remediation(console="...", cli="aws s3api put-bucket-versioning ..."),
    )
    def bucket_versioning(bucket: Resource, ctx: Context) -> Verdict:
        status = need(bucket, "Versioning").get("Status")
        return passed("versioning is enabled") if status == "Enabled" else failed("versioning is off")

The evaluator calls it once per resource of that type. ``need`` raises ``MissingInput`` when the
collector could not read an attribute, and the evaluator turns that into an ``error`` result: a
check never passes on data that was not collected. Checks import only the standard library,
``agent.models`` and this module (a contract test enforces it).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from agent.models import Resource, Severity, Snapshot, Status

__all__ = [
    "Check",
    "CheckMeta",
    "Context",
    "MissingInput",
    "Remediation",
    "Severity",
    "Verdict",
    "check",
    "failed",
    "need",
    "not_applicable",
    "passed",
]

# Resource-type prefixes whose snapshots carry another provider name.
_PROVIDER_OF_PREFIX = {"endpoint": "endpoints"}

_ID = re.compile(r"^[a-z0-9]+(\.[a-z0-9_]+){2,}$")


@dataclass(frozen=True)
class Verdict:
    status: Status
    reason: str
    # the observation values that decided it ("last check-in 2026-11-30T09:12:00Z"): recorded with the
    # finding event when the status or reason changes, never a change by itself (agent.observations).
    # ``reason`` stays free of values that tick, or every poll would be a new event.
    observed: str = ""


def passed(reason: str, observed: str = "") -> Verdict:
    return Verdict(Status.PASS, reason, observed)


def failed(reason: str, observed: str = "") -> Verdict:
    return Verdict(Status.FAIL, reason, observed)


def not_applicable(reason: str) -> Verdict:
    return Verdict(Status.NOT_APPLICABLE, reason)


class MissingInput(Exception):
    """Raised by a check when an input it needs was not collected."""


def need(resource: Resource, key: str) -> Any:
    """The attribute ``key`` of ``resource``, or MissingInput if the collector could not read it."""
    if key in resource.errors:
        raise MissingInput(f"{key} could not be read: {resource.errors[key]}")
    if key not in resource.attributes:
        raise MissingInput(f"{key} was not collected")
    return resource.attributes[key]


@dataclass(frozen=True, kw_only=True)
class Remediation:
    console: str
    cli: str = ""
    docs: str = ""


@dataclass(frozen=True, kw_only=True)
class CheckMeta:
    id: str
    title: str
    severity: Severity
    resource_type: str
    rationale: str
    remediation: Remediation
    requires: tuple[str, ...] = ()
    references: tuple[str, ...] = ()
    params: Mapping[str, Any] = field(default_factory=dict)
    # What the check reads, as "API call: fields" lines, and the permission or licence it needs:
    # the catalog in docs/checks.md is generated from these.
    reads: tuple[str, ...] = ()
    needs: str = ""

    @property
    def provider(self) -> str:
        """The snapshot provider this check runs on (``endpoint.device`` -> ``endpoints``)."""
        prefix = self.resource_type.split(".", 1)[0]
        return _PROVIDER_OF_PREFIX.get(prefix, prefix)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "severity": self.severity.value,
            "provider": self.provider,
            "resource_type": self.resource_type,
            "requires": list(self.requires),
            "rationale": self.rationale,
            "remediation": {
                "console": self.remediation.console,
                "cli": self.remediation.cli,
                "docs": self.remediation.docs,
            },
            "references": list(self.references),
            "params": dict(self.params),
            "reads": list(self.reads),
            "needs": self.needs,
        }


@dataclass(frozen=True, kw_only=True)
class Context:
    """What a check may look at besides its resource: the whole snapshot, its parameters, the
    evaluation time (the snapshot's end, so results are reproducible)."""

    snapshot: Snapshot
    params: Mapping[str, Any]
    now: datetime


CheckFn = Callable[[Resource, Context], Verdict]


@dataclass(frozen=True)
class Check:
    meta: CheckMeta
    fn: CheckFn

    @property
    def id(self) -> str:
        return self.meta.id

    def __call__(self, resource: Resource, ctx: Context) -> Verdict:
        return self.fn(resource, ctx)


def check(
    *,
    id: str,
    title: str,
    severity: Severity,
    resource_type: str,
    rationale: str,
    remediation: Remediation,
    requires: tuple[str, ...] = (),
    references: tuple[str, ...] = (),
    params: Mapping[str, Any] | None = None,
    reads: tuple[str, ...] = (),
    needs: str = "",
) -> Callable[[CheckFn], Check]:
    """Declare a check; the module attribute becomes a ``Check`` the registry discovers."""
    if not _ID.match(id):
        raise ValueError(f"check id {id!r} must look like provider.service.name")
    if not id.startswith(resource_type.split(".", 1)[0] + "."):
        raise ValueError(f"check id {id!r} must start with its provider")
    meta = CheckMeta(
        id=id,
        title=title,
        severity=severity,
        resource_type=resource_type,
        rationale=rationale,
        remediation=remediation,
        requires=tuple(requires),
        references=tuple(references),
        params=dict(params or {}),
        reads=tuple(reads),
        needs=needs,
    )

    def wrap(fn: CheckFn) -> Check:
        return Check(meta, fn)

    return wrap

"""The records that flow one way through the agent: collector -> snapshot -> checks -> findings.

Every record is a frozen dataclass with a canonical JSON form (sorted keys, UTC timestamps ending
in ``Z``) so it can be hashed, stored once and compared across cycles.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import json
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from fnmatch import fnmatchcase
from functools import cached_property
from typing import Any

from posture_verify.canonical import isoformat  # the spelling every hashed time uses (docs/evidence-format.md)

from agent.observations import strip_observations

__all__ = [
    "CollectionError",
    "ExceptionRule",
    "Finding",
    "FindingChange",
    "WARN_BEFORE",
    "Resource",
    "SEVERITY_RANK",
    "Severity",
    "Snapshot",
    "Status",
    "canonical_json",
    "finding_uid",
    "new_run_id",
    "isoformat",
    "sha256_hex",
    "utcnow",
]


class Status(enum.StrEnum):
    PASS = "pass"
    FAIL = "fail"
    ERROR = "error"
    NOT_APPLICABLE = "not_applicable"
    EXCEPTED = "excepted"  # a failure covered by a risk-acceptance exception


class Severity(enum.StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"

    @property
    def rank(self) -> int:
        """Higher is worse: critical=4 ... info=0."""
        return SEVERITY_RANK[self]


SEVERITY_RANK: dict[str, int] = {  # keyed by Severity, which is a str: plain names work too
    Severity.CRITICAL: 4,
    Severity.HIGH: 3,
    Severity.MEDIUM: 2,
    Severity.LOW: 1,
    Severity.INFO: 0,
}


def utcnow() -> datetime:
    return datetime.now(UTC)


def _json_default(obj: Any) -> Any:
    if isinstance(obj, datetime):
        return isoformat(obj)
    if isinstance(obj, enum.Enum):
        return obj.value
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}
    if isinstance(obj, (set, frozenset)):
        return sorted(obj)
    if isinstance(obj, bytes):
        return obj.decode("utf-8", "replace")
    raise TypeError(f"cannot serialise {type(obj).__name__}")


def canonical_json(obj: Any) -> bytes:
    """Stable bytes for hashing: sorted keys, no whitespace, UTF-8."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_json_default).encode(
        "utf-8"
    )


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def new_run_id(now: datetime | None = None) -> str:
    """32 hex characters that sort by time (48-bit milliseconds, then 80 random bits, as UUIDv7
    lays them out): run ids then append to the end of their index instead of landing at random."""
    ms = int((now or datetime.now(UTC)).timestamp() * 1000)
    return f"{ms:012x}{secrets.token_hex(10)}"


# joins a finding's message and the observations that decided it in the recorded message
OBSERVED_MARK = " (observed: "


def finding_uid(check_id: str, resource_id: str) -> str:
    """The same problem on the same resource keeps its id across runs."""
    return sha256_hex(f"{check_id}\x00{resource_id}".encode())[:32]


@dataclass(frozen=True, kw_only=True)
class Resource:
    """One cloud object or device as the collector saw it.

    ``id`` is globally unique: the ARN for AWS, the full resource name for GCP, the ARM id for
    Azure, a stable device id for endpoints. ``attributes`` holds the raw API shape (timestamps
    as ISO strings). ``errors`` names the detail attributes that could not be read, so a check
    that needs one reports ``error`` instead of guessing. ``observations`` names the attribute paths
    that tick with time (agent.observations): checks see them, the stored body leaves them out.
    """

    provider: str
    account: str
    region: str
    type: str
    id: str
    name: str = ""
    attributes: Mapping[str, Any] = field(default_factory=dict)
    errors: Mapping[str, str] = field(default_factory=dict)
    observations: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        out = {
            "provider": self.provider,
            "account": self.account,
            "region": self.region,
            "type": self.type,
            "id": self.id,
            "name": self.name,
            "attributes": self.attributes,
            "errors": self.errors,
        }
        if self.observations:  # absent otherwise: bodies of types without any keep their hash
            out["observations"] = list(self.observations)
        return out

    def stored_dict(self) -> dict[str, Any]:
        """What the evidence store keeps and drift compares: the observations left out, named."""
        out = self.to_dict()
        if self.observations:
            out["attributes"] = strip_observations(self.attributes, self.observations)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Resource:
        return cls(
            provider=data["provider"],
            account=data["account"],
            region=data["region"],
            type=data["type"],
            id=data["id"],
            name=data.get("name", ""),
            attributes=data.get("attributes", {}),
            errors=data.get("errors", {}),
            observations=tuple(data.get("observations", ())),
        )

    def canonical(self) -> bytes:
        return canonical_json(self.stored_dict())

    @cached_property
    def content_hash(self) -> str:
        return sha256_hex(self.canonical())


@dataclass(frozen=True, kw_only=True)
class CollectionError:
    """An input the collector could not read. ``resource_type`` says which checks it starves."""

    service: str
    operation: str
    region: str
    code: str
    message: str
    resource_type: str = ""

    def to_dict(self) -> dict[str, str]:
        return {
            "service": self.service,
            "operation": self.operation,
            "region": self.region,
            "code": self.code,
            "message": self.message,
            "resource_type": self.resource_type,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CollectionError:
        return cls(
            **{k: str(data.get(k, "")) for k in ("service", "operation", "region", "code", "message", "resource_type")}
        )

    def summary(self) -> str:
        where = f" in {self.region}" if self.region else ""
        return f"{self.service}:{self.operation}{where}: {self.code}: {self.message}"


@dataclass(frozen=True, kw_only=True)
class Snapshot:
    """What one collection of one account of one source saw."""

    source: str
    provider: str
    account: str
    started_at: datetime
    finished_at: datetime
    resources: tuple[Resource, ...] = ()
    errors: tuple[CollectionError, ...] = ()

    @property
    def complete(self) -> bool:
        return not self.errors

    @property
    def status(self) -> str:
        return "complete" if self.complete else "partial"

    @cached_property
    def _by_type(self) -> dict[str, list[Resource]]:
        index: dict[str, list[Resource]] = {}
        for r in self.resources:
            index.setdefault(r.type, []).append(r)
        return index

    @cached_property
    def _by_id(self) -> dict[str, Resource]:
        return {r.id: r for r in self.resources}

    def of_type(self, resource_type: str, *, region: str | None = None) -> list[Resource]:
        items = self._by_type.get(resource_type, [])
        if region is None:
            return list(items)
        return [r for r in items if r.region == region]

    def get(self, resource_id: str) -> Resource | None:
        return self._by_id.get(resource_id)

    def errors_for(self, resource_types: Iterable[str]) -> list[CollectionError]:
        wanted = set(resource_types)
        return [e for e in self.errors if e.resource_type in wanted]


@dataclass(frozen=True, kw_only=True)
class Finding:
    """What a check says about one resource, with its context: which check, which resource, which
    framework requirements it bears on (``SOC2:CC6.1``; our own control ids live in agent.mappings)."""

    uid: str
    check_id: str
    resource_id: str
    resource_type: str
    provider: str
    account: str
    region: str
    status: Status
    severity: Severity
    message: str
    requirements: tuple[str, ...]  # framework requirement refs, in scope (Mappings.tags_for)
    evaluated_at: datetime
    source: str = ""
    # the observation values that decided it (checks.base.Verdict.observed): stored with the message
    # when an event is written, not compared (``recorded_message``, ``same_message``)
    observed: str = ""

    @property
    def recorded_message(self) -> str:
        """The message as a finding event records it: with the deciding observations, if any."""
        return f"{self.message}{OBSERVED_MARK}{self.observed})" if self.observed else self.message

    def same_message(self, stored: str) -> bool:
        """Whether ``stored`` (a recorded message) says what this finding says, observations aside."""
        return stored == self.recorded_message or (
            bool(self.observed) and stored.startswith(self.message + OBSERVED_MARK) and stored.endswith(")")
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "uid": self.uid,
            "check_id": self.check_id,
            "resource_id": self.resource_id,
            "resource_type": self.resource_type,
            "provider": self.provider,
            "account": self.account,
            "region": self.region,
            "status": self.status.value,
            "severity": self.severity.value,
            "message": self.message,
            "controls": list(self.requirements),  # the key of the scan JSON contract (scan-output.schema.json)
            "evaluated_at": isoformat(self.evaluated_at),
            "source": self.source,
            **({"observed": self.observed} if self.observed else {}),
        }


@dataclass(frozen=True, kw_only=True)
class FindingChange:
    """A finding whose status differs from the last cycle's (previous_status None: first seen)."""

    uid: str
    check_id: str
    resource_id: str
    previous_status: str | None
    status: str
    finding: Finding | None  # None when the finding is gone (resource deleted) or not collected


WARN_BEFORE = timedelta(days=7)  # an exception about to expire is announced this long before


@dataclass(frozen=True, kw_only=True)
class ExceptionRule:
    id: int
    check_id: str
    resource_pattern: str
    reason: str
    owner: str
    created_at: datetime
    expires_at: datetime
    warned_at: datetime | None = None
    expired_at: datetime | None = None

    def active(self, now: datetime) -> bool:
        return now < self.expires_at

    def matches(self, finding: Finding) -> bool:
        # case-sensitive: ARNs and bucket names are
        return finding.check_id == self.check_id and fnmatchcase(finding.resource_id, self.resource_pattern)

    def state(self, now: datetime) -> str:
        if not self.active(now):
            return "expired"
        return "expiring" if self.expires_at - now <= WARN_BEFORE else "active"

    def to_dict(self, now: datetime | None = None) -> dict[str, Any]:
        return {
            "id": self.id,
            "check_id": self.check_id,
            "resource_pattern": self.resource_pattern,
            "reason": self.reason,
            "owner": self.owner,
            "created_at": isoformat(self.created_at),
            "expires_at": isoformat(self.expires_at),
            "state": self.state(now or utcnow()),
        }

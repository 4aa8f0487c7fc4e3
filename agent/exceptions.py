"""Risk acceptance: a failing finding matched by an active exception is recorded as ``excepted``.

The finding is never dropped: its status becomes ``excepted`` and its message keeps the original
status and reason. An exception stops applying at ``expires_at`` (the finding fails again, which
alerts as a regression); a week before that an "expiring" notice goes out (agent/watch.py).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from fnmatch import fnmatchcase
from typing import Any

from sqlalchemy import Connection, insert, select

from agent.errors import UsageError
from agent.models import Finding, Status, isoformat, utcnow
from agent.store import Store
from agent.store.alerting import exceptions as t

__all__ = [
    "WARN_BEFORE",
    "ExceptionRule",
    "add_exception",
    "apply_exceptions",
    "list_exceptions",
    "load_rules",
]

WARN_BEFORE = timedelta(days=7)


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


def _rule(r: Any) -> ExceptionRule:
    return ExceptionRule(
        id=r.id,
        check_id=r.check_id,
        resource_pattern=r.resource_pattern,
        reason=r.reason,
        owner=r.owner,
        created_at=r.created_at,
        expires_at=r.expires_at,
        warned_at=r.warned_at,
        expired_at=r.expired_at,
    )


def load_rules(conn: Connection) -> list[ExceptionRule]:
    return [_rule(r) for r in conn.execute(select(t).order_by(t.c.id))]


def list_exceptions(store: Store) -> list[ExceptionRule]:
    with store.engine.connect() as conn:
        return load_rules(conn)


def apply_exceptions(findings: Sequence[Finding], rules: Iterable[ExceptionRule], now: datetime) -> list[Finding]:
    """Failing findings covered by an active rule become ``excepted`` (original status kept in the
    message); everything else is returned unchanged."""
    active = [r for r in rules if r.active(now)]
    if not active:
        return list(findings)
    out: list[Finding] = []
    for f in findings:
        rule = next((r for r in active if r.matches(f)), None) if f.status == Status.FAIL else None
        if rule is None:
            out.append(f)
            continue
        out.append(
            dataclasses.replace(
                f,
                status=Status.EXCEPTED,
                message=(
                    f"excepted (was {f.status.value}) by exception #{rule.id} of {rule.owner} until "
                    f"{isoformat(rule.expires_at)}: {f.message}"
                ),
            )
        )
    return out


def add_exception(
    store: Store,
    *,
    check_id: str,
    resource_pattern: str,
    reason: str,
    owner: str,
    expires_at: datetime,
    now: datetime | None = None,
) -> int:
    """Record an exception (and an ``exception`` entry in the evidence chain); returns its id."""
    now = now or utcnow()
    if expires_at <= now:
        raise UsageError(f"--expires {isoformat(expires_at)} is in the past")
    for name, value in (("--reason", reason), ("--owner", owner), ("--resource", resource_pattern)):
        if not value.strip():
            raise UsageError(f"{name} must not be empty")
    # the store's own transaction: serialises with cycles and, on PostgreSQL, with other chain writers
    with store.transaction() as conn:
        new_id = int(
            conn.execute(
                insert(t)
                .values(
                    check_id=check_id,
                    resource_pattern=resource_pattern,
                    reason=reason,
                    owner=owner,
                    created_at=now,
                    expires_at=expires_at,
                )
                .returning(t.c.id)
            ).scalar_one()
        )
        store.append_evidence(
            conn,
            at=now,
            kind="exception",
            ref=f"exception:{new_id}",
            content={
                "id": new_id,
                "check_id": check_id,
                "resource_pattern": resource_pattern,
                "reason": reason,
                "owner": owner,
                "created_at": now,
                "expires_at": expires_at,
            },
        )
    return new_id

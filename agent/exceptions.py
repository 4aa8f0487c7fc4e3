"""Risk acceptance: a failing finding matched by an active exception is recorded as ``excepted``.

The finding is never dropped: its status becomes ``excepted`` and its message keeps the original
status and reason. An exception stops applying at ``expires_at`` (the finding fails again, which
alerts as a regression); a week before that an "expiring" notice goes out (agent/stages/alerts.py).
"""

from __future__ import annotations

from datetime import datetime

from agent.errors import UsageError
from agent.models import WARN_BEFORE, ExceptionRule, isoformat, utcnow
from agent.stages.exceptions import apply_exceptions
from agent.store import Store, exception_rules

__all__ = [
    "WARN_BEFORE",
    "ExceptionRule",
    "add_exception",
    "apply_exceptions",
    "list_exceptions",
]


def list_exceptions(store: Store) -> list[ExceptionRule]:
    return exception_rules.list_rules(store)


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
    return exception_rules.insert_rule(
        store,
        check_id=check_id,
        resource_pattern=resource_pattern,
        reason=reason,
        owner=owner,
        expires_at=expires_at,
        now=now,
    )

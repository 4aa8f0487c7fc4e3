"""Sweeps: the scheduler's unit of work past one machine.

A sweep is one scheduled run of one source, split into one task per account. The scheduler opens it
(one row, and one row per account it expects: agent/store/sweep_rows.py) before publishing any
task; each worker's run claims its (sweep, account) row inside the run's own transaction
(CycleTransaction.claim), so a redelivered task stores nothing twice; at the deadline the scheduler
closes the sweep, recording for every account still unclaimed a gap run whose findings are all
``error`` (never ``pass``): a dead worker shows as a gap in the evidence, not as silence.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from agent.models import CollectionError, Snapshot, utcnow
from checks.base import Check

__all__ = ["GAP_CODE", "Task", "gap_snapshot"]

GAP_CODE = "SweepDeadline"


@dataclass(frozen=True)
class Task:
    """One account of one sweep, as published to the broker: names only, never a secret (the worker
    resolves its credentials from its own config). ``account`` "" is the whole source (a provider
    whose accounts the scheduler does not expand); ``role_arn`` is AWS's role to assume, if any."""

    sweep_id: str
    source: str
    provider: str
    account: str
    role_arn: str | None = None

    def to_message(self) -> dict[str, Any]:
        return {
            "sweep": self.sweep_id,
            "source": self.source,
            "provider": self.provider,
            "account": self.account,
            "role_arn": self.role_arn,
        }

    @classmethod
    def from_message(cls, body: Mapping[str, Any]) -> Task:
        """A task from a broker message; a malformed one raises ValueError naming the field."""

        def text(key: str, *, optional: bool = False) -> Any:
            value = body.get(key)
            if value is None and optional:
                return None
            if not isinstance(value, str) or len(value) > 256:
                raise ValueError(f"task field {key!r} must be a string of at most 256 characters")
            return value

        return cls(
            sweep_id=text("sweep"),
            source=text("source"),
            provider=text("provider"),
            account=text("account"),
            role_arn=text("role_arn", optional=True),
        )


def gap_snapshot(
    *, source: str, provider: str, account: str, started: datetime, deadline: datetime, checks: Iterable[Check]
) -> Snapshot:
    """What a sweep knows of an account no worker recorded by the deadline: nothing. One collection
    error per resource type the provider's checks read, every region: each check reports ``error``
    for the account, and its earlier findings are kept as not collected rather than resolved."""
    types = sorted({t for c in checks if c.meta.provider == provider for t in (c.meta.resource_type, *c.meta.requires)})
    message = f"not collected by the sweep's deadline ({deadline.isoformat()}): no worker recorded this account"
    errors = tuple(
        CollectionError(
            service="sweep", operation="collect", region="", code=GAP_CODE, message=message, resource_type=t
        )
        for t in types
    )
    return Snapshot(
        source=source, provider=provider, account=account, started_at=started, finished_at=utcnow(), errors=errors
    )

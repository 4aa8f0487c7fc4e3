"""Sweeps: the scheduler's unit of work past one machine.

A sweep is one scheduled run of one source, split into one task per account. The scheduler opens it
(one row, and one row per account it expects) before publishing any task; each worker's run claims
its (sweep, account) row inside the run's own transaction (CycleTransaction.claim), so a redelivered
task stores nothing twice; at the deadline the scheduler closes the sweep, recording for every
account still unclaimed a gap run whose findings are all ``error`` (never ``pass``): a dead worker
shows as a gap in the evidence, not as silence.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, insert, select, update

from agent.models import CollectionError, Finding, Snapshot, new_run_id, utcnow
from agent.store.db import Store
from agent.store.sweep_rows import sweep_accounts, sweeps
from checks.base import Check

__all__ = ["OpenSweep", "Task", "gap_snapshot", "open_sweep", "overdue_sweeps", "pending", "sweep_accounts_of"]

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


@dataclass(frozen=True)
class OpenSweep:
    id: str
    source: str
    provider: str
    deadline: datetime
    unclaimed: tuple[str, ...]


def open_sweep(
    conn: Connection,
    *,
    source: str,
    provider: str,
    accounts: Sequence[str],
    deadline: timedelta,
    epoch: int,
    detail: Mapping[str, Any] | None = None,
    now: datetime | None = None,
) -> str:
    """Insert the sweep and the accounts it expects (in the caller's transaction); returns its id."""
    now = now or utcnow()
    sweep_id = new_run_id(now)
    conn.execute(
        insert(sweeps).values(
            id=sweep_id,
            source=source,
            provider=provider,
            epoch=epoch,
            started_at=now,
            deadline=now + deadline,
            closed_at=None,
            detail=json.dumps(dict(detail or {}), sort_keys=True, default=str),
        )
    )
    rows = [{"sweep_id": sweep_id, "account": a} for a in dict.fromkeys(accounts)]
    if rows:
        conn.execute(insert(sweep_accounts), rows)
    return sweep_id


def pending(store: Store, sweep_id: str, account: str) -> bool:
    """Whether (sweep, account) still waits for its run: false once recorded, or for an unknown or
    closed sweep (a worker then skips the task before collecting anything)."""
    with store.engine.connect() as conn:
        row = conn.execute(
            select(sweep_accounts.c.run_id, sweeps.c.closed_at)
            .join(sweeps, sweeps.c.id == sweep_accounts.c.sweep_id)
            .where(sweep_accounts.c.sweep_id == sweep_id, sweep_accounts.c.account == account)
        ).first()
    return row is not None and row.run_id is None and row.closed_at is None


def overdue_sweeps(store: Store, now: datetime | None = None) -> list[OpenSweep]:
    """Open sweeps past their deadline, with the accounts none of whose runs was recorded."""
    now = now or utcnow()
    with store.engine.connect() as conn:
        due = conn.execute(
            select(sweeps.c.id, sweeps.c.source, sweeps.c.provider, sweeps.c.deadline).where(
                sweeps.c.closed_at.is_(None), sweeps.c.deadline <= now
            )
        ).all()
        out = []
        for s in due:
            left = conn.execute(
                select(sweep_accounts.c.account)
                .where(sweep_accounts.c.sweep_id == s.id, sweep_accounts.c.run_id.is_(None))
                .order_by(sweep_accounts.c.account)
            ).scalars()
            out.append(OpenSweep(s.id, s.source, s.provider, s.deadline, tuple(left)))
    return out


def close(conn: Connection, sweep_id: str, now: datetime) -> None:
    conn.execute(update(sweeps).where(sweeps.c.id == sweep_id, sweeps.c.closed_at.is_(None)).values(closed_at=now))


def sweep_accounts_of(store: Store, sweep_id: str) -> dict[str, tuple[str | None, str | None]]:
    """account -> (run id, outcome) of one sweep: what the tests and ``sweeps`` reports read."""
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(sweep_accounts.c.account, sweep_accounts.c.run_id, sweep_accounts.c.outcome).where(
                sweep_accounts.c.sweep_id == sweep_id
            )
        ).all()
    return {r.account: (r.run_id, r.outcome) for r in rows}


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


def gap_findings_are_errors(findings: Sequence[Finding]) -> bool:
    """A gap's findings: none may say pass (checked before they are stored)."""
    return all(f.status.value == "error" for f in findings)


@dataclass(frozen=True)
class SweepSummary:
    id: str
    source: str
    started_at: datetime
    deadline: datetime
    closed_at: datetime | None
    expected: int
    recorded: int
    failed: int
    gaps: int

    @property
    def waiting(self) -> int:
        return self.expected - self.recorded


def sweep_summaries(store: Store, since: datetime, source: str | None = None, limit: int = 200) -> list[SweepSummary]:
    """The sweeps started since ``since`` (newest first), with how many accounts each expected, how
    many were recorded, failed, or closed as gaps at the deadline."""
    from sqlalchemy import case, func

    a = sweep_accounts.c
    query = (
        select(
            sweeps.c.id,
            sweeps.c.source,
            sweeps.c.started_at,
            sweeps.c.deadline,
            sweeps.c.closed_at,
            func.count(a.account).label("expected"),
            func.count(a.run_id).label("recorded"),
            func.sum(case((a.outcome == "failed", 1), else_=0)).label("failed"),
            func.sum(case((a.outcome == "gap", 1), else_=0)).label("gaps"),
        )
        .join(sweep_accounts, a.sweep_id == sweeps.c.id, isouter=True)
        .where(sweeps.c.started_at >= since)
        .group_by(sweeps.c.id)
        .order_by(sweeps.c.started_at.desc())
        .limit(limit)
    )
    if source is not None:
        query = query.where(sweeps.c.source == source)
    with store.engine.connect() as conn:
        rows = conn.execute(query).all()
    return [
        SweepSummary(
            r.id,
            r.source,
            r.started_at,
            r.deadline,
            r.closed_at,
            int(r.expected),
            int(r.recorded),
            int(r.failed or 0),
            int(r.gaps or 0),
        )
        for r in rows
    ]

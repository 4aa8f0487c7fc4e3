"""The tables of sweeps (migration 0011), on the store's shared metadata. agent/scale/sweeps.py reads
and writes them; the worker's claim runs inside the account's cycle transaction (CycleTransaction.claim)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
    func,
    insert,
    select,
    update,
)

from agent.models import new_run_id, utcnow
from agent.store.schema import UTCDateTime, metadata

if TYPE_CHECKING:
    from agent.store.db import Store

__all__ = [
    "OpenSweep",
    "SweepSummary",
    "close",
    "complete",
    "keep_requirement_states",
    "last_requirement_states",
    "open_sweep",
    "overdue_sweeps",
    "pending",
    "sweep_accounts",
    "sweep_summaries",
    "sweeps",
]

sweeps = Table(
    "sweeps",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("source", String(128), nullable=False),
    Column("provider", String(32), nullable=False),
    Column("epoch", BigInteger, nullable=False),  # the scheduler's lease epoch when it opened the sweep
    Column("started_at", UTCDateTime, nullable=False),
    Column("deadline", UTCDateTime, nullable=False),
    Column("closed_at", UTCDateTime, nullable=True),
    Column("detail", Text, nullable=False),  # JSON: how the accounts were found, and any error doing so
    Index("ix_sweeps_open", "closed_at", "deadline"),
)

sweep_accounts = Table(
    "sweep_accounts",
    metadata,
    Column("sweep_id", String(32), ForeignKey("sweeps.id"), primary_key=True),
    Column("account", String(128), primary_key=True),
    Column("run_id", String(32), nullable=True),  # the run that recorded it; NULL: not yet
    Column("outcome", String(16), nullable=True),  # the run's status, or "gap" when closed at the deadline
    Column("recorded_at", UTCDateTime, nullable=True),
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


def complete(conn: Connection, sweep_id: str, now: datetime) -> bool:
    """Close the sweep once every account it expects has its run (in the transaction of the run that
    just claimed one); True when this call closed it. Cycle transactions are serialised, so the run
    claiming the last account sees every other claim."""
    left = conn.execute(
        select(func.count())
        .select_from(sweep_accounts)
        .where(sweep_accounts.c.sweep_id == sweep_id, sweep_accounts.c.run_id.is_(None))
    ).scalar_one()
    if left:
        return False
    done = conn.execute(
        update(sweeps).where(sweeps.c.id == sweep_id, sweeps.c.closed_at.is_(None)).values(closed_at=now)
    )
    return bool(done.rowcount == 1)


RequirementStates = dict[str, tuple[str, str, str]]  # ref -> (status, framework, title)
_RECENT_SWEEPS = 50  # sweeps whose runs all failed keep no states: look a little further back


def keep_requirement_states(conn: Connection, sweep_id: str, states: RequirementStates) -> None:
    """Keep the framework requirements' states at the sweep's end in its detail: the next sweep to
    end compares with them (requirement drift across workers)."""
    detail = json.loads(conn.execute(select(sweeps.c.detail).where(sweeps.c.id == sweep_id)).scalar_one())
    detail["requirements"] = {ref: list(v) for ref, v in states.items()}
    conn.execute(update(sweeps).where(sweeps.c.id == sweep_id).values(detail=json.dumps(detail, sort_keys=True)))


def last_requirement_states(conn: Connection, before: str) -> RequirementStates | None:
    """The requirement states kept by the sweep that ended last, other than ``before``; None when no
    sweep kept any (the first sweep to end is the baseline)."""
    rows = conn.execute(
        select(sweeps.c.detail)
        .where(sweeps.c.closed_at.is_not(None), sweeps.c.id != before)
        .order_by(sweeps.c.closed_at.desc(), sweeps.c.id.desc())
        .limit(_RECENT_SWEEPS)
    ).scalars()
    for detail in rows:
        kept = json.loads(detail).get("requirements")
        if isinstance(kept, dict):
            return {ref: (v[0], v[1], v[2]) for ref, v in kept.items()}
    return None


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

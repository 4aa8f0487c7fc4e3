"""The alert outbox table: rows are written in a cycle's transaction and delivered later.

States: pending -> sent, or pending -> parked (kept failing; visible in metrics and
`posture-agent alerts pending`). The dedup key makes enqueueing the same transition twice a no-op.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from agent.alerts.model import Alert
from agent.store.alerting import alerts_outbox as t

__all__ = [
    "OutboxRow",
    "counts",
    "due",
    "enqueue",
    "list_rows",
    "mark_failed",
    "mark_sent",
    "park",
    "park_stale",
]


@dataclass(frozen=True, kw_only=True)
class OutboxRow:
    id: int
    dedup_key: str
    channel: str
    kind: str
    alert: Alert
    state: str
    attempts: int
    created_at: datetime
    next_attempt_at: datetime
    sent_at: datetime | None
    last_error: str


def _row(r: Any) -> OutboxRow:
    return OutboxRow(
        id=r.id,
        dedup_key=r.dedup_key,
        channel=r.channel,
        kind=r.kind,
        alert=Alert.from_json(r.payload),
        state=r.state,
        attempts=r.attempts,
        created_at=r.created_at,
        next_attempt_at=r.next_attempt_at,
        sent_at=r.sent_at,
        last_error=r.last_error,
    )


def enqueue(conn: Connection, items: Iterable[tuple[str, str, Alert]], now: datetime) -> None:
    """Insert (channel, dedup_key, alert) rows; a key already present is skipped."""
    rows = [
        {
            "dedup_key": key[:200],
            "channel": channel,
            "kind": alert.kind,
            "payload": alert.to_json(),
            "state": "pending",
            "attempts": 0,
            "created_at": now,
            "next_attempt_at": now,
            "sent_at": None,
            "last_error": "",
        }
        for channel, key, alert in items
    ]
    if not rows:
        return
    dialect = conn.dialect.name
    stmt = (postgresql.insert(t) if dialect == "postgresql" else sqlite.insert(t)).on_conflict_do_nothing(
        index_elements=["dedup_key"]
    )
    conn.execute(stmt, rows)


def due(conn: Connection, now: datetime, *, limit: int = 200) -> list[OutboxRow]:
    """Pending rows that may go now, oldest first (per-channel order is delivery order).

    A row waiting out its backoff holds back every later row of its channel, even rows that
    never failed: otherwise they would overtake it and the channel would get them out of order.
    """
    waiting = t.alias("waiting")
    earlier_waits = (
        select(waiting.c.id)
        .where(
            waiting.c.channel == t.c.channel,
            waiting.c.state == "pending",
            waiting.c.id < t.c.id,
            waiting.c.next_attempt_at > now,
        )
        .exists()
    )
    q = (
        select(t)
        .where(t.c.state == "pending", t.c.next_attempt_at <= now, ~earlier_waits)
        .order_by(t.c.id)
        .limit(limit)
    )
    return [_row(r) for r in conn.execute(q)]


def mark_sent(conn: Connection, row_id: int, now: datetime) -> None:
    conn.execute(
        update(t).where(t.c.id == row_id).values(state="sent", sent_at=now, attempts=t.c.attempts + 1, last_error="")
    )


def mark_failed(conn: Connection, row_id: int, *, attempts: int, next_attempt_at: datetime, error: str) -> None:
    conn.execute(
        update(t)
        .where(t.c.id == row_id)
        .values(attempts=attempts, next_attempt_at=next_attempt_at, last_error=error[:500])
    )


def park(conn: Connection, row_id: int, *, attempts: int, error: str) -> None:
    conn.execute(update(t).where(t.c.id == row_id).values(state="parked", attempts=attempts, last_error=error[:500]))


def park_stale(conn: Connection, channel: str, created_before: datetime, error: str) -> int:
    """Park every pending message of ``channel`` created before the cut-off (channel down too long)."""
    res = conn.execute(
        update(t)
        .where(t.c.channel == channel, t.c.state == "pending", t.c.created_at < created_before)
        .values(state="parked", last_error=error[:500])
    )
    return int(res.rowcount or 0)


def counts(conn: Connection) -> dict[tuple[str, str], int]:
    """(channel, state) -> rows, for pending and parked."""
    q = (
        select(t.c.channel, t.c.state, func.count().label("n"))
        .where(t.c.state.in_(("pending", "parked")))
        .group_by(t.c.channel, t.c.state)
    )
    return {(r.channel, r.state): int(r.n) for r in conn.execute(q)}


def list_rows(conn: Connection, states: Sequence[str] = ("pending", "parked"), limit: int = 500) -> list[OutboxRow]:
    q = select(t).where(t.c.state.in_(list(states))).order_by(t.c.id).limit(limit)
    return [_row(r) for r in conn.execute(q)]

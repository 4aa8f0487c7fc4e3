"""Reads of the console's evidence and history pages (agent/console/): checkpoints of a period with
their witnesses, exceptions in force in a period, and the finding states of a framework's checks at
the end of each day (the posture history strip), replayed from ``finding_events`` in one pass.

Nothing here writes: the export button goes through agent/evidence/export.py like the CLI.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import DateTime, func, select, type_coerce

from agent.models import ExceptionRule
from agent.store import schema as t
from agent.store.evidence_tables import evidence_anchors as an
from agent.store.evidence_tables import evidence_checkpoints as cp
from agent.store.exception_rules import load_rules

if TYPE_CHECKING:
    from agent.store.db import Store

__all__ = ["CheckpointView", "Witness", "checkpoints_in", "exceptions_in", "finding_states_at"]


@dataclass(frozen=True)
class Witness:
    kind: str  # rfc3161 | s3
    witness: str  # the TSA's URL or s3://bucket/prefix
    at: datetime


@dataclass(frozen=True)
class CheckpointView:
    seq: int
    at: datetime
    head_seq: int
    key_id: str | None
    signed: bool
    cadence_s: int | None
    rotate_to: str | None
    witnesses: tuple[Witness, ...]


def checkpoints_in(store: Store, start: datetime, end: datetime, limit: int) -> tuple[list[CheckpointView], int]:
    """The latest ``limit`` checkpoints written in [start, end), newest first, with their witnesses (never
    the tokens themselves); and how many there are in the period."""
    if not store.has_table("evidence_checkpoints"):
        return [], 0
    witnessed = store.has_table("evidence_anchors")  # before the connection: SQLite's pool holds one
    where = (cp.c.at >= start, cp.c.at < end)
    with store.engine.connect() as conn:
        total = int(conn.execute(select(func.count()).select_from(cp).where(*where)).scalar_one())
        rows = conn.execute(
            select(cp.c.seq, cp.c.at, cp.c.head_seq, cp.c.key_id, cp.c.signature, cp.c.cadence_s, cp.c.rotate_to)
            .where(*where)
            .order_by(cp.c.seq.desc())
            .limit(limit)
        ).all()
        seqs = [int(r.seq) for r in rows]
        found: dict[int, list[Witness]] = {}
        if seqs and witnessed:
            q = select(an.c.checkpoint_seq, an.c.kind, an.c.witness, an.c.at).where(
                an.c.checkpoint_seq.in_(seqs), an.c.kind != "rfc3161-certs"
            )
            for w in conn.execute(q.order_by(an.c.id)):
                found.setdefault(int(w.checkpoint_seq), []).append(Witness(w.kind, w.witness, w.at))
    views = [
        CheckpointView(
            int(r.seq),
            r.at,
            int(r.head_seq),
            r.key_id,
            r.signature is not None,
            r.cadence_s,
            r.rotate_to,
            tuple(found.get(int(r.seq), ())),
        )
        for r in rows
    ]
    return views, total


def exceptions_in(
    store: Store, start: datetime, end: datetime, checks_in: Collection[str] | None
) -> list[ExceptionRule]:
    """The exceptions in force at some time of [start, end) (created before its end, expiring after its
    start), of ``checks_in`` when given; by expiry. (Exceptions are few: read them all.)"""
    with store.engine.connect() as conn:
        rules = load_rules(conn)
    return sorted(
        (
            r
            for r in rules
            if r.created_at < end and r.expires_at > start and (checks_in is None or r.check_id in checks_in)
        ),
        key=lambda r: (r.expires_at, r.id),
    )


def finding_states_at(store: Store, checks: Collection[str], moments: Sequence[datetime]) -> list[list[dict[str, Any]]]:
    """For each of ``moments`` (ascending), one row per (check, status) that some finding of ``checks``
    had then (check_id, status; resource_id and message empty): what a requirement's status depends on
    (agent/posture.py), a few hundred rows a day instead of every finding. One ordered read of their
    events up to the last moment; a day with the same (check, status) pairs as the day before shares
    its list, so a caller can tell it is unchanged by identity."""
    if not moments or not checks:
        return [[] for _ in moments]
    fe = t.finding_events.c
    q = (
        # the stored time without UTCDateTime's per-row conversion: naive UTC on SQLite, aware on PostgreSQL
        select(fe.uid, fe.check_id, fe.status, type_coerce(fe.at, DateTime(timezone=True)))
        .where(fe.check_id.in_(sorted(checks)), fe.at <= moments[-1])
        .order_by(fe.at, fe.id)
    )
    naive = [m.astimezone(UTC).replace(tzinfo=None) for m in moments]
    out: list[list[dict[str, Any]]] = []
    of_uid: dict[str, tuple[str, str]] = {}  # uid -> (check, status) now
    counts: dict[tuple[str, str], int] = {}
    rows: list[dict[str, Any]] | None = None  # the rows of ``counts``, until a pair appears or goes

    def day() -> list[dict[str, Any]]:
        nonlocal rows
        if rows is None:
            rows = [{"check_id": c, "status": st, "resource_id": "", "message": ""} for c, st in counts]
        return rows

    i = 0
    with store.engine.connect() as conn:
        for uid, check, status, at in conn.execute(q):
            limits = naive if at.tzinfo is None else moments
            while i < len(moments) and at > limits[i]:
                out.append(day())
                i += 1
            old = of_uid.pop(uid, None)
            if old == (check, status):  # a new message, the same status
                of_uid[uid] = old
                continue
            if old is not None:
                counts[old] -= 1
                if not counts[old]:
                    del counts[old]
                    rows = None
            if status != "gone":
                now = (check, status)
                of_uid[uid] = now
                if now not in counts:
                    counts[now] = 0
                    rows = None
                counts[now] += 1
    while i < len(moments):
        out.append(day())
        i += 1
    return out

"""Reads of the console's evidence and history pages (agent/console/): checkpoints of a period with
their witnesses, exceptions in force in a period, and the finding states of a framework's checks at
the end of each day (the posture history strip), replayed from ``finding_events`` in one pass.

Nothing here writes: the export button goes through agent/evidence/export.py like the CLI.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

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
    """For each of ``moments`` (ascending), the findings of ``checks`` as they stood then (check_id,
    resource_id, status, message): one ordered read of their events up to the last moment."""
    if not moments or not checks:
        return [[] for _ in moments]
    fe = t.finding_events.c
    q = (
        select(fe.uid, fe.check_id, fe.resource_id, fe.status, fe.message, fe.at)
        .where(fe.check_id.in_(sorted(checks)), fe.at <= moments[-1])
        .order_by(fe.at, fe.id)
    )
    out: list[list[dict[str, Any]]] = []
    state: dict[str, dict[str, Any]] = {}
    i = 0
    with store.engine.connect() as conn:
        for e in conn.execute(q):
            while i < len(moments) and e.at > moments[i]:
                out.append(list(state.values()))
                i += 1
            if e.status == "gone":
                state.pop(e.uid, None)
            else:
                state[e.uid] = {
                    "check_id": e.check_id,
                    "resource_id": e.resource_id,
                    "status": e.status,
                    "message": e.message,
                }
    while i < len(moments):
        out.append(list(state.values()))
        i += 1
    return out

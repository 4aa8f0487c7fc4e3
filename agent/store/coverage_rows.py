"""The rows period coverage is computed from (agent.evidence.coverage, posture_verify.coverage)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, select, type_coerce

from agent.store import schema as t
from agent.store.alerting import exceptions as exc_t
from agent.store.db import Store
from agent.store.manual import manual_evidence

__all__ = ["CoverageRows", "coverage_rows"]

_TIME = DateTime(timezone=True)  # UTCDateTime's stored type, without its per-row conversion


@dataclass(frozen=True)
class CoverageRows:
    runs: list[dict[str, Any]]  # source, finished_at, status
    events: list[dict[str, Any]]  # finding events: uid, source, check_id, resource_id, status, message, at
    exceptions: list[dict[str, Any]]
    documents: list[dict[str, Any]]  # manual evidence, without the document itself


def coverage_rows(store: Store, start: datetime, end: datetime) -> CoverageRows:
    """The runs and finding events up to ``end`` (events in the order written), the exceptions in
    force at some time of [start, end] and every manual document, in one read."""
    with store.engine.connect() as conn:
        # rows unpacked into dicts, and times as the database gives them (naive UTC on SQLite; compute()
        # takes naive as UTC): a year holds tens of thousands of runs, and a RowMapping and a UTC
        # conversion per row cost half of the read
        runs = [
            {"source": source, "finished_at": at, "status": status}
            for source, at, status in conn.execute(
                select(t.runs.c.source, type_coerce(t.runs.c.finished_at, _TIME), t.runs.c.status).where(
                    t.runs.c.finished_at <= end
                )
            )
        ]
        fe = t.finding_events.c
        keys = ("uid", "source", "check_id", "resource_id", "status", "message", "at")
        events = [
            dict(zip(keys, row, strict=True))
            for row in conn.execute(
                select(fe.uid, fe.source, fe.check_id, fe.resource_id, fe.status, fe.message, type_coerce(fe.at, _TIME))
                .where(fe.at <= end)
                .order_by(fe.id)
            )
        ]
        excs = [
            dict(r._mapping)
            for r in conn.execute(select(exc_t).where(exc_t.c.created_at < end, exc_t.c.expires_at > start))
        ]
        docs = [dict(r._mapping) for r in conn.execute(select(*(c for c in manual_evidence.c if c.name != "content")))]
    return CoverageRows(runs=runs, events=events, exceptions=excs, documents=docs)

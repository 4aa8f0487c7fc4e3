"""Reads of the drift_events table for `posture-agent drift`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from agent.store.alerting import drift_events

if TYPE_CHECKING:
    from agent.store.db import Store

__all__ = ["recent_drift"]


def recent_drift(
    store: Store,
    since: datetime,
    *,
    source: str | None = None,
    kinds: Sequence[str] | None = None,
    limit: int = 500,
) -> list[dict[str, Any]]:
    """The drift events at or after ``since``, newest first, at most ``limit``: each row as a dict
    (``detail`` is the stored JSON text). ``source``, ``kinds``: only those."""
    q = select(drift_events).where(drift_events.c.at >= since)
    if source:
        q = q.where(drift_events.c.source == source)
    if kinds:
        q = q.where(drift_events.c.kind.in_(kinds))
    q = q.order_by(drift_events.c.id.desc()).limit(limit)
    with store.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(q)]

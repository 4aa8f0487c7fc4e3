"""When the store's collection history begins: the default start of a coverage period, so that the time
before the agent first ran is not reported as a monitoring gap."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from agent.store import schema as t
from agent.store.db import Store

__all__ = ["first_run_at"]


def first_run_at(store: Store) -> datetime | None:
    """When the earliest run kept in the store started (any source, failed ones included); None before
    the first run."""
    if not store.has_table("runs"):
        return None
    with store.engine.connect() as conn:
        first: datetime | None = conn.execute(select(func.min(t.runs.c.started_at))).scalar()
    return first

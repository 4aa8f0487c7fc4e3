"""The web console's access log: every page an auditor opens is an entry of the evidence hash chain
(kind ``console_access``), so the record of who looked at what is as tamper-evident as the evidence."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from agent.store import schema as t

if TYPE_CHECKING:
    from agent.store.db import Store

__all__ = ["KIND", "access_entries", "log_access"]

KIND = "console_access"


def log_access(store: Store, *, at: datetime, user: str, role: str, method: str, target: str, status: int) -> int:
    """Append one access to the chain; returns its seq. ``target``: the path and query string asked for."""
    content = {"user": user, "role": role, "method": method, "target": target, "status": status, "at": at}
    with store.transaction() as conn:
        return store.append_evidence(conn, at=at, kind=KIND, ref=f"{KIND}:{user}", content=content)


def access_entries(store: Store, *, since: datetime | None = None, limit: int = 200) -> list[dict[str, Any]]:
    """The latest console accesses, newest first: seq, at, ref and the content text."""
    el = t.evidence_log.c
    q = select(el.seq, el.at, el.ref, el.content).where(el.kind == KIND)
    if since is not None:
        q = q.where(el.at >= since)
    with store.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(q.order_by(el.seq.desc()).limit(limit))]

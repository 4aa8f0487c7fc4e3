"""The risk-acceptance exceptions table: reads, the insert with its chain entry, notice flags."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import Connection, insert, select, update

from agent.models import ExceptionRule
from agent.store.alerting import exceptions as t

if TYPE_CHECKING:
    from agent.store.db import Store

__all__ = ["insert_rule", "list_rules", "load_rules", "mark_notified"]


def _rule(r: Any) -> ExceptionRule:
    return ExceptionRule(
        id=r.id,
        check_id=r.check_id,
        resource_pattern=r.resource_pattern,
        reason=r.reason,
        owner=r.owner,
        created_at=r.created_at,
        expires_at=r.expires_at,
        warned_at=r.warned_at,
        expired_at=r.expired_at,
    )


def load_rules(conn: Connection) -> list[ExceptionRule]:
    return [_rule(r) for r in conn.execute(select(t).order_by(t.c.id))]


def list_rules(store: Store) -> list[ExceptionRule]:
    with store.engine.connect() as conn:
        return load_rules(conn)


def mark_notified(conn: Connection, rule_id: int, column: Literal["warned_at", "expired_at"], at: datetime) -> None:
    """The expiring (or expired) notice of a rule is queued: it goes out once."""
    conn.execute(update(t).where(t.c.id == rule_id).values({column: at}))


def insert_rule(
    store: Store,
    *,
    check_id: str,
    resource_pattern: str,
    reason: str,
    owner: str,
    expires_at: datetime,
    now: datetime,
) -> int:
    """Record an exception and its ``exception`` chain entry in one transaction; returns its id."""
    # the store's own transaction: serialises with cycles and, on PostgreSQL, with other chain writers
    with store.transaction() as conn:
        new_id = int(
            conn.execute(
                insert(t)
                .values(
                    check_id=check_id,
                    resource_pattern=resource_pattern,
                    reason=reason,
                    owner=owner,
                    created_at=now,
                    expires_at=expires_at,
                )
                .returning(t.c.id)
            ).scalar_one()
        )
        store.append_evidence(
            conn,
            at=now,
            kind="exception",
            ref=f"exception:{new_id}",
            content={
                "id": new_id,
                "check_id": check_id,
                "resource_pattern": resource_pattern,
                "reason": reason,
                "owner": owner,
                "created_at": now,
                "expires_at": expires_at,
            },
        )
    return new_id

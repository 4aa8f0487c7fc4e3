"""The evidence_checkpoints and evidence_store tables, as a checkpoint writer sees them inside one
write transaction: the chain head, the last checkpoint, the store's id, and the insert.

The checkpoint body and its signature are agent.evidence.checkpoints'; this module only reads and
writes the rows.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, insert, select

from agent.store import schema as t
from agent.store.evidence_tables import evidence_checkpoints as cp
from agent.store.evidence_tables import evidence_store

if TYPE_CHECKING:
    from agent.store.db import Store

__all__ = ["ChainHead", "CheckpointRow", "CheckpointRows", "transaction"]


@dataclass(frozen=True)
class ChainHead:
    seq: int
    entry_hash: str


@dataclass(frozen=True)
class CheckpointRow:
    """A stored checkpoint (the version-2 columns are None in a version-1 row)."""

    seq: int
    at: datetime
    head_seq: int
    head_hash: str
    pruned_through: int
    pruned_hash: str
    prev_hash: str
    checkpoint_hash: str
    key_id: str | None
    signature: str | None
    v: int | None
    cadence_s: int | None
    announce: str | None
    rotate_to: str | None


_COLUMNS = [cp.c[f.name] for f in fields(CheckpointRow)]


def _row(r: Any) -> CheckpointRow | None:
    return CheckpointRow(**r._mapping) if r is not None else None


class CheckpointRows:
    """The checkpoint rows inside the caller's write transaction."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def head(self) -> ChainHead | None:
        """The last entry of the hash chain; None when the chain is empty (or pruned to nothing)."""
        r = self._conn.execute(
            select(t.evidence_log.c.seq, t.evidence_log.c.entry_hash).order_by(t.evidence_log.c.seq.desc()).limit(1)
        ).first()
        return ChainHead(int(r.seq), r.entry_hash) if r is not None else None

    def last(self) -> CheckpointRow | None:
        """The latest checkpoint."""
        return _row(self._conn.execute(select(*_COLUMNS).order_by(cp.c.seq.desc()).limit(1)).first())

    def last_signed(self) -> CheckpointRow | None:
        """The latest checkpoint with a signature."""
        return _row(
            self._conn.execute(
                select(*_COLUMNS).where(cp.c.signature.isnot(None)).order_by(cp.c.seq.desc()).limit(1)
            ).first()
        )

    def rotation_by(self, key: str) -> CheckpointRow | None:
        """A checkpoint signed by the key with fingerprint ``key`` that rotates it to another."""
        return _row(
            self._conn.execute(select(*_COLUMNS).where(cp.c.key_id == key, cp.c.rotate_to.isnot(None)).limit(1)).first()
        )

    def store_id(self, at: datetime) -> str:
        """The store's id: random, written once with the first version-2 checkpoint, then kept."""
        found = self._conn.execute(select(evidence_store.c.store_id).where(evidence_store.c.id == 1)).scalar()
        if found is not None:
            return str(found)
        new = secrets.token_hex(16)
        self._conn.execute(insert(evidence_store).values(id=1, store_id=new, created_at=at))
        return new

    def insert(self, row: dict[str, Any]) -> None:
        """Store a checkpoint; its ``store`` (kept once, in evidence_store) is not a column."""
        self._conn.execute(insert(cp).values(**{k: v for k, v in row.items() if k != "store"}))


@contextmanager
def transaction(store: Store) -> Iterator[CheckpointRows]:
    """The checkpoint rows in a write transaction of their own (the store's one writer)."""
    with store.transaction() as conn:
        yield CheckpointRows(conn)

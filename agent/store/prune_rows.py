"""The rows retention prunes, inside its one write transaction (agent.evidence.retention decides
what goes; this module reads the chain for it and deletes through the audited path).

Deletion goes through ``posture_prune(cutoff)`` on PostgreSQL or the ``evidence_prune_guard`` row on
SQLite; the triggers refuse any other DELETE. Ids are sent 500 at a time.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select, text, update

from agent.store import schema as t
from agent.store.alerting import drift_events, exceptions
from agent.store.checkpoint_rows import CheckpointRows
from agent.store.db import Store, errors_blob, reachable_blobs
from agent.store.evidence_tables import evidence_prune_guard
from agent.store.manual import manual_evidence

__all__ = ["EntryRef", "PruneRows", "transaction"]

_BATCH = 500
_KEPT_TABLES = {"manual_evidence": manual_evidence, "exceptions": exceptions}


@dataclass(frozen=True)
class EntryRef:
    """What a chain entry refers to (``content``: its JSON text, when asked for)."""

    seq: int
    kind: str
    ref: str
    content: str | None = None


def _chunks(ids: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for i in range(0, len(ids), _BATCH):
        yield ids[i : i + _BATCH]


class PruneRows:
    """The chain and the rows it commits to, inside retention's write transaction."""

    def __init__(self, store: Store, conn: Connection) -> None:
        self._store = store
        self._conn = conn
        self.checkpoints = CheckpointRows(conn)  # the prune's checkpoint, in the same transaction

    # -- the chain ------------------------------------------------------------------------------

    def first_seq(self) -> int | None:
        s = self._conn.execute(select(func.min(t.evidence_log.c.seq))).scalar()
        return int(s) if s is not None else None

    def last_seq(self) -> int | None:
        s = self._conn.execute(select(func.max(t.evidence_log.c.seq))).scalar()
        return int(s) if s is not None else None

    def first_seq_since(self, at: datetime) -> int | None:
        """The first entry at or after ``at``."""
        el = t.evidence_log.c
        s = self._conn.execute(select(func.min(el.seq)).where(el.at >= at)).scalar()
        return int(s) if s is not None else None

    def entry_hash(self, seq: int) -> str | None:
        el = t.evidence_log.c
        h = self._conn.execute(select(el.entry_hash).where(el.seq == seq)).scalar()
        return str(h) if h is not None else None

    def refs_between(self, first: int, last: int) -> list[EntryRef]:
        """The entries ``first``..``last`` (without content), in chain order."""
        el = t.evidence_log.c
        return [
            EntryRef(int(r.seq), r.kind, r.ref)
            for r in self._conn.execute(
                select(el.seq, el.kind, el.ref).where(el.seq <= last, el.seq >= first).order_by(el.seq)
            )
        ]

    def refs_through(self, last: int) -> list[EntryRef]:
        """Every entry up to ``last``, with its content."""
        el = t.evidence_log.c
        return [
            EntryRef(int(r.seq), r.kind, r.ref, r.content)
            for r in self._conn.execute(select(el.seq, el.kind, el.ref, el.content).where(el.seq <= last))
        ]

    def run_ids_of_snapshots(self, snapshot_ids: Sequence[int]) -> set[str]:
        sn = t.snapshots.c
        return set(self._conn.execute(select(sn.run_id).where(sn.id.in_(snapshot_ids))).scalars())

    def snapshot_ids_of_runs(self, run_ids: Sequence[str]) -> set[int]:
        sn = t.snapshots.c
        return {int(x) for x in self._conn.execute(select(sn.id).where(sn.run_id.in_(run_ids))).scalars()}

    # -- counts, deletion and what is kept ------------------------------------------------------

    def count_finding_events(self, snapshot_ids: Sequence[int]) -> int:
        fe = t.finding_events.c
        return sum(
            int(self._conn.execute(select(func.count()).where(fe.snapshot_id.in_(ids))).scalar() or 0)
            for ids in _chunks(snapshot_ids)
        )

    def count_drift_events(self, snapshot_ids: Sequence[int]) -> int:
        de = drift_events.c
        return sum(
            int(self._conn.execute(select(func.count()).where(de.snapshot_id.in_(ids))).scalar() or 0)
            for ids in _chunks(snapshot_ids)
        )

    def _allow_delete(self, cutoff: datetime, on: bool) -> None:
        if self._store.dialect == "postgresql":
            if on:
                self._conn.execute(text("SELECT posture_prune(:cutoff)"), {"cutoff": cutoff})
            return  # transaction-local: it ends with the transaction
        self._conn.execute(
            update(evidence_prune_guard).where(evidence_prune_guard.c.id == 1).values(active=1 if on else 0)
        )

    def delete_through(
        self,
        cutoff: datetime,
        through: int,
        *,
        run_ids: Sequence[str],
        snapshot_ids: Sequence[int],
        drift_snapshot_ids: Sequence[int],
    ) -> int:
        """Delete the finding and drift events of the snapshots, the snapshots, the runs, the chain
        entries up to ``through``, then every blob no remaining snapshot reaches; the blobs deleted."""
        conn = self._conn
        fe, de = t.finding_events.c, drift_events.c
        self._allow_delete(cutoff, True)
        for ids in _chunks(snapshot_ids):
            conn.execute(t.finding_events.delete().where(fe.snapshot_id.in_(ids)))
        for ids in _chunks(drift_snapshot_ids):
            conn.execute(drift_events.delete().where(de.snapshot_id.in_(ids)))
        for ids in _chunks(snapshot_ids):
            conn.execute(t.snapshots.delete().where(t.snapshots.c.id.in_(ids)))
        for ids in _chunks(run_ids):
            # a run's snapshots all went with it (same cycle, same entry range)
            conn.execute(t.runs.delete().where(t.runs.c.id.in_(ids)))
        conn.execute(t.evidence_log.delete().where(t.evidence_log.c.seq <= through))
        keep = reachable_blobs(conn, conn.execute(select(t.snapshots.c.manifest_hash).distinct()).scalars().all())
        keep |= {
            h
            for v in conn.execute(select(t.snapshots.c.errors).distinct()).scalars()
            if (h := errors_blob(v)) is not None
        }
        unused = [h for h in conn.execute(select(t.blobs.c.hash)).scalars() if h not in keep]
        for ids in _chunks(unused):
            conn.execute(t.blobs.delete().where(t.blobs.c.hash.in_(ids)))
        self._allow_delete(cutoff, False)
        return len(unused)

    def kept_rows(self, table: str, ids: Iterable[int], columns: Sequence[str]) -> Iterator[dict[str, Any]]:
        """The ``columns`` of the rows of ``table`` (manual_evidence, exceptions) with these ids, as stored."""
        tbl = _KEPT_TABLES[table]
        cols = [tbl.c[c] for c in columns]
        for chunk in _chunks(sorted(ids)):
            for r in self._conn.execute(select(*cols).where(tbl.c.id.in_(chunk))):
                yield dict(r._mapping)

    def append_evidence(self, *, at: datetime, kind: str, ref: str, content: Any) -> int:
        """A chain entry, in this transaction; its seq."""
        return self._store.append_evidence(self._conn, at=at, kind=kind, ref=ref, content=content)

    def rollback(self) -> None:
        """Undo everything of this transaction (a dry run)."""
        self._conn.rollback()


@contextmanager
def transaction(store: Store) -> Iterator[PruneRows]:
    """Retention's one write transaction (the store's write lock held throughout)."""
    with store.transaction() as conn:
        yield PruneRows(store, conn)

"""The rows an export bundle carries, read in one connection (one consistent view of the store) by
agent.evidence.export, which decides what a period's bundle holds. Rows come in the verifier's JSON
form (``norm``); ids are sent 500 at a time."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, or_, select

from agent.store import schema as t
from agent.store.alerting import alerts_outbox, drift_events, exceptions
from agent.store.anchor_rows import load_witness_rows
from agent.store.blobs import decompress
from agent.store.db import Store, reachable_blobs
from agent.store.evidence_tables import evidence_checkpoints as cp
from agent.store.evidence_tables import evidence_store
from agent.store.manual import manual_evidence
from agent.store.rows import norm

__all__ = ["BlobBody", "BundleRows", "reading"]

_BATCH = 500


@dataclass(frozen=True)
class BlobBody:
    hash: str
    kind: str
    size: int
    body: bytes  # uncompressed


class BundleRows:
    """Reads for one bundle, on one connection."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    # -- the chain ------------------------------------------------------------------------------

    def segment(self, start: datetime, end: datetime) -> tuple[int, int] | None:
        """The first and last seq of the chain entries in [start, end]; None when there is none."""
        row = self._conn.execute(
            select(func.min(t.evidence_log.c.seq), func.max(t.evidence_log.c.seq)).where(
                t.evidence_log.c.at >= start, t.evidence_log.c.at <= end
            )
        ).first()
        if row is None or row[0] is None:
            return None
        return int(row[0]), int(row[1])

    def entries(self, first: int, last: int) -> list[dict[str, Any]]:
        """The chain entries ``first``..``last``, in chain order."""
        el = t.evidence_log
        return [
            norm(r)
            for r in self._conn.execute(select(el).where(el.c.seq >= first, el.c.seq <= last).order_by(el.c.seq))
        ]

    def stubs(self, first: int, last: int) -> list[dict[str, Any]]:
        """The chain entries ``first``..``last`` without their content, in chain order."""
        el = t.evidence_log.c
        return [
            norm(r)
            for r in self._conn.execute(
                select(el.seq, el.at, el.kind, el.ref, el.content_hash, el.prev_hash, el.entry_hash)
                .where(el.seq >= first, el.seq <= last)
                .order_by(el.seq)
            )
        ]

    def entries_of(self, kind: str, refs: Sequence[str]) -> list[dict[str, Any]]:
        """The chain entries of ``kind`` with one of these refs."""
        el = t.evidence_log
        out: list[dict[str, Any]] = []
        for i in range(0, len(refs), _BATCH):
            out.extend(
                norm(r)
                for r in self._conn.execute(select(el).where(el.c.kind == kind, el.c.ref.in_(refs[i : i + _BATCH])))
            )
        return out

    def prune_entries(self, before: int | None) -> Iterator[dict[str, Any]]:
        """The prune entries before seq ``before`` (every one when None), newest first."""
        el = t.evidence_log
        q = select(el).where(el.c.kind == "prune").order_by(el.c.seq.desc())
        for r in self._conn.execute(q if before is None else q.where(el.c.seq < before)):
            yield norm(r)

    def checkpoints(
        self, start: datetime, end: datetime
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]], str | None]:
        """The checkpoints covering the period (the last at or before its start, every one in it, the
        first after its end), the earlier and later ones that announce or rotate keys (a pinned key
        reaches the period's keys through them), and the store id their bodies name."""
        conn = self._conn
        sid = conn.execute(select(evidence_store.c.store_id)).scalar()
        lo = conn.execute(select(func.max(cp.c.seq)).where(cp.c.at <= start)).scalar()
        hi = conn.execute(select(func.min(cp.c.seq)).where(cp.c.at > end)).scalar()
        q = select(cp).order_by(cp.c.seq)
        if lo is not None:
            q = q.where(cp.c.seq >= lo)
        if hi is not None:
            q = q.where(cp.c.seq <= hi)
        covering = [norm(r) for r in conn.execute(q)]
        seqs = {c["seq"] for c in covering}
        keyed = [
            norm(r)
            for r in conn.execute(
                select(cp).where(or_(cp.c.announce.isnot(None), cp.c.rotate_to.isnot(None))).order_by(cp.c.seq)
            )
            if r.seq not in seqs
        ]
        for c in (*covering, *keyed):
            if c.get("v") is not None:
                c["store"] = sid
        return covering, keyed, sid

    def pruned(self) -> bool:
        """Whether retention ever pruned the chain."""
        return bool(self._conn.execute(select(func.max(cp.c.pruned_through))).scalar())

    def witnesses(self, seqs: Iterable[int]) -> list[dict[str, Any]]:
        """The witness rows of these checkpoints, and every TSA's certificates."""
        return load_witness_rows(self._conn, seqs)

    # -- the records the entries commit to ------------------------------------------------------

    def _rows_in(self, table: Any, col: Any, ids: Sequence[Any]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for i in range(0, len(ids), _BATCH):
            out.extend(norm(r) for r in self._conn.execute(select(table).where(col.in_(ids[i : i + _BATCH]))))
        pk = "id" if "id" in table.c else None
        return sorted(out, key=lambda r: r[pk]) if pk else out

    def runs(self, ids: Collection[str]) -> list[dict[str, Any]]:
        return [norm(r) for r in self._conn.execute(select(t.runs).where(t.runs.c.id.in_(ids)))] if ids else []

    def snapshots(self, ids: Sequence[int]) -> list[dict[str, Any]]:
        return self._rows_in(t.snapshots, t.snapshots.c.id, ids)

    def finding_events(self, snapshot_ids: Sequence[int]) -> list[dict[str, Any]]:
        return self._rows_in(t.finding_events, t.finding_events.c.snapshot_id, snapshot_ids)

    def drift_events(self, snapshot_ids: Sequence[int]) -> list[dict[str, Any]]:
        return self._rows_in(drift_events, drift_events.c.snapshot_id, snapshot_ids)

    def exceptions(self, ids: Sequence[int]) -> list[dict[str, Any]]:
        return self._rows_in(exceptions, exceptions.c.id, ids)

    def outbox(self, ids: Sequence[int]) -> list[dict[str, Any]]:
        return self._rows_in(alerts_outbox, alerts_outbox.c.id, ids)

    def exceptions_in_force(self, start: datetime, end: datetime) -> set[int]:
        """The exceptions in force at some time of [start, end)."""
        return {
            int(x)
            for x in self._conn.execute(
                select(exceptions.c.id).where(exceptions.c.created_at < end, exceptions.c.expires_at > start)
            ).scalars()
        }

    def documents_until(self, end: datetime) -> list[dict[str, Any]]:
        """Every manual document attached up to ``end``, without the document itself (as stored)."""
        return [
            dict(r._mapping)
            for r in self._conn.execute(
                select(*(c for c in manual_evidence.c if c.name != "content")).where(
                    manual_evidence.c.attached_at <= end
                )
            )
        ]

    def document(self, doc_id: int) -> tuple[dict[str, Any], bytes] | None:
        """A manual document's row (without its content) and the document, uncompressed."""
        r = self._conn.execute(select(manual_evidence).where(manual_evidence.c.id == doc_id)).first()
        if r is None:
            return None
        return norm({c: getattr(r, c) for c in r._mapping if c != "content"}), decompress(r.content)

    def events_before(self, source: str, account: str, snapshot_id: int) -> Iterator[dict[str, Any]]:
        """The finding events of (source, account) before the snapshot, in the order written: uid,
        status, message, check_id, resource_id."""
        fe = t.finding_events.c
        for e in self._conn.execute(
            select(fe.uid, fe.status, fe.message, fe.check_id, fe.resource_id)
            .where(fe.source == source, fe.account == account, fe.snapshot_id < snapshot_id)
            .order_by(fe.id)
        ):
            yield dict(e._mapping)

    def results_hash_before(self, source: str, account: str, snapshot_id: int) -> str | None:
        """The results_hash of the last snapshot of (source, account) before this one."""
        sn = t.snapshots.c
        h = self._conn.execute(
            select(sn.results_hash)
            .where(sn.source == source, sn.account == account, sn.id < snapshot_id)
            .order_by(sn.id.desc())
            .limit(1)
        ).scalar()
        return str(h) if h is not None else None

    # -- blobs ------------------------------------------------------------------------------------

    def reachable(self, manifest_hashes: Iterable[str]) -> set[str]:
        """Every manifest and body these manifests refer to, delta bases included."""
        return reachable_blobs(self._conn, manifest_hashes)

    def blobs(self, hashes: Sequence[str]) -> Iterator[BlobBody]:
        """The blobs with these hashes, uncompressed."""
        for i in range(0, len(hashes), _BATCH):
            for b in self._conn.execute(select(t.blobs).where(t.blobs.c.hash.in_(hashes[i : i + _BATCH]))):
                yield BlobBody(b.hash, b.kind, b.size, decompress(bytes(b.body)))


@contextmanager
def reading(store: Store) -> Iterator[BundleRows]:
    """Reads on one connection, closed at the end."""
    with store.engine.connect() as conn:
        yield BundleRows(conn)

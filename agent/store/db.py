"""The evidence store: SQLite (embedded default) or PostgreSQL, written one transaction per cycle."""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, cast

from posture_verify.manifests import errors_blob
from sqlalchemy import Connection, Engine, create_engine, event, func, insert, inspect, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError

from agent.errors import StoreError, StoreUnusable
from agent.models import (
    CollectionError,
    ExceptionRule,
    Finding,
    FindingChange,
    Resource,
    Snapshot,
    Status,
    canonical_json,
    sha256_hex,
)
from agent.store import evidence_tables as _evidence_tables  # noqa: F401  (on the shared metadata)
from agent.store import exception_rules
from agent.store import schema as t
from agent.store.blobs import (
    ERRORS_BLOB,
    Manifest,
    compress,
    decompress,
    manifest_delta,
    resolve_manifest,
    snapshot_errors,
)
from agent.store.bulk import execute_many
from agent.store.chain import GENESIS, CycleCommitment, entry_hash, run_fields, snapshot_fields
from agent.store.cycle_tx import CycleTransaction, StoredSnapshot
from agent.store.opening import connect_args, database_error, parse_url, prepare_for_write
from agent.store.records import RunRecord, SnapshotWrite
from agent.store.resultset import ResultSetHash
from agent.store.schema import as_stored_utc

__all__ = [
    "ERRORS_BLOB",
    "FindingChange",
    "RunRecord",
    "Store",
    "SnapshotWrite",
    "errors_blob",
    "reachable_blobs",
    "redact_url",
    "snapshot_errors",
]

MIGRATIONS = Path(__file__).parent / "migrations"
GONE = "gone"
# the message of a finding that could not be re-collected: kept as error, left out of the result set
# the stored message of a finding that could not be re-collected (fixed by the evidence format: the
# verifier leaves such rows out of the result set); in memory the state is the set _KeyState.not_collected
STARVED = "not collected this cycle; see the snapshot's collection errors"
_EVENT_BASE = ("uid", "source", "check_id", "resource_id", "resource_type", "provider", "account", "region", "severity")
_CURRENT_COLUMNS = (*_EVENT_BASE, "status", "message", "first_seen", "since")


def redact_url(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<invalid database URL>"


@dataclass
class _KeyState:
    """In memory per (source, account): the last snapshot written, its full manifest
    (hash, depth, mapping), its results hash and the finding_current rows with their running
    result-set hash."""

    snapshot_id: int | None
    manifest: tuple[str, int, dict[str, str]] | None = None
    results_hash: str | None = None
    current: dict[str, dict[str, Any]] = field(default_factory=dict)
    results: ResultSetHash = field(default_factory=ResultSetHash)  # of ``current`` minus not_collected
    not_collected: set[str] = field(default_factory=set)  # uids kept as error: their resource was not collected


def _engine(url: str) -> Engine:
    """An engine for a checked URL (agent/store/opening.py): every connection attempt bounded by a
    timeout. Connects lazily: nothing is created until the first statement."""
    parsed = parse_url(url)
    args = connect_args(parsed)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(parsed, connect_args=args)

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (below)
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin(conn: Connection) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    try:
        return create_engine(parsed, pool_pre_ping=True, pool_size=4, max_overflow=4, connect_args=args)
    except (ArgumentError, ImportError) as exc:
        raise StoreUnusable(f"cannot use database {redact_url(url)}: {exc}") from None


def reachable_blobs(conn: Connection, manifest_hashes: Iterable[str]) -> set[str]:
    """Every manifest and resource body the given manifests refer to, delta bases included. Bodies
    are fetched 500 at a time (a year has ~35,000 manifests); a missing one ends its walk."""
    heads = list(dict.fromkeys(manifest_hashes))
    out: set[str] = set()
    fetched: dict[str, bytes] = {}

    def fetch(hashes: list[str]) -> None:
        fetched.update(
            (r.hash, r.body)
            for r in conn.execute(select(t.blobs.c.hash, t.blobs.c.body).where(t.blobs.c.hash.in_(hashes)))
        )

    for i in range(0, len(heads), 500):
        fetched.clear()
        fetch([h for h in heads[i : i + 500] if h not in out])
        for current in heads[i : i + 500]:
            walking: str | None = current
            while walking is not None and walking not in out:
                if walking not in fetched:
                    fetch([walking])  # a base outside this batch
                body = fetched.pop(walking, None)
                if body is None:
                    break
                m = Manifest.decode(decompress(body))
                out.add(walking)
                out.update(m.items.values())
                walking = m.base
    return out


class Store:
    """All reads and writes of the evidence store go through here."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = _engine(url)
        self.dialect = self.engine.dialect.name
        self._write_lock = threading.Lock()
        # per (source, account): what the last cycle left (manifest, results hash, current findings)
        self._states: dict[tuple[str, str], _KeyState] = {}

    def __repr__(self) -> str:
        return f"Store({redact_url(self.url)})"

    def close(self) -> None:
        self.engine.dispose()

    # -- schema ------------------------------------------------------------------------------

    def upgrade(self) -> str:
        """Apply every pending migration; returns the head revision. Refuses (StoreUnusable, nothing
        created) a database that is not empty and not a posture-agent store."""
        from alembic import command
        from alembic.config import Config as AlembicConfig

        prepare_for_write(self.url)
        cfg = AlembicConfig()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        try:
            with self.engine.begin() as conn:
                if self.dialect == "postgresql":  # schedulers and workers starting together: one migrates
                    conn.execute(text("SELECT pg_advisory_xact_lock(727377)"))
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "head")
        except OperationalError as exc:
            raise StoreUnusable(database_error(exc, self.url)) from None
        except SQLAlchemyError as exc:
            raise StoreError(
                f"could not upgrade the store {redact_url(self.url)}: {getattr(exc, 'orig', exc)}"
            ) from None
        return self.revision() or ""

    def revision(self) -> str | None:
        try:
            with self.engine.connect() as conn:
                return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        except SQLAlchemyError:
            return None

    def has_table(self, name: str) -> bool:
        """Whether the table exists (an optional feature's table, before its migration ran)."""
        try:
            return bool(inspect(self.engine).has_table(name))
        except SQLAlchemyError:
            return False

    def ping(self) -> bool:
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return True
        except SQLAlchemyError:
            return False

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """The one write transaction: serialised in this process and, on PostgreSQL, across
        processes, because every write may append to the evidence chain."""
        with self._write_lock, self.engine.begin() as conn:
            if self.dialect == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(727376)"))  # one writer of the chain
            yield conn

    def _insert_ignore(self, table: Any) -> Any:
        if self.dialect == "postgresql":
            return postgresql.insert(table).on_conflict_do_nothing()
        return sqlite.insert(table).on_conflict_do_nothing()

    # -- writes ------------------------------------------------------------------------------

    @contextmanager
    def cycle(self, run: RunRecord) -> Iterator[CycleTransaction]:
        """The one transaction of a cycle (see agent/store/cycle_tx.py). Nothing is written if
        anything in the block fails; a database error comes out as a StoreError."""
        tx: CycleTransaction | None = None
        committed = False
        try:
            with self.transaction() as conn:
                tx = CycleTransaction(self, conn, run)
                yield tx
            committed = True
        except SQLAlchemyError as exc:
            raise StoreError(
                f"could not store run {run.id}: {type(exc).__name__}: {getattr(exc, 'orig', exc)}"
            ) from None
        finally:
            if not committed and tx is not None:  # rolled back: the in-memory state may be ahead
                for source, account in tx.keys:
                    self._forget(source, account)

    def record_cycle(
        self, run: RunRecord, results: Sequence[tuple[Snapshot, Sequence[Finding]]]
    ) -> list[SnapshotWrite]:
        """Store one cycle of one source atomically, without drift or alerts (the pipeline adds those
        in the same transaction: Pipeline.record)."""
        with self.cycle(run) as tx:
            return tx.write_snapshots(results)

    def _write_cycle(
        self,
        conn: Connection,
        run: RunRecord,
        results: Sequence[tuple[Snapshot, Sequence[Finding]]],
        written: dict[int, tuple[StoredSnapshot, dict[str, str] | None]],
        staged: Mapping[str, int] | None = None,
    ) -> list[SnapshotWrite]:
        run_row = {
            "id": run.id,
            "source": run.source,
            "provider": run.provider,
            "started_at": run.started_at,
            "finished_at": run.finished_at,
            "status": run.status,
            "resource_count": sum(len(s.resources) for s, _ in results),
            "error_count": sum(len(s.errors) for s, _ in results),
            "detail": canonical_json(run.detail).decode(),
        }
        conn.execute(insert(t.runs).values(**run_row))
        committed_rows: list[tuple[int, dict[str, Any], list[dict[str, Any]]]] = []
        writes = [
            self._write_snapshot(conn, run, snap, findings, committed_rows, written, staged)
            for snap, findings in results
        ]
        # one chain entry for the whole cycle: the run, its snapshots and their finding events
        commitment = CycleCommitment(run_fields(run_row), committed_rows)
        self.append_evidence(
            conn,
            at=run.finished_at,
            kind="cycle",
            ref=run.id,
            content=commitment.content(),
            content_hash=commitment.content_hash,
        )
        return writes

    def _state(self, conn: Connection, source: str, account: str) -> _KeyState:
        """What the last committed cycle of (source, account) left: reused from memory while the
        last snapshot in the database is still the one it was built from (one indexed lookup),
        reloaded otherwise (first cycle, another writer, or a failed transaction)."""
        key = (source, account)
        last = conn.execute(
            select(func.max(t.snapshots.c.id)).where(t.snapshots.c.source == source, t.snapshots.c.account == account)
        ).scalar()
        cached = self._states.get(key)
        if cached is not None and cached.snapshot_id == last:
            return cached
        state = _KeyState(snapshot_id=None)
        if last is not None:
            row = conn.execute(
                select(t.snapshots.c.manifest_hash, t.snapshots.c.results_hash).where(t.snapshots.c.id == last)
            ).one()
            man = cached.manifest if cached is not None else None
            if man is None or man[0] != row.manifest_hash:
                depth = Manifest.decode(self._blob(conn, row.manifest_hash)).depth
                man = (row.manifest_hash, depth, resolve_manifest(row.manifest_hash, lambda h: self._blob(conn, h)))
            state = _KeyState(snapshot_id=int(last), manifest=man, results_hash=row.results_hash)
        fc = t.finding_current.c
        for r in conn.execute(
            select(*[fc[c] for c in _CURRENT_COLUMNS]).where(fc.source == source, fc.account == account)
        ):
            state.current[r.uid] = dict(r._mapping)
            if r.message == STARVED:  # the one place the stored form is read back
                state.not_collected.add(r.uid)
            else:
                state.results.add(r.uid, r.status, r.message)
        self._states[key] = state
        return state

    def _forget(self, source: str, account: str) -> None:
        self._states.pop((source, account), None)

    def _blob(self, conn: Connection, hash_: str) -> bytes:
        body = conn.execute(select(t.blobs.c.body).where(t.blobs.c.hash == hash_)).scalar()
        if body is None:
            raise StoreError(f"blob {hash_} is missing from the store")
        return decompress(body)

    def _put_blobs(
        self,
        conn: Connection,
        items: Iterable[tuple[str, str, Callable[[], bytes]]],
        staged: Mapping[str, int] | None = None,
    ) -> tuple[int, int]:
        """Insert (hash, kind, body producer) bodies not yet stored; returns (count, compressed bytes),
        counting as new the bodies this cycle staged (``staged``: hash -> compressed bytes). Bodies are
        serialised only when they are really new."""
        rows = {h: (kind, raw) for h, kind, raw in items}
        if not rows:
            return 0, 0
        known = self._known_blobs(conn, list(rows))
        new: list[dict[str, Any]] = []
        for h, (kind, raw) in rows.items():
            if h not in known:
                body = raw()
                new.append({"hash": h, "kind": kind, "size": len(body), "body": compress(body)})
        if new:
            conn.execute(self._insert_ignore(t.blobs), new)
        ahead = [staged[h] for h in rows if h in known and staged and h in staged]
        return len(new) + len(ahead), sum(len(r["body"]) for r in new) + sum(ahead)

    @staticmethod
    def _known_blobs(conn: Connection, hashes: list[str]) -> set[str]:
        known: set[str] = set()
        for i in range(0, len(hashes), 500):
            known.update(conn.execute(select(t.blobs.c.hash).where(t.blobs.c.hash.in_(hashes[i : i + 500]))).scalars())
        return known

    def stage_bodies(self, snapshots: Sequence[Snapshot]) -> dict[str, int]:
        """PostgreSQL: write the bodies a cycle will refer to (resources new since this process's last
        view, collection errors) in a transaction of their own, before the cycle's locked one, so the
        serialised part of many workers' writes is their rows and chain entries only. Content-addressed
        and inserted if absent: a body staged for a cycle that then fails is unreferenced, never wrong.
        Returns hash -> compressed bytes of the bodies it inserted (the cycle counts them as its own)."""
        if self.dialect != "postgresql":
            return {}
        items: dict[str, tuple[str, Callable[[], bytes]]] = {}
        for snap in snapshots:
            cached = self._states.get((snap.source, snap.account))
            prev_map = cached.manifest[2] if cached is not None and cached.manifest is not None else {}
            for r in snap.resources:
                if prev_map.get(r.id) != r.content_hash:
                    items[r.content_hash] = ("resource", r.canonical)
            if snap.errors:
                errors_body = canonical_json([e.to_dict() for e in snap.errors])
                items[sha256_hex(errors_body)] = (ERRORS_BLOB, functools.partial(bytes, errors_body))
        if not items:
            return {}
        with self.engine.begin() as conn:
            known = self._known_blobs(conn, list(items))
            new = [
                {"hash": h, "kind": kind, "size": len(body), "body": compress(body)}
                for h, (kind, raw) in items.items()
                if h not in known
                for body in (raw(),)
            ]
            if not new:
                return {}
            sizes: dict[str, int] = {str(r["hash"]): len(cast(bytes, r["body"])) for r in new}
            inserted = conn.execute(
                postgresql.insert(t.blobs).on_conflict_do_nothing().returning(t.blobs.c.hash), new
            ).scalars()
            return {h: sizes[h] for h in inserted}

    def _write_snapshot(
        self,
        conn: Connection,
        run: RunRecord,
        snap: Snapshot,
        findings: Sequence[Finding],
        committed_rows: list[tuple[int, dict[str, Any], list[dict[str, Any]]]],
        written: dict[int, tuple[StoredSnapshot, dict[str, str] | None]],
        staged: Mapping[str, int] | None = None,
    ) -> SnapshotWrite:
        state = self._state(conn, snap.source, snap.account)
        prev = state.manifest
        prev_map: dict[str, str] = prev[2] if prev is not None else {}
        mapping: dict[str, str] = {}
        fresh: list[Resource] = []  # bodies the previous manifest does not already vouch for
        for r in snap.resources:
            h = r.content_hash
            mapping[r.id] = h
            if prev_map.get(r.id) != h:
                fresh.append(r)
        count, nbytes = self._put_blobs(conn, ((r.content_hash, "resource", r.canonical) for r in fresh), staged)
        if prev is not None and not fresh and len(prev_map) == len(mapping):
            manifest_hash, depth = prev[0], prev[1]  # unchanged estate: no new manifest
        else:
            manifest = manifest_delta(
                mapping, prev[2] if prev else None, prev[0] if prev else None, prev[1] if prev else 0
            )
            manifest_hash, depth = manifest.hash, manifest.depth
            c2, b2 = self._put_blobs(conn, [(manifest_hash, "manifest", manifest.encode)])
            count, nbytes = count + c2, nbytes + b2
        # errors that repeat every cycle (an operation denied in a region) are one content-addressed blob,
        # referred to by each snapshot instead of copied into it
        errors_json = "[]"
        if snap.errors:
            body = canonical_json([e.to_dict() for e in snap.errors])
            errors_hash = sha256_hex(body)
            c3, b3 = self._put_blobs(conn, [(errors_hash, ERRORS_BLOB, lambda: body)], staged)
            count, nbytes = count + c3, nbytes + b3
            errors_json = canonical_json({"blob": errors_hash}).decode()
        # the id is needed by the finding rows; the results hash is known only after the diff
        changes, events, upserts, gone, not_collected = self._diff_findings(state, snap, findings)
        self._apply_findings(state, upserts, gone, not_collected)
        # no finding changed: the same result set, whose hash is known
        results_hash = state.results.hexdigest() if events or state.results_hash is None else state.results_hash
        row = {
            "run_id": run.id,
            "source": snap.source,
            "provider": snap.provider,
            "account": snap.account,
            "started_at": snap.started_at,
            "finished_at": snap.finished_at,
            "status": snap.status,
            "errors": errors_json,
            "manifest_hash": manifest_hash,
            "results_hash": results_hash,
            "resource_count": len(snap.resources),
        }
        snapshot_id = conn.execute(insert(t.snapshots).values(**row).returning(t.snapshots.c.id)).scalar_one()
        self._write_findings(conn, snapshot_id, events, upserts, gone)
        # the chain entry commits to the finding_events rows of this snapshot, in insertion order
        committed_rows.append((snapshot_id, snapshot_fields({"id": snapshot_id, **row}), events))
        # what drift needs, as committed: the row's values (times as the column stores them) and the
        # manifest this snapshot replaced, so the drift stage reads neither back
        stored = StoredSnapshot(
            id=snapshot_id,
            source=snap.source,
            provider=snap.provider,
            account=snap.account,
            finished_at=as_stored_utc(snap.finished_at),
            errors=tuple(e.to_dict() for e in snap.errors),
        )
        written[snapshot_id] = (stored, prev_map if prev is not None else None)
        state.snapshot_id, state.results_hash = snapshot_id, results_hash
        state.manifest = (manifest_hash, depth, mapping)
        return SnapshotWrite(
            snapshot_id=snapshot_id,
            manifest_hash=manifest_hash,
            results_hash=results_hash,
            new_bodies=count,
            bytes_added=nbytes,
            changes=tuple(changes),
        )

    def _diff_findings(
        self, state: _KeyState, snap: Snapshot, findings: Sequence[Finding]
    ) -> tuple[list[FindingChange], list[dict[str, Any]], list[dict[str, Any]], list[str], set[str]]:
        """Compare with the in-memory current state: (changes, event rows, upserts, gone uids, uids
        upserted as not collected), the rows still without their snapshot id. Work beyond one dict
        lookup per finding is per change."""
        current = state.current
        at = snap.finished_at
        events: list[dict[str, Any]] = []
        upserts: list[dict[str, Any]] = []
        changes: list[FindingChange] = []
        seen: set[str] = set()
        new_uids = 0
        for f in findings:
            seen.add(f.uid)
            old = current.get(f.uid)
            status = f.status.value
            # the same status and message: no event, whatever the observations behind it now say
            if old is not None and old["status"] == status and f.same_message(old["message"]):
                continue
            if old is None:
                new_uids += 1
            row = {
                "uid": f.uid,
                "source": snap.source,
                "check_id": f.check_id,
                "resource_id": f.resource_id,
                "resource_type": f.resource_type,
                "provider": f.provider,
                "account": f.account,
                "region": f.region,
                "status": status,
                "severity": f.severity.value,
                "message": f.recorded_message,
            }
            events.append({**row, "at": at, "previous_status": old["status"] if old is not None else None})
            status_changed = old is None or old["status"] != status
            since = old["since"] if old is not None and not status_changed else at
            upserts.append({**row, "first_seen": old["first_seen"] if old is not None else at, "since": since})
            if status_changed:
                changes.append(
                    FindingChange(
                        uid=f.uid,
                        check_id=f.check_id,
                        resource_id=f.resource_id,
                        previous_status=old["status"] if old is not None else None,
                        status=status,
                        finding=f,
                    )
                )
        gone: list[str] = []
        not_collected: set[str] = set()
        if len(seen) - new_uids != len(current):  # some current finding was not seen this cycle
            starved = {(e.resource_type, e.region) for e in snap.errors}
            for uid, old in current.items():
                if uid in seen:
                    continue
                base = {c: old[c] for c in _EVENT_BASE}
                if (old["resource_type"], old["region"]) in starved or (old["resource_type"], "") in starved:
                    # not seen because it could not be collected: unknown, never silently resolved
                    if old["status"] != Status.ERROR.value or uid not in state.not_collected:
                        events.append(
                            {**base, "at": at, "status": "error", "previous_status": old["status"], "message": STARVED}
                        )
                        not_collected.add(uid)
                        upserts.append(
                            {
                                **base,
                                "status": "error",
                                "message": STARVED,
                                "first_seen": old["first_seen"],
                                "since": at if old["status"] != Status.ERROR.value else old["since"],
                            }
                        )
                        if old["status"] != Status.ERROR.value:
                            changes.append(
                                FindingChange(
                                    uid=uid,
                                    check_id=old["check_id"],
                                    resource_id=old["resource_id"],
                                    previous_status=old["status"],
                                    status="error",
                                    finding=None,
                                )
                            )
                    continue
                gone.append(uid)
                events.append(
                    base
                    | {
                        "at": at,
                        "status": GONE,
                        "previous_status": old["status"],
                        "message": "resource no longer present",
                    }
                )
                changes.append(
                    FindingChange(
                        uid=uid,
                        check_id=old["check_id"],
                        resource_id=old["resource_id"],
                        previous_status=old["status"],
                        status=GONE,
                        finding=None,
                    )
                )
        return changes, events, upserts, gone, not_collected

    @staticmethod
    def _apply_findings(
        state: _KeyState, upserts: list[dict[str, Any]], gone: list[str], not_collected: set[str]
    ) -> None:
        """The in-memory current findings and their result-set hash after this cycle (dropped by
        record_cycle if the transaction fails). Rows not collected are kept but are not in the result set."""
        current, results, was_missing = state.current, state.results, state.not_collected
        for uid in gone:
            old = current.pop(uid, None)
            if old is not None and uid not in was_missing:
                results.remove(uid, old["status"], old["message"])
            was_missing.discard(uid)
        for u in upserts:
            uid = u["uid"]
            old = current.get(uid)
            if old is None:
                current[uid] = {c: u[c] for c in _CURRENT_COLUMNS}
            else:
                if uid not in was_missing:
                    results.remove(uid, old["status"], old["message"])
                old.update({c: u[c] for c in ("status", "message", "severity", "since", "region", "resource_type")})
            if uid in not_collected:
                was_missing.add(uid)
            else:
                was_missing.discard(uid)
                results.add(uid, u["status"], u["message"])

    def _write_findings(
        self,
        conn: Connection,
        snapshot_id: int,
        events: list[dict[str, Any]],
        upserts: list[dict[str, Any]],
        gone: list[str],
    ) -> None:
        """Insert the events and bring finding_current up to date."""
        for e in events:
            e["snapshot_id"] = snapshot_id
        for u in upserts:
            u["snapshot_id"] = snapshot_id
        # each event holds exactly the finding_events columns the chain entry commits to (all but id;
        # canonical JSON sorts them): the rows are written and committed to as they are
        if events:
            execute_many(conn, insert(t.finding_events), t.finding_events, events)
        if gone:
            for i in range(0, len(gone), 500):
                conn.execute(t.finding_current.delete().where(t.finding_current.c.uid.in_(gone[i : i + 500])))
        if upserts:
            stmt = (
                postgresql.insert(t.finding_current)
                if self.dialect == "postgresql"
                else sqlite.insert(t.finding_current)
            )
            cols = ["status", "message", "severity", "since", "snapshot_id", "region", "resource_type"]
            stmt = stmt.on_conflict_do_update(index_elements=["uid"], set_={c: stmt.excluded[c] for c in cols})
            execute_many(conn, stmt, t.finding_current, upserts)

    def resolved_manifest(self, source: str, account: str, manifest_hash: str) -> dict[str, str] | None:
        """The full {resource id: body hash} of the manifest just written for (source, account),
        when it is the one named: spares a caller resolving the delta chain again."""
        state = self._states.get((source, account))
        if state is not None and state.manifest is not None and state.manifest[0] == manifest_hash:
            return state.manifest[2]
        return None

    def append_evidence(
        self,
        conn: Connection,
        *,
        at: datetime,
        kind: str,
        ref: str,
        content: Any,
        content_hash: Callable[[bytes], str] = sha256_hex,
    ) -> int:
        """Append an entry to the hash chain inside the caller's transaction; returns its seq.
        ``content_hash`` maps the canonical content to the hash the entry commits to (a cycle
        entry's also covers the rows it describes)."""
        body = canonical_json(content)
        head = conn.execute(
            select(t.evidence_log.c.seq, t.evidence_log.c.entry_hash).order_by(t.evidence_log.c.seq.desc()).limit(1)
        ).first()
        seq = (head.seq + 1) if head else 1
        prev = head.entry_hash if head else GENESIS
        chash = content_hash(body)
        conn.execute(
            insert(t.evidence_log).values(
                seq=seq,
                at=at,
                kind=kind,
                ref=ref,
                content=body.decode(),
                content_hash=chash,
                prev_hash=prev,
                entry_hash=entry_hash(seq=seq, at=at, kind=kind, ref=ref, content_hash=chash, prev_hash=prev),
            )
        )
        return seq

    # -- reads -------------------------------------------------------------------------------

    def exception_rules(self) -> list[ExceptionRule]:
        """Every risk-acceptance exception, oldest first."""
        return exception_rules.list_rules(self)

    def current_findings(
        self,
        *,
        status: Iterable[str] = (),
        check: Iterable[str] = (),
        account: Iterable[str] = (),
        source: Iterable[str] = (),
    ) -> list[dict[str, Any]]:
        q = select(t.finding_current)
        for col, values in (
            (t.finding_current.c.status, status),
            (t.finding_current.c.check_id, check),
            (t.finding_current.c.account, account),
            (t.finding_current.c.source, source),
        ):
            values = list(values)
            if values:
                q = q.where(col.in_(values))
        q = q.order_by(t.finding_current.c.check_id, t.finding_current.c.resource_id)
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(q)]

    def finding_counts(self) -> list[dict[str, Any]]:
        """(source, check_id, severity, status, count) of the current state."""
        c = t.finding_current.c
        q = select(c.source, c.check_id, c.severity, c.status, func.count().label("count")).group_by(
            c.source, c.check_id, c.severity, c.status
        )
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(q)]

    def last_runs(self) -> dict[str, dict[str, Any]]:
        """Per source: the latest run and the latest run that collected anything."""
        out: dict[str, dict[str, Any]] = {}
        with self.engine.connect() as conn:
            latest = select(t.runs.c.source, func.max(t.runs.c.finished_at).label("at")).group_by(t.runs.c.source)
            ok = (
                select(t.runs.c.source, func.max(t.runs.c.finished_at).label("at"))
                .where(t.runs.c.status != "failed")
                .group_by(t.runs.c.source)
            )
            for row in conn.execute(latest):
                out[row.source] = {"last_run": row.at, "last_success": None}
            for row in conn.execute(ok):
                out.setdefault(row.source, {"last_run": row.at})["last_success"] = row.at
        return out

    def runs(self, limit: int = 50) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            q = select(t.runs).order_by(t.runs.c.finished_at.desc()).limit(limit)
            return [dict(r._mapping) for r in conn.execute(q)]

    def load_snapshot(self, snapshot_id: int) -> Snapshot:
        with self.engine.connect() as conn:
            row = conn.execute(select(t.snapshots).where(t.snapshots.c.id == snapshot_id)).first()
            if row is None:
                raise StoreError(f"no snapshot {snapshot_id}")
            mapping = resolve_manifest(row.manifest_hash, lambda h: self._blob(conn, h))
            resources = tuple(Resource.from_dict(json.loads(self._blob(conn, h))) for _, h in sorted(mapping.items()))
            errors = tuple(
                CollectionError.from_dict(e) for e in snapshot_errors(row.errors, lambda h: self._blob(conn, h))
            )
        return Snapshot(
            source=row.source,
            provider=row.provider,
            account=row.account,
            started_at=row.started_at,
            finished_at=row.finished_at,
            resources=resources,
            errors=errors,
        )

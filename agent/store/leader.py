"""Leader election through PostgreSQL: exactly one process holds a named leadership (the scheduler's,
``posture-agent/scheduler``) and a standby takes over when it goes.

How: a session-level advisory lock (``pg_try_advisory_lock``) on a 64-bit key derived from the name,
held by one dedicated connection for as long as the process leads. PostgreSQL releases it when that
session ends for any reason (release, process killed, connection lost, backend terminated), so a
standby polling ``try_acquire`` gets it then. Each acquisition also increments the name's epoch in
the store's ``scale_leases`` table (migration 0010): a fencing token. ``fence(conn)``, called inside a
write transaction on the store, refuses (``LeadershipLost``) when the stored epoch is no longer ours,
and holds the row shared until that transaction ends, so a successor's acquisition waits for a fenced
write to commit: a write is either fenced before the takeover or refused after it.

What it cannot do: a leader learns it lost the lock only when it next asks (``is_leader`` or
``fence``); between the loss and that question it may still act. Call ``is_leader`` before each
scheduling decision and ``fence`` in each write that must come from the leader. TCP keepalives and a
user timeout on the connection bound how long a silent network hides a lost session (about 30 s).

Usage::

    with Leadership(url, SCHEDULER, retry_every=5) as lead:
        if lead.wait_until_leader(stop):        # blocks until leader or stop is set
            while not stop.is_set() and lead.is_leader():
                schedule_once(epoch=lead.epoch)
                stop.wait(10)
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import threading
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, func, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.pool import NullPool

from agent.errors import StoreError, StoreUnusable
from agent.store.leases import scale_leases
from agent.store.opening import connect_args, database_error, error_line, parse_url, shown

__all__ = ["SCHEDULER", "Lease", "Leadership", "LeadershipLost", "check_epoch", "lock_key"]

log = logging.getLogger("agent.store.leader")

SCHEDULER = "posture-agent/scheduler"
"""The leadership name of the scheduler role."""

_UNDEFINED_TABLE = "42P01"
_LOCK_NAMESPACE = b"posture-agent advisory lock\x00"  # so our keys differ from another application's
# libpq options of the dedicated connection: a dead peer is noticed in about 30 s, not hours
_KEEPALIVE = {"keepalives": 1, "keepalives_idle": 10, "keepalives_interval": 5, "keepalives_count": 3}
_TCP_USER_TIMEOUT_MS = 30_000
_STATEMENT_TIMEOUT_MS = 30_000

_HELD = text(
    "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted "
    "AND classid::bigint = :hi AND objid::bigint = :lo AND objsubid = 1) AS held, "
    "(SELECT epoch FROM scale_leases WHERE name = :name) AS epoch"
)


class LeadershipLost(StoreError):
    """This process is not (or no longer) the leader: a write fenced by ``fence`` or ``check_epoch`` is
    refused, and its transaction must roll back."""


def lock_key(name: str) -> int:
    """The advisory lock's key for a leadership name: the first 8 bytes of a SHA-256 of the name, as a
    signed 64-bit integer (PostgreSQL's bigint). Stable across versions and machines."""
    digest = hashlib.sha256(_LOCK_NAMESPACE + name.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@dataclass(frozen=True)
class Lease:
    """One acquisition: the name, its fencing epoch (1 the first time, +1 at each acquisition after),
    who acquired it (host:pid) and when (the database server's clock)."""

    name: str
    epoch: int
    holder: str
    acquired_at: datetime
    backend_pid: int


def check_epoch(conn: Connection, name: str, epoch: int) -> None:
    """Inside a write transaction on the store: raise ``LeadershipLost`` unless ``name``'s stored epoch
    is ``epoch``. The row stays share-locked until ``conn``'s transaction ends, so a new leader's
    acquisition (which increments the epoch) waits for this transaction to commit or roll back."""
    row = conn.execute(
        select(scale_leases.c.epoch).where(scale_leases.c.name == name).with_for_update(read=True)
    ).first()
    stored = None if row is None else int(row[0])
    if stored != epoch:
        raise LeadershipLost(f"leadership {name!r}: epoch {epoch} is stale (the store holds {stored}); write refused")


def _default_holder() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class Leadership:
    """A candidate for the leadership ``name`` in the PostgreSQL database at ``url`` (the store's URL,
    ``postgresql+psycopg://USER@HOST/DB``; the store must be migrated: ``posture-agent db upgrade``).

    Thread-safe. Entering it as a context manager does not acquire anything; leaving it releases the
    leadership (if held) and closes its connection.

    Errors: a database that cannot be reached makes ``try_acquire`` return False (the reason is logged
    and kept in ``last_error``), since a standby must keep trying; a URL that is not PostgreSQL raises
    ``StoreUnusable`` at construction, and a store without the ``scale_leases`` table raises it from
    ``try_acquire``: neither gets better by waiting.
    """

    def __init__(
        self,
        url: str,
        name: str = SCHEDULER,
        *,
        retry_every: float = 5.0,
        holder: str | None = None,
    ) -> None:
        if not name or "\x00" in name or len(name) > 200:
            raise ValueError("a leadership name is 1 to 200 characters, without NUL")
        if not retry_every > 0:
            raise ValueError("retry_every must be a positive number of seconds")
        parsed = parse_url(url)
        if parsed.get_backend_name() != "postgresql":
            raise StoreUnusable(f"leader election needs PostgreSQL (postgresql+psycopg://...), not {shown(url)}")
        self.url = url
        self.name = name
        self.key = lock_key(name)
        self.retry_every = float(retry_every)
        self.holder = holder or _default_holder()
        self.last_error: str | None = None
        args: dict[str, Any] = {**connect_args(parsed)}
        for option, value in {**_KEEPALIVE, "tcp_user_timeout": _TCP_USER_TIMEOUT_MS}.items():
            if option not in parsed.query:
                args[option] = value
        if "application_name" not in parsed.query:
            args["application_name"] = f"posture-agent leader {name}"[:63]
        self._engine: Engine = create_engine(
            parsed, poolclass=NullPool, isolation_level="AUTOCOMMIT", connect_args=args
        )
        self._mutex = threading.RLock()
        self._conn: Connection | None = None
        self._lease: Lease | None = None

    def __repr__(self) -> str:
        state = f"leader, epoch {self._lease.epoch}" if self._lease else "not leader"
        return f"Leadership({self.name!r} at {shown(self.url)}: {state})"

    # -- state ---------------------------------------------------------------------------------

    @property
    def lease(self) -> Lease | None:
        """The current acquisition, as last confirmed (``is_leader`` checks it is still true)."""
        return self._lease

    @property
    def epoch(self) -> int | None:
        """The fencing epoch of the current acquisition; None when not leader."""
        lease = self._lease
        return None if lease is None else lease.epoch

    # -- acquiring and checking --------------------------------------------------------------------

    def try_acquire(self) -> bool:
        """Become the leader if nobody is; never blocks on another candidate. True when this process
        leads (already leading included, after checking it still does)."""
        with self._mutex:
            if self._lease is not None:
                return self._check()
            conn = self._connection()
            if conn is None:
                return False
            try:
                got = bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": self.key}).scalar_one())
                if not got:
                    conn.commit()
                    return False
                stmt = pg_insert(scale_leases).values(
                    name=self.name, epoch=1, holder=self.holder, acquired_at=func.now()
                )
                stmt = stmt.on_conflict_do_update(
                    index_elements=[scale_leases.c.name],
                    set_={
                        "epoch": scale_leases.c.epoch + 1,
                        "holder": stmt.excluded.holder,
                        "acquired_at": stmt.excluded.acquired_at,
                    },
                )
                row = conn.execute(
                    stmt.returning(scale_leases.c.epoch, scale_leases.c.acquired_at, func.pg_backend_pid())
                ).one()
                conn.commit()
            except DBAPIError as exc:
                self._drop()  # closing the session releases the lock, if it was taken
                if getattr(exc.orig, "sqlstate", None) == _UNDEFINED_TABLE:
                    raise StoreUnusable(
                        f"{shown(self.url)} has no scale_leases table: run `posture-agent db upgrade` on it first"
                    ) from None
                self._failed("acquire", exc)
                return False
            except SQLAlchemyError as exc:
                self._drop()
                self._failed("acquire", exc)
                return False
            self._lease = Lease(self.name, int(row[0]), self.holder, row[1], int(row[2]))
            self.last_error = None
            log.info(
                "leadership %r acquired: epoch %d, holder %s, backend pid %d",
                self.name,
                self._lease.epoch,
                self.holder,
                self._lease.backend_pid,
            )
            return True

    def is_leader(self) -> bool:
        """Whether this process still leads: its connection answers, PostgreSQL lists the advisory lock
        as granted to its session, and the stored epoch is still its own. Any other answer (the
        connection dropped, the backend was terminated) ends the leadership here too, logged once."""
        with self._mutex:
            if self._lease is None:
                return False
            return self._check()

    def wait_until_leader(self, stop: threading.Event) -> bool:
        """Try every ``retry_every`` seconds until this process leads (True) or ``stop`` is set (False)."""
        while not stop.is_set():
            if self.try_acquire():
                return True
            stop.wait(self.retry_every)
        return False

    def fence(self, conn: Connection) -> None:
        """``check_epoch`` with this leadership's name and epoch: inside a write transaction on the
        store, refuse (``LeadershipLost``) unless this process is still the latest leader."""
        lease = self._lease
        if lease is None:
            raise LeadershipLost(f"leadership {self.name!r} is not held by this process; write refused")
        check_epoch(conn, self.name, lease.epoch)

    # -- letting go ----------------------------------------------------------------------------

    def release(self) -> None:
        """Stop leading (if leading) and close the dedicated connection; a standby can take over at once.
        The candidate can try again later."""
        with self._mutex:
            was = self._lease
            conn = self._conn
            if conn is not None and was is not None:
                try:
                    conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self.key})
                    conn.commit()
                except SQLAlchemyError:
                    pass  # closing the session below releases it anyway
            self._drop()
            if was is not None:
                log.info("leadership %r released (epoch %d)", self.name, was.epoch)

    def close(self) -> None:
        """Release and dispose of the engine."""
        self.release()
        self._engine.dispose()

    def __enter__(self) -> Leadership:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -- internals (called with the mutex held) -----------------------------------------------------

    def _connection(self) -> Connection | None:
        if self._conn is not None:
            return self._conn
        try:
            conn = self._engine.connect()
            conn.execute(text(f"SET statement_timeout = {_STATEMENT_TIMEOUT_MS}"))
            conn.commit()
        except SQLAlchemyError as exc:
            self.last_error = database_error(exc, self.url)
            log.warning("leadership %r: %s", self.name, self.last_error)
            return None
        except (TypeError, ValueError) as exc:  # a connection option the driver refuses
            raise StoreUnusable(f"cannot use database {shown(self.url)}: {exc}") from None
        self._conn = conn
        return conn

    def _check(self) -> bool:
        lease, conn = self._lease, self._conn
        if lease is None or conn is None:
            return False
        hi, lo = (self.key >> 32) & 0xFFFFFFFF, self.key & 0xFFFFFFFF
        try:
            row = conn.execute(_HELD, {"hi": hi, "lo": lo, "name": self.name}).one()
            conn.commit()
        except SQLAlchemyError as exc:
            self._lost(f"the connection failed: {error_line(exc)}")
            return False
        if not row.held:
            self._lost("PostgreSQL no longer lists the lock as held by this session")
            return False
        if row.epoch != lease.epoch:
            self._lost(f"the stored epoch is {row.epoch}, not ours ({lease.epoch})")
            return False
        return True

    def _lost(self, why: str) -> None:
        lease = self._lease
        self._drop()
        self.last_error = why
        if lease is not None:
            log.warning("leadership %r lost (epoch %d): %s", self.name, lease.epoch, why)

    def _failed(self, what: str, exc: SQLAlchemyError) -> None:
        self.last_error = f"could not {what} leadership {self.name!r}: {error_line(exc)}"
        log.warning("%s", self.last_error)

    def _drop(self) -> None:
        """Forget the lease and close the connection (which ends the session and its locks)."""
        self._lease = None
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.invalidate()  # never back to a pool; the session is closed by the server or here
                conn.close()
            except SQLAlchemyError:
                pass

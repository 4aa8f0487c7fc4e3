"""Opening a store from a URL a person typed: the URL checked before use, every connection attempt
bounded by a timeout, and the database recognised as a posture-agent store (or named as something
else) before anything is created or migrated in it.

``probe`` never writes: an SQLite file is read through a read-only connection (no journal-mode
change, no file created), a PostgreSQL database through a connection that only lists its tables.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote

from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.pool import NullPool

from agent.errors import StoreUnusable

__all__ = [
    "CONNECT_TIMEOUT_S",
    "Found",
    "connect_args",
    "database_error",
    "error_line",
    "known_revisions",
    "parse_url",
    "prepare_for_write",
    "probe",
    "shown",
    "unusable",
]

CONNECT_TIMEOUT_S = 10  # PostgreSQL: the whole connection attempt, unless the URL sets connect_timeout
SQLITE_BUSY_TIMEOUT_S = 30
_PROBE_TIMEOUT_S = 5
_USE = "use sqlite:///PATH or postgresql+psycopg://USER@HOST/DB"
_SQLITE_DRIVERS = ("sqlite", "sqlite+pysqlite")
_POSTGRES_DRIVERS = ("postgresql", "postgresql+psycopg")
_MIGRATIONS = Path(__file__).parent / "migrations"

Kind = Literal["absent", "empty", "ours"]


@dataclass(frozen=True)
class Found:
    """What is at a URL: nothing yet (absent: no SQLite file), an empty database (no tables; for
    SQLite also a zero-byte file), or a posture-agent store at a revision this version knows."""

    kind: Kind
    where: str
    revision: str | None = None
    empty_file: bool = False

    @property
    def at_head(self) -> bool:
        return self.revision == known_revisions()[-1]


def shown(url: str) -> str:
    """The URL as shown to a person: password hidden, control characters escaped, at most 200 characters."""
    try:
        out = make_url(url).render_as_string(hide_password=True)
    except Exception:  # not parseable: hide what looks like a password by hand
        out = re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", url)
    if not out.isprintable():
        out = out.encode("unicode_escape").decode("ascii")
    return out if len(out) <= 200 else out[:197] + "..."


def unusable(message: str) -> StoreUnusable:
    return StoreUnusable(message)


def parse_url(url: str) -> URL:
    """The URL parsed and checked: a driver this agent has, a port in range, no NUL byte. Raises
    StoreUnusable naming what is wrong (never the password)."""
    if "\x00" in url:
        raise unusable("the database URL contains a NUL byte")
    if not url.strip():
        raise unusable(f"the database URL is empty: {_USE}")
    try:
        parsed = make_url(url)
    except ValueError:  # int(port)
        raise unusable(f"invalid database URL {shown(url)}: the port is not a number") from None
    except ArgumentError:
        raise unusable(f"invalid database URL {shown(url)}: {_USE}") from None
    name = parsed.drivername
    backend = name.partition("+")[0]
    if backend == "sqlite":
        if name not in _SQLITE_DRIVERS:
            raise unusable(f"unsupported SQLite driver {name!r} in {shown(url)}: {_USE}")
        if parsed.host or parsed.username or parsed.password or parsed.port:
            raise unusable(
                f"invalid SQLite URL {shown(url)}: it names a file, sqlite:///relative/path or sqlite:////absolute/path"
            )
        if parsed.query:
            raise unusable(f"invalid SQLite URL {shown(url)}: it takes no ?parameters")
        return parsed
    if backend == "postgresql":
        if name not in _POSTGRES_DRIVERS:
            raise unusable(f"unsupported PostgreSQL driver {name!r} in {shown(url)}: use postgresql+psycopg://...")
        if parsed.port is not None and not 1 <= parsed.port <= 65535:
            raise unusable(f"invalid database URL {shown(url)}: port {parsed.port} is out of range (1-65535)")
        timeout = parsed.query.get("connect_timeout")
        if timeout is not None and not (isinstance(timeout, str) and timeout.isdigit()):
            raise unusable(f"invalid database URL {shown(url)}: connect_timeout must be a number of seconds")
        return parsed.set(drivername="postgresql+psycopg")
    raise unusable(f"unsupported database {backend!r} in {shown(url)}: {_USE}")


def connect_args(parsed: URL) -> dict[str, Any]:
    """What every connection attempt gets: a bounded wait."""
    if parsed.get_backend_name() == "sqlite":
        return {"timeout": SQLITE_BUSY_TIMEOUT_S, "check_same_thread": False}
    if "connect_timeout" in parsed.query:
        return {}
    return {"connect_timeout": CONNECT_TIMEOUT_S}


@cache
def known_revisions() -> tuple[str, ...]:
    """Every schema revision of this version's migrations, oldest first."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory(str(_MIGRATIONS))
    return tuple(reversed([r.revision for r in script.walk_revisions()]))


def _sqlite_path(parsed: URL) -> Path | None:
    path = parsed.database or ""
    if not path or path == ":memory:":
        return None
    return Path(path).expanduser()


def probe(url: str) -> Found:
    """What is at ``url``, without creating or changing anything. Raises StoreUnusable when it cannot
    be reached, is not a database, or is a database that is not a posture-agent store."""
    parsed = parse_url(url)
    where = shown(url)
    if parsed.get_backend_name() == "sqlite":
        return _probe_sqlite(_sqlite_path(parsed), where)
    engine = create_engine(parsed, poolclass=NullPool, connect_args=connect_args(parsed))
    try:
        with engine.connect() as conn:
            tables = [t for t in inspect(conn).get_table_names() if t != "alembic_version"]
            has_version = inspect(conn).has_table("alembic_version")
            revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar() if has_version else None
    except SQLAlchemyError as exc:
        raise unusable(database_error(exc, url)) from None
    except (TypeError, ValueError) as exc:  # a connection option the driver refuses
        raise unusable(f"cannot use database {where}: {_first_line(exc)}") from None
    finally:
        engine.dispose()
    return _judge(where, tables, has_version, revision)


def _probe_sqlite(path: Path | None, where: str) -> Found:
    if path is None:
        return Found("empty", where)
    where = str(path)
    try:
        st = path.stat()
    except (FileNotFoundError, NotADirectoryError):
        return Found("absent", where)
    except OSError as exc:
        raise unusable(f"cannot use the SQLite file {where}: {exc.strerror or exc}") from None
    if path.is_dir():
        raise unusable(f"{where} is a directory, not an SQLite database")
    if not path.is_file():
        raise unusable(f"{where} is not a regular file, not an SQLite database")
    if st.st_size == 0:
        return Found("empty", where, empty_file=True)
    try:
        conn = sqlite3.connect(
            f"file:{quote(str(path.absolute()))}?mode=ro", uri=True, timeout=_PROBE_TIMEOUT_S, check_same_thread=False
        )
    except sqlite3.Error as exc:
        raise unusable(f"cannot open the SQLite file {where}: {exc}") from None
    try:
        names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        has_version = "alembic_version" in names
        revision = conn.execute("SELECT version_num FROM alembic_version").fetchone() if has_version else None
    except sqlite3.DatabaseError as exc:
        if "not a database" in str(exc) or "malformed" in str(exc):
            raise unusable(f"{where} is not an SQLite database ({exc})") from None
        raise unusable(f"cannot read the SQLite file {where}: {exc}") from None
    finally:
        conn.close()
    tables = [n for n in names if n != "alembic_version" and not n.startswith("sqlite_")]
    return _judge(where, tables, has_version, revision[0] if revision else None)


def _judge(where: str, tables: list[str], has_version: bool, revision: Any) -> Found:
    if has_version:
        if isinstance(revision, str) and revision in known_revisions():
            return Found("ours", where, revision)
        newest = known_revisions()[-1]
        raise unusable(
            f"{where} is at schema revision {revision!r}, which this posture-agent does not know (its newest is "
            f"{newest}): not a posture-agent store, or one of a newer version"
        )
    if tables:
        listed = ", ".join(sorted(tables)[:5]) + (", ..." if len(tables) > 5 else "")
        raise unusable(
            f"{where} is not a posture-agent store: it holds other tables ({listed}) and no posture-agent schema; "
            "give an empty database or the agent's own"
        )
    return Found("empty", where)


def prepare_for_write(url: str) -> Found:
    """Check that ``url`` is empty, absent or ours before a migration creates or changes anything in
    it; for SQLite, create the file's directory."""
    found = probe(url)
    parsed = parse_url(url)
    path = _sqlite_path(parsed) if parsed.get_backend_name() == "sqlite" else None
    if path is not None and found.kind == "absent":
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError):
            blocking = next((a for a in path.parents if a.exists() and not a.is_dir()), path.parent)
            raise unusable(f"cannot create the SQLite file {path}: {blocking} is not a directory") from None
        except OSError as exc:
            raise unusable(f"cannot create the directory of {path}: {exc.strerror or exc}") from None
    return found


def _first_line(exc: BaseException) -> str:
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    return " ".join(lines[:2])[:300] or type(exc).__name__


def database_error(exc: BaseException, url: str) -> str:
    """One line for a database error, naming the redacted URL: unreachable, no answer in time, no
    such database, refused login, not an SQLite file."""
    where = shown(url)
    orig = getattr(exc, "orig", None) or exc
    msg = _first_line(orig)
    low = msg.lower()
    missing = re.search(r'database "([^"]*)" does not exist', msg)
    if missing:
        return f"database {missing.group(1)!r} does not exist at {where}"
    if "timeout expired" in low or "timed out" in low:
        return f"cannot reach database {where}: no answer in time (is a PostgreSQL server listening there?)"
    if "password authentication failed" in low or re.search(r'role "[^"]*" does not exist', msg):
        return f"cannot log in to database {where}: {msg}"
    if "file is not a database" in low:
        return f"{where} is not an SQLite database"
    if "unable to open database file" in low:
        return f"cannot open the SQLite file of {where}"
    return f"cannot reach database {where}: {msg}"


def error_line(exc: BaseException) -> str:
    """A database error while working (after the store was opened) as one line, without the SQL."""
    return _first_line(getattr(exc, "orig", None) or exc)

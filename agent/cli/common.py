"""Helpers shared by CLI commands: config and store resolution, argument checks, output.

Every argument is checked here before anything is read or written, and each problem is one
UsageError line (exit 2). Exit codes: agent/errors.py.
"""

from __future__ import annotations

import errno
import json
import os
import socket
import sys
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console

from agent.config import Config, default_database_url, load_config, parse_duration
from agent.errors import StoreUnusable, UsageError

if TYPE_CHECKING:  # the store (SQLAlchemy, Alembic) is imported by the commands that open one
    from agent.store import Store
    from agent.store.opening import Found

__all__ = [
    "check_duration",
    "check_listen",
    "check_port_free",
    "console",
    "err_console",
    "input_file",
    "no_nul",
    "open_store",
    "open_url",
    "output_dir",
    "output_file",
    "resolve_config",
    "store_url",
    "write_output",
]

# Piped output is read by tools and people with wide screens: don't fold ids at 80 columns. What we
# print comes from clouds, files and users, so brackets in it are text, never rich markup (a style
# is given as a rich Text where one is wanted).
console = Console(width=None if sys.stdout.isatty() else 240, markup=False, highlight=False)
err_console = Console(stderr=True, markup=False, highlight=False)

MAX_DURATION = timedelta(days=3650)  # ten years, as agent.config's durations


def no_nul(option: str, value: str) -> str:
    if "\x00" in value:
        raise UsageError(f"{option}: contains a NUL byte")
    return value


def known_aws_profile(option: str, name: str) -> str:
    """A profile that the AWS config or credentials files define: a typo is a usage error, not a failed scan."""
    import botocore.session

    try:
        known = botocore.session.Session().available_profiles
    except Exception as exc:  # an unreadable or malformed ~/.aws/config
        raise UsageError(f"{option}: cannot read the AWS config files: {exc}") from None
    if name != "default" and name not in known:  # botocore takes a missing default as empty
        listed = ", ".join(sorted(known)[:10]) or "none"
        raise UsageError(f"{option}: no AWS profile {_shown(name)!s} in the AWS config files (defined: {listed})")
    return name


def _shown(value: object) -> str:
    text = str(value)
    if not text.isprintable():
        text = text.encode("unicode_escape").decode("ascii")
    return text if len(text) <= 120 else text[:117] + "..."


def check_duration(
    option: str, value: str, *, minimum: timedelta = timedelta(seconds=1), maximum: timedelta = MAX_DURATION
) -> timedelta:
    """A duration such as 30s, 15m, 24h or 7d, within [minimum, maximum]."""
    no_nul(option, value)
    try:
        td = parse_duration(value.strip())
    except ValueError as exc:
        raise UsageError(f"{option}: {exc}") from None
    except OverflowError:  # a number of days past what a date can hold
        td = timedelta.max
    if td < minimum or td > maximum:
        raise UsageError(f"{option}: {_shown(value)} is out of range ({_human(minimum)} to {_human(maximum)})")
    return td


def _human(td: timedelta) -> str:
    seconds = int(td.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _stat(option: str, path: Path) -> os.stat_result | None:
    """os.stat of ``path``; None when it does not exist; a UsageError for any other problem (a name
    too long, a loop of links, no permission)."""
    no_nul(option, str(path))
    try:
        return path.stat()
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        raise UsageError(f"{option}: {_shown(path)}: {exc.strerror or exc}") from None


def input_file(option: str, path: Path) -> Path:
    """An existing, readable regular file."""
    st = _stat(option, path)
    if st is None:
        raise UsageError(f"{option}: {_shown(path)} does not exist")
    if path.is_dir():
        raise UsageError(f"{option}: {_shown(path)} is a directory, not a file")
    if not path.is_file():
        raise UsageError(f"{option}: {_shown(path)} is not a regular file")
    if not os.access(path, os.R_OK):
        raise UsageError(f"{option}: {_shown(path)} is not readable")
    return path


def output_file(option: str, path: Path) -> Path:
    """A file that can be written: not a directory, in a directory that exists."""
    st = _stat(option, path)
    if st is not None and path.is_dir():
        raise UsageError(f"{option}: {_shown(path)} is a directory; name a file")
    parent = path.parent
    pst = _stat(option, parent)
    if pst is None:
        raise UsageError(f"{option}: the directory {_shown(parent)} does not exist")
    if not parent.is_dir():
        raise UsageError(f"{option}: {_shown(parent)} is not a directory")
    return path


def output_dir(option: str, path: Path) -> Path:
    """A directory that exists or can be created (its nearest existing ancestor is a directory)."""
    st = _stat(option, path)
    if st is not None:
        if not path.is_dir():
            raise UsageError(f"{option}: {_shown(path)} is not a directory")
        return path
    ancestor = path.parent
    while _stat(option, ancestor) is None and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise UsageError(f"{option}: {_shown(ancestor)} is not a directory")
    return path


def check_listen(option: str, value: str) -> tuple[str, int]:
    """HOST:PORT (an IP address or localhost, a port 0-65535; port 0 picks a free one)."""
    import ipaddress

    no_nul(option, value)
    host, sep, port = value.strip().rpartition(":")
    if not sep or not port.isascii() or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise UsageError(f"{option}: expected HOST:PORT with a port 0-65535, got {_shown(value)!r}")
    host = host.strip("[]")
    if host not in ("", "localhost"):
        try:
            ipaddress.ip_address(host)
        except ValueError:
            raise UsageError(f"{option}: the host must be an IP address or localhost, got {_shown(host)!r}") from None
    return host or "127.0.0.1", int(port)


def check_port_free(option: str, host: str, port: int) -> None:
    """Fail early, as one line, when the address cannot be listened on (in use, not ours)."""
    if port == 0:
        return
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the HTTP server does
        try:
            s.bind((host, port))
        except OSError as exc:
            raise UsageError(listen_error(option, host, port, exc)) from None


def listen_error(option: str, host: str, port: int, exc: OSError) -> str:
    why = "the port is in use" if exc.errno == errno.EADDRINUSE else (exc.strerror or str(exc))
    return f"{option}: cannot listen on {host}:{port}: {why}"


def resolve_config(path: Path | None) -> Config:
    """The config file if given, else defaults (embedded SQLite store, SOC 2 security scope)."""
    if path is None:
        return Config()
    no_nul("--config", str(path))
    return load_config(path)


def store_url(db: str | None, config: Config | None) -> str:
    """--db wins, then the config's database, then the embedded SQLite file."""
    if db is not None:
        no_nul("--db", db)
        return db
    return config.database if config is not None else default_database_url()


def _missing(found: Found) -> StoreUnusable:
    if found.empty_file:
        return StoreUnusable(f"{found.where} is an empty file, not a posture-agent store")
    if found.kind == "absent":
        return StoreUnusable(
            f"no store at {found.where}: nothing collected yet (run `posture-agent scan` or the agent first)"
        )
    return StoreUnusable(f"{found.where} is an empty database, not a posture-agent store yet (nothing collected)")


def open_url(url: str, *, write: bool, missing_ok: bool = False) -> Store | None:
    """The store at ``url``. Writing: created or migrated when it is absent, empty or ours at an older
    revision. Reading: it must be ours (migrated when older); None when it is absent or empty and
    ``missing_ok``, else StoreUnusable. A database that is not ours is refused either way, untouched.
    A store already at the head revision is used as it is (Alembic is not even imported)."""
    from agent.store import Store
    from agent.store.opening import probe

    found = probe(url)
    if not write and found.kind != "ours":
        if missing_ok:
            return None
        raise _missing(found)
    store = Store(url)
    if not found.at_head:
        try:
            store.upgrade()
        except BaseException:
            store.close()
            raise
    return store


def open_store(db: str | None, config: Config | None, *, write: bool = False) -> Store:
    """The store of --db, else the config's, else the embedded SQLite file (see open_url)."""
    store = open_url(store_url(db, config), write=write)
    assert store is not None  # missing_ok is False
    return store


def write_output(data: Any, output: Path | None) -> None:
    text = json.dumps(data, indent=2, sort_keys=False, ensure_ascii=False, default=str) + "\n"
    if output is None:
        sys.stdout.write(text)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {output}: {exc.strerror}") from None

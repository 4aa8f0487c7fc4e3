"""Property test of the whole CLI's input surface (issue #16: no traceback ever reaches a user).

Each example picks a command and a random subset of that command's own options and arguments (read
from the click command tree, so a new option is fuzzed without touching this file), each with a value
drawn for its kind: durations, dates, database URLs (bad ports, unknown drivers, a NUL byte, a port
that never answers, a missing PostgreSQL database), paths to empty, garbage and foreign files, ports,
choices and free text; half the vectors lean valid, so they get past the checks and do the command's
real work (a scan to its failed collection, an export to its bundle). Whatever the vector, the CLI must end with an exit code in {0, 1, 2, 3}, print
no traceback, never print a password, and leave a database that is not ours exactly as it was (and a
read command must not create or initialise a store).

500 vectors run in-process through typer's CliRunner (the daemon's and the demo's endless loops are
stubbed: everything up to them runs); 30 more run as real processes, with a timeout as a hang guard.
Network: loopback only (the AWS endpoint is a closed local port, the S3 endpoint too).
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import sqlite3
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import typer.main
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from agent.cli.drift_cmd import KINDS
from agent.cli.main import app, exit_code
from agent.config import FRAMEWORKS, SOC2_CATEGORIES
from agent.daemon import Daemon
from agent.errors import AgentError
from agent.store import Store
from tests.conftest import PG_URL, _pg_available, free_port

PASSWORD = "hunter2-secret"
TOO_LONG = "n" * 300
READS = {
    ("findings",),
    ("drift",),
    ("sweeps",),
    ("controls",),
    ("alerts", "pending"),
    ("exceptions", "list"),
    ("evidence", "list"),
    ("evidence", "verify"),
    ("evidence", "at"),
    ("evidence", "coverage"),
    ("evidence", "export"),
}
LONG_RUNNING = {("run",), ("demo",)}  # stubbed in-process; left out of the real processes


def _commands() -> dict[tuple[str, ...], list[Any]]:
    out: dict[tuple[str, ...], list[Any]] = {}

    def walk(cmd: Any, path: tuple[str, ...]) -> None:
        if hasattr(cmd, "commands"):
            for name, sub in cmd.commands.items():
                walk(sub, (*path, name))
        else:
            out[path] = list(cmd.params)

    walk(typer.main.get_command(app), ())
    return out


COMMANDS = _commands()


@dataclass
class World:
    """The files and servers the values point at, and what must not change."""

    tmp: Path
    closed_port: int
    silent_port: int
    pg_urls: list[str] = field(default_factory=list)
    pg_foreign: tuple[str, str] | None = None  # (base URL, schema) holding a table of someone else

    @property
    def empty(self) -> Path:
        return self.tmp / "empty.db"

    @property
    def garbage(self) -> Path:
        return self.tmp / "garbage.db"

    @property
    def foreign(self) -> Path:
        return self.tmp / "foreign.db"

    @property
    def fresh(self) -> Path:
        return self.tmp / "fresh" / "new.db"

    def protected(self) -> dict[str, str]:
        """Digests of what no command may change: the garbage file, the foreign database."""
        return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in (self.garbage, self.foreign)}

    def pg_foreign_tables(self) -> list[str]:
        if self.pg_foreign is None:
            return []
        base, schema = self.pg_foreign
        engine = sa.create_engine(base, connect_args={"connect_timeout": 5})
        try:
            with engine.connect() as conn:
                return sorted(sa.inspect(conn).get_table_names(schema=schema))
        finally:
            engine.dispose()

    def reset(self) -> None:
        """Undo what a write command may legitimately have done (initialised the empty file, created
        the fresh store), so every example meets the same files."""
        for suffix in ("-wal", "-shm", "-journal"):
            Path(f"{self.empty}{suffix}").unlink(missing_ok=True)
        self.empty.write_bytes(b"")
        for p in sorted(self.fresh.parent.glob("*"), reverse=True) if self.fresh.parent.exists() else []:
            p.unlink()
        if self.fresh.parent.exists():
            self.fresh.parent.rmdir()


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(64)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:  # a port that takes connections and never answers
        srv.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(srv.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    w = World(tmp=tmp_path, closed_port=free_port(), silent_port=srv.getsockname()[1])
    w.empty.write_bytes(b"")
    w.garbage.write_bytes(bytes(range(256)) * 16)
    with sqlite3.connect(w.foreign) as conn:
        conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)")
        conn.execute("INSERT INTO invoices VALUES (1, 9.5)")
    conn.close()
    ours = Store(f"sqlite:///{tmp_path / 'ours.db'}")
    ours.upgrade()
    ours.close()
    (tmp_path / "adir").mkdir()
    (tmp_path / "doc.txt").write_text("our information security policy\n")
    (tmp_path / "ok.yaml").write_text(f"database: sqlite:///{tmp_path / 'ours.db'}\nlisten: 127.0.0.1:0\n")
    (tmp_path / "badurl.yaml").write_text(f"database: 'postgresql+psycopg://u:{PASSWORD}@127.0.0.1:99999/x'\n")
    (tmp_path / "garbage.yaml").write_bytes(b"\x00\xff: [\n")
    engine = None
    if _pg_available() is None:
        base = sa.engine.make_url(PG_URL)
        schema = f"fz_{uuid.uuid4().hex[:10]}"
        engine = sa.create_engine(PG_URL)
        with engine.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
            conn.execute(sa.text(f'CREATE TABLE "{schema}".orders (id int)'))
        sep = "&" if "?" in PG_URL else "?"
        w.pg_foreign = (PG_URL, schema)
        w.pg_urls = [
            f"{PG_URL}{sep}options=-csearch_path%3D{schema}",
            base.set(database=f"nope_{uuid.uuid4().hex[:8]}").render_as_string(hide_password=False),
        ]
    monkeypatch.chdir(tmp_path)  # free-text paths land here, not in the repository
    for var in ("POSTURE_CONFIG", "POSTURE_DB", "AWS_PROFILE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("POSTURE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{w.closed_port}")  # no AWS: a closed local port
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    try:
        yield w
    finally:
        stop.set()
        thread.join(timeout=5)
        for c in held:
            c.close()
        srv.close()
        if engine is not None and w.pg_foreign is not None:
            with engine.begin() as conn:
                conn.execute(sa.text(f'DROP SCHEMA "{w.pg_foreign[1]}" CASCADE'))
            engine.dispose()


# -- values ----------------------------------------------------------------------------------------

text = st.text(max_size=24)
durations = st.one_of(
    st.sampled_from(["30s", "24h", "7d", "0s", "1s", "3650d", "3651d", "1000000000d", "5y", "-1h", " 2w "]),
    st.builds(lambda n, u: f"{n}{u}", st.integers(-5, 10**15), st.sampled_from(["", "s", "m", "h", "d", "w", "ms"])),
    text,
)
dates = st.one_of(
    st.sampled_from(
        [
            "2026-03-14",
            "2026-13-01",
            "2026-02-30",
            "0001-01-01",
            "0001-01-01T00:00+01:00",
            "9999-12-31",
            "9999-12-31T23:59:59-01:00",
            "2026-03-14T10:00Z",
            "2999-01-01",
            "yesterday",
            "",
        ]
    ),
    st.dates().map(str),
    text,
)
integers = st.one_of(st.integers(-(10**6), 10**12).map(str), text)


def db_urls(w: World) -> st.SearchStrategy[str]:
    pw = f"u:{PASSWORD}@127.0.0.1"
    return st.one_of(
        st.sampled_from(
            [
                f"sqlite:///{w.empty}",
                f"sqlite:///{w.garbage}",
                f"sqlite:///{w.foreign}",
                f"sqlite:///{w.tmp / 'ours.db'}",
                f"sqlite:///{w.fresh}",
                f"sqlite:///{w.tmp / 'adir'}",
                f"sqlite:///{w.garbage}/under-a-file.db",
                f"sqlite:///{w.tmp / TOO_LONG}.db",
                "sqlite://",
                "sqlite:///x.db?mode=ro",
                "sqlite+foo:///x.db",
                "sqlite:///a\x00b.db",
                f"mysql://{pw}/x",
                "foo://x",
                "",
                "::",
                f"postgresql+psycopg2://{pw}/x",
                f"postgresql+psycopg://{pw}:{w.closed_port}/x",
                f"postgresql+psycopg://{pw}:{w.silent_port}/x?connect_timeout=1",
                f"postgresql+psycopg://{pw}:99999/x",
                f"postgresql+psycopg://{pw}:abc/x",
                f"postgresql+psycopg://{pw}:{w.closed_port}/x?connect_timeout=soon",
                *w.pg_urls,
            ]
        ),
        st.builds(lambda port: f"postgresql+psycopg://{pw}:{port}/x", st.integers(65536, 10**7) | st.integers(-9, 0)),
        text,
    )


def in_paths(w: World) -> st.SearchStrategy[str]:
    files = [w.empty, w.garbage, w.foreign, w.tmp / "adir", w.tmp / "doc.txt", w.tmp / "missing", w.tmp / TOO_LONG]
    return st.one_of(st.sampled_from([str(p) for p in files] + ["", "-", "a\x00b"]), text)


def configs(w: World) -> st.SearchStrategy[str]:
    names = ["ok.yaml", "badurl.yaml", "garbage.yaml", "empty.db", "garbage.db", "adir", "missing.yaml", TOO_LONG]
    return st.one_of(st.sampled_from([str(w.tmp / n) for n in names] + [""]), text)


def out_paths(w: World) -> st.SearchStrategy[str]:
    named = [w.tmp / "out.json", w.tmp / "nodir" / "o.zip", w.tmp / "adir", w.garbage / "x", w.tmp / TOO_LONG, w.tmp]
    return st.one_of(st.sampled_from([str(p) for p in named] + [""]), text)


def listens(w: World) -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(
            [
                "127.0.0.1:0",
                f"127.0.0.1:{w.silent_port}",  # in use
                "localhost:0",
                "[::1]:0",
                "127.0.0.1:70000",
                "127.0.0.1:-1",
                "1.2.3:80",
                "example.org:80",
                ":0",
                "127.0.0.1",
            ]
        ),
        text,
    )


def choices(*values: str) -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from([*values, "", "nope"]), text)


def value_strategies(w: World) -> dict[str, st.SearchStrategy[str]]:
    """By option (its first spelling) or argument name."""
    return {
        "--db": db_urls(w),
        "--config": configs(w),
        "path": configs(w),
        "--since": durations,
        "--interval": durations,
        "--drift-every": durations,
        "--review-every": durations,
        "--tolerance": durations,
        "--max-cadence": durations,
        "--from": dates,
        "--to": dates,
        "--expires": dates,
        "when": dates,
        "--limit": integers,
        "--retention-days": integers,
        "--max-errors": integers,
        "--listen": listens(w),
        "--output": out_paths(w),
        "--out": out_paths(w),
        "--data-dir": out_paths(w),
        "--file": in_paths(w),
        "bundle": in_paths(w),
        "--public-key": in_paths(w),
        "--tsa-cert": in_paths(w),
        "--format": choices("table", "json", "markdown"),
        "--fail-on": choices("critical", "high", "medium", "low", "info", "never"),
        "--framework": choices(*FRAMEWORKS),
        "--category": choices(*SOC2_CATEGORIES),
        "--kind": choices(*KINDS),
        "--status": choices("pass", "fail", "error", "not_applicable", "excepted"),
        "--check": choices("aws.s3.bucket_versioning", "aws.iam.root_mfa_enabled"),
        "--control": choices("SOC2:CC6.1", "soc2:cc6.1", "POL-INFOSEC", "IAM-USER-MFA", "ISO27001:A.5.1"),
        "--provider": choices("aws", "gcp", "azure", "endpoints"),
        "provider": choices("aws", "gcp", "azure", "endpoints"),
        "--region": choices("us-east-1", "eu-west-1", "moon-1"),
        "--profile": choices("default"),
        "channel": choices("team"),
        "--owner": choices("alice"),
        "--new-key": choices("file:/nonexistent.pem", "env:NO_SUCH_VAR", f"file:{w.garbage}", "inline-secret"),
        "--key-fingerprint": st.one_of(st.text("0123456789abcdef:", max_size=70), text),
        "--framework-sha256": st.one_of(st.text("0123456789abcdef", min_size=64, max_size=64), text),
        # only loopback endpoints: no free text that could name a host somewhere
        "--s3-endpoint": st.sampled_from(
            [f"http://127.0.0.1:{w.closed_port}", "http://127.0.0.1:99999", "ftp://x", ""]
        ),
        "--anchor-bucket": st.sampled_from(["s3://bucket/prefix", "s3://", "not-s3", ""]),
    }


def valid_values(w: World) -> dict[str, list[str]]:
    """Values each option accepts, so that some vectors get past every check and run the command
    to its end (a scan to its failed collection, an export to its bundle)."""
    today = datetime.now(UTC).date()
    return {
        "--db": [f"sqlite:///{w.tmp / 'ours.db'}", f"sqlite:///{w.fresh}", f"sqlite:///{w.empty}"],
        "--config": [str(w.tmp / "ok.yaml")],
        "path": [str(w.tmp / "ok.yaml")],
        "--since": ["24h", "7d"],
        "--interval": ["30s"],
        "--drift-every": ["120s"],
        "--review-every": ["365d"],
        "--tolerance": ["5m"],
        "--max-cadence": ["1d"],
        "--from": [str(today - timedelta(days=30))],
        "--to": [str(today)],
        "--expires": ["2999-01-01"],
        "when": [f"{today}T00:00Z"],
        "--limit": ["10"],
        "--retention-days": ["400"],
        "--max-errors": ["0", "5"],
        "--listen": ["127.0.0.1:0"],
        "--output": [str(w.tmp / "out.json")],
        "--out": [str(w.tmp / "bundle.zip")],
        "--data-dir": [str(w.tmp / "demo")],
        "--file": [str(w.tmp / "doc.txt")],
        "bundle": [str(w.tmp / "bundle.zip")],
        "--format": ["json", "table"],
        "--fail-on": ["critical", "never"],
        "--framework": ["soc2"],
        "--category": ["availability"],
        "--kind": ["regressed"],
        "--status": ["fail"],
        "--check": ["aws.s3.bucket_versioning"],
        "--control": ["SOC2:CC6.1", "POL-INFOSEC"],
        "--provider": ["aws"],
        "provider": ["aws"],
        "--region": ["us-east-1"],
        "channel": ["team"],
        "--owner": ["alice"],
        "--resource": ["arn:aws:s3:::logs-*"],
        "--reason": ["write-once logs"],
        "--source": ["aws"],
        "--account": ["123456789012"],
    }


@st.composite
def vectors(draw: Any, w: World, strategies: dict[str, st.SearchStrategy[str]], paths: list[tuple[str, ...]]) -> Any:
    path = draw(st.sampled_from(paths))
    params = COMMANDS[path]
    valid = valid_values(w)
    leaning = draw(st.booleans())  # half the vectors mostly valid: they reach the command's real work

    def value(key: str) -> str:
        if leaning and key in valid and draw(st.integers(0, 9)) < 9:
            return str(draw(st.sampled_from(valid[key])))
        return str(draw(strategies.get(key, text)))

    chosen = draw(st.lists(st.sampled_from(params), unique_by=lambda p: p.name, max_size=len(params))) if params else []
    for p in params:  # the required ones, most of the time, so the command gets past click
        if p.required and p not in chosen and draw(st.integers(0, 9)) < 8:
            chosen.append(p)
    names = {p.opts[0] for p in chosen}
    if "--anchor-bucket" in names and "--s3-endpoint" not in names:
        chosen.extend(p for p in params if p.opts[0] == "--s3-endpoint")  # never the real S3
    args = list(path)
    for p in chosen:
        if type(p).__name__ == "TyperArgument":
            args.append(value(p.name))
            continue
        if getattr(p, "is_flag", False):
            args.append(draw(st.sampled_from([*p.opts, *p.secondary_opts])))
            continue
        for _ in range(draw(st.integers(1, 2)) if p.multiple else 1):
            args += [draw(st.sampled_from(p.opts)), value(p.opts[0])]
    return path, args


def _check(w: World, path: tuple[str, ...], args: list[str], code: int, output: str, before: dict[str, Any]) -> None:
    shown = " ".join(repr(a) for a in args)
    event(f"exit {code}")
    event(f"command {' '.join(path)}")
    assert "Traceback" not in output, f"{shown}\n{output}"
    assert code in (0, 1, 2, 3), f"{shown}: exit {code}\n{output}"
    assert PASSWORD not in output, f"{shown}: printed the password\n{output}"
    assert w.protected() == before["protected"], f"{shown}: changed a database that is not ours"
    assert w.pg_foreign_tables() == before["pg"], f"{shown}: changed the foreign PostgreSQL schema"
    if path in READS:
        assert w.empty.stat().st_size == 0, f"{shown}: a read command initialised an empty file"
        assert not w.fresh.exists(), f"{shown}: a read command created a store"


def _stub_endless_loops(monkeypatch: pytest.MonkeyPatch) -> None:
    """run and demo get through every check and set-up; only their wait for a signal is skipped."""

    def run_forever(self: Daemon) -> int:  # started and stopped at once, as if signalled
        self.start()
        self.scheduler.shutdown(wait=True)  # jobs begun at start (a checkpoint) end before the next example
        clean = self.stop()
        if self.pipeline.store is not None:
            self.pipeline.store.close()
        return 0 if clean else 1

    monkeypatch.setattr(Daemon, "run_forever", run_forever)
    import posture_demo.run

    monkeypatch.setattr(posture_demo.run, "run_demo", lambda **_: 0)


SETTINGS = dict(
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)


@settings(max_examples=500, **SETTINGS)  # type: ignore[arg-type]
@given(data=st.data())
def test_cli_in_process(world: World, data: st.DataObject, monkeypatch: pytest.MonkeyPatch) -> None:
    _stub_endless_loops(monkeypatch)
    path, args = data.draw(vectors(world, value_strategies(world), sorted(COMMANDS)), label="argv")
    before = {"protected": world.protected(), "pg": world.pg_foreign_tables()}
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    try:
        result = CliRunner().invoke(app, args)
    finally:
        root.handlers[:], root.level = saved  # scan and run set up logging on the runner's stream
    exc = result.exception
    if exc is None or isinstance(exc, SystemExit):
        code = result.exit_code
    elif isinstance(exc, AgentError):  # propagates under CliRunner; main.run prints it as one line
        code = exit_code(exc)
    else:
        import traceback

        tb = "".join(traceback.format_exception(exc))
        pytest.fail(f"{' '.join(map(repr, args))}: unexpected {type(exc).__name__}\n{tb}")
    try:
        _check(world, path, args, code, result.output + (str(exc) if exc else ""), before)
    finally:
        world.reset()


@settings(max_examples=30, **SETTINGS)  # type: ignore[arg-type]
@given(data=st.data())
def test_cli_as_processes(world: World, data: st.DataObject) -> None:
    paths = sorted(p for p in COMMANDS if p not in LONG_RUNNING)
    path, args = data.draw(vectors(world, value_strategies(world), paths), label="argv")
    args = [a for a in args if "\x00" not in a]  # not representable in a real argv
    before = {"protected": world.protected(), "pg": world.pg_foreign_tables()}
    try:
        r = subprocess.run(
            [sys.executable, "-m", "agent.cli.main", *args],
            capture_output=True,
            text=True,
            timeout=180,  # a hang guard only
            env=dict(os.environ),
            cwd=world.tmp,
        )
        _check(world, path, args, r.returncode, r.stdout + r.stderr, before)
    finally:
        world.reset()

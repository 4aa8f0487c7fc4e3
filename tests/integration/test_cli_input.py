"""The CLI's answers to bad input, unreachable stores and failed scans: one line, an honest exit code
(0 ok, 1 findings at or above --fail-on, 2 usage or configuration, 3 the work failed), never a
traceback, and nothing created in a database that is not ours.

Most cases run in-process through agent.cli.main.run (the same code path as the installed command);
a few as real processes where the process boundary matters (the exit status, a hang)."""

from __future__ import annotations

import hashlib
import os
import socket
import sqlite3
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from rich.console import Console
from rich.progress import Progress

from agent.cli import core
from agent.cli.core import ScanProgress, scan_verdict
from agent.cli.main import run
from agent.errors import EXIT_FAILED, EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, UsageError
from agent.store.opening import CONNECT_TIMEOUT_S, connect_args, parse_url
from tests.conftest import free_port


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = run(list(args))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err, out + err
    return code, out, err


def proc(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "agent.cli.main", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(autouse=True)
def _data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POSTURE_DATA_DIR", str(tmp_path / "data"))  # the default store: a fresh one


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    empty = tmp_path / "empty.db"
    empty.write_bytes(b"")
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(bytes(range(256)) * 4)
    foreign = tmp_path / "foreign.db"
    with sqlite3.connect(foreign) as conn:
        conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)")
    return {"empty": empty, "garbage": garbage, "foreign": foreign}


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A TCP port that accepts connections and never answers (not PostgreSQL)."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        srv.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(srv.accept()[0])
            except OSError:
                continue

    t = threading.Thread(target=accept, daemon=True)
    t.start()
    try:
        yield srv.getsockname()[1]
    finally:
        stop.set()
        t.join(timeout=5)
        for c in held:
            c.close()
        srv.close()


# -- arguments -------------------------------------------------------------------------------------


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "--version")
    assert code == EXIT_OK and out.startswith("posture-agent ")


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("drift", "--since", "1000000000d"), "--since"),
        (("drift", "--since", "0s"), "--since"),
        (("drift", "--since", "soon"), "--since"),
        (("drift", "--kind", "exploded"), "--kind: unknown kind"),
        (("drift", "--limit", "0"), "--limit"),
        (("drift", "--format", "xml"), "--format"),
        (("findings", "--status", "burning"), "--status: unknown status"),
        (("findings", "--check", "no.such.check"), "--check: no check"),
        (("findings", "--control", "SOC2:ZZ9"), "--control: unknown requirement"),
        (("checks", "list", "--provider", "oracle"), "--provider: unknown provider"),
        (
            ("exceptions", "add", "--check", "aws.s3.bucket_versioning", "--resource", "x", "--reason", "r")
            + ("--owner", "o", "--expires", "9999-12-31"),
            "--expires",
        ),
        (
            ("exceptions", "add", "--check", "aws.s3.bucket_versioning", "--resource", "x", "--reason", " ")
            + ("--owner", "o", "--expires", "2999-01-01"),
            "--reason must not be empty",
        ),
        (("evidence", "coverage", "--from", "2026-13-01"), "not a date"),
        (("evidence", "at", "0001-01-01T00:00+01:00", "--control", "SOC2:CC6.1"), "not a date"),
        (("evidence", "export", "--out", "/nonexistent-dir/b.zip"), "--out: the directory"),
        (("evidence", "export", "--out", "b.zip", "--from", "2026-02-01", "--to", "2026-01-01"), "--to must be after"),
        (("demo", "--interval", "0s"), "--interval"),
        (("demo", "--listen", "1.2.3:80"), "--listen"),
        (("run", "--config", "/nonexistent.yaml", "--listen", "127.0.0.1:99999"), "--listen"),
        (("scan", "aws", "--output", "/nonexistent-dir/o.json"), "--output"),
        (("scan", "aws", "--max-errors", "-1"), "--max-errors"),
        (("scan", "aws", "--profile", "no-such-profile-here"), "--profile: no AWS profile"),
        (("findings", "--db", "sqlite:///x\x00y.db"), "NUL byte"),
        (("config", "validate", "a\x00b"), "NUL byte"),
    ],
)
def test_bad_arguments_are_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, args: tuple[str, ...], needle: str
) -> None:
    code, out, err = cli(capsys, *args)
    assert code == EXIT_USAGE, err
    assert needle in err, err
    assert len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "data").exists()  # nothing created on the way


# -- database URLs ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "needle"),
    [
        ("postgresql+psycopg://u:hunter2@127.0.0.1:99999/x", "port 99999 is out of range"),
        ("postgresql+psycopg://u:hunter2@127.0.0.1:abc/x", "the port is not a number"),
        ("postgresql+psycopg2://u:hunter2@127.0.0.1/x", "unsupported PostgreSQL driver"),
        ("mysql://u:hunter2@127.0.0.1/x", "unsupported database 'mysql'"),
        ("foo://x", "unsupported database 'foo'"),
        ("not a url", "invalid database URL"),
        ("", "the database URL is empty"),
        ("sqlite://host/x.db", "invalid SQLite URL"),
        ("sqlite:///x.db?mode=ro", "takes no ?parameters"),
    ],
)
def test_bad_database_urls(capsys: pytest.CaptureFixture[str], url: str, needle: str) -> None:
    for command in (("findings",), ("scan", "aws"), ("evidence", "verify"), ("db", "upgrade")):
        code, _, err = cli(capsys, *command, "--db", url)
        assert code == EXIT_USAGE and needle in err and "hunter2" not in err, (command, err)


def test_files_that_are_not_stores(capsys: pytest.CaptureFixture[str], files: dict[str, Path]) -> None:
    before = {k: digest(p) for k, p in files.items()}
    reads = [("findings",), ("drift",), ("evidence", "verify"), ("alerts", "pending"), ("exceptions", "list")]
    for command in reads:
        code, _, err = cli(capsys, *command, "--db", f"sqlite:///{files['garbage']}")
        assert code == EXIT_USAGE and "is not an SQLite database" in err, (command, err)
        code, _, err = cli(capsys, *command, "--db", f"sqlite:///{files['empty']}")
        assert code == EXIT_USAGE and "is an empty file, not a posture-agent store" in err, (command, err)
        code, _, err = cli(capsys, *command, "--db", f"sqlite:///{files['foreign']}")
        assert code == EXIT_USAGE and "is not a posture-agent store" in err and "invoices" in err, (command, err)
    for command in (("scan", "aws"), ("db", "upgrade")):  # writers refuse a foreign database too
        code, _, err = cli(capsys, *command, "--db", f"sqlite:///{files['foreign']}")
        assert code == EXIT_USAGE and "is not a posture-agent store" in err, (command, err)
    assert {k: digest(p) for k, p in files.items()} == before
    assert sorted(p.name for p in files["empty"].parent.iterdir() if p.name.startswith("foreign")) == ["foreign.db"]
    code, out, _ = cli(capsys, "db", "upgrade", "--db", f"sqlite:///{files['empty']}")  # an empty file: ours to make
    assert code == EXIT_OK and "at revision" in out


def test_a_missing_store_is_named_and_not_created(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "p.db"
    for command in (("findings",), ("drift",), ("evidence", "verify"), ("evidence", "coverage")):
        code, _, err = cli(capsys, *command, "--db", f"sqlite:///{missing}")
        assert code == EXIT_USAGE and f"no store at {missing}" in err, err
    assert not missing.parent.exists()


def test_a_newer_or_foreign_revision_is_refused(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    db = tmp_path / "other.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)")
        conn.execute("INSERT INTO alembic_version VALUES ('abc123')")
    before = digest(db)
    for command in (("findings",), ("db", "upgrade")):
        code, _, err = cli(capsys, *command, "--db", f"sqlite:///{db}")
        assert code == EXIT_USAGE and "schema revision 'abc123'" in err, err
    assert digest(db) == before


def test_postgresql_connect_timeout_is_bounded(
    capsys: pytest.CaptureFixture[str], silent_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert CONNECT_TIMEOUT_S == 10
    assert connect_args(parse_url("postgresql+psycopg://u@127.0.0.1/x")) == {"connect_timeout": 10}
    assert connect_args(parse_url("postgresql+psycopg://u@127.0.0.1/x?connect_timeout=3")) == {}
    monkeypatch.setattr("agent.store.opening.CONNECT_TIMEOUT_S", 1)
    url = f"postgresql+psycopg://u:hunter2@127.0.0.1:{silent_port}/x"
    for command in (("findings",), ("evidence", "verify"), ("db", "upgrade")):
        code, _, err = cli(capsys, *command, "--db", url)
        assert code == EXIT_USAGE and "no answer in time" in err and "u:***@127.0.0.1" in err, err
        assert "hunter2" not in err


def test_postgresql_non_postgres_port_as_a_process(silent_port: int) -> None:
    """The hang of the issue: a port that is not PostgreSQL, as the user meets it (hang guard: the timeout)."""
    r = proc("findings", "--db", f"postgresql+psycopg://u:hunter2@127.0.0.1:{silent_port}/x?connect_timeout=2")
    assert r.returncode == EXIT_USAGE and "no answer in time" in r.stderr and "hunter2" not in r.stderr, r.stderr
    closed = free_port()
    r = proc("evidence", "verify", "--db", f"postgresql+psycopg://u:hunter2@127.0.0.1:{closed}/x")
    assert r.returncode == EXIT_USAGE and "cannot reach database" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.postgres
def test_postgresql_missing_database_and_foreign_schema(capsys: pytest.CaptureFixture[str], pg_base: str) -> None:
    base = sa.engine.make_url(pg_base)
    missing = base.set(database=f"nope_{uuid.uuid4().hex[:8]}").render_as_string(hide_password=False)
    code, _, err = cli(capsys, "evidence", "verify", "--db", missing)
    assert code == EXIT_USAGE and "does not exist" in err, err
    schema = f"foreign_{uuid.uuid4().hex[:8]}"
    engine = sa.create_engine(pg_base)
    with engine.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        conn.execute(sa.text(f'CREATE TABLE "{schema}".orders (id int)'))
    url = f"{pg_base}{'&' if '?' in pg_base else '?'}options=-csearch_path%3D{schema}"
    try:
        for command in (("findings",), ("evidence", "verify"), ("drift",), ("scan", "aws"), ("db", "upgrade")):
            code, _, err = cli(capsys, *command, "--db", url)
            assert code == EXIT_USAGE and "is not a posture-agent store" in err and "orders" in err, (command, err)
        with engine.connect() as conn:
            assert sa.inspect(conn).get_table_names(schema=schema) == ["orders"]
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


# -- ports -----------------------------------------------------------------------------------------


def test_run_and_demo_with_the_port_in_use(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        cfg = tmp_path / "agent.yaml"
        cfg.write_text(f"database: sqlite:///{tmp_path / 'p.db'}\nlisten: 127.0.0.1:{port}\n")
        code, _, err = cli(capsys, "run", "--config", str(cfg))
        assert (
            code == EXIT_USAGE
            and err.strip() == f"error: {cfg}: listen: cannot listen on 127.0.0.1:{port}: the port is in use"
        )
        code, _, err = cli(capsys, "run", "--config", str(cfg), "--listen", f"127.0.0.1:{port}")
        assert code == EXIT_USAGE and "--listen: cannot listen" in err
        code, _, err = cli(capsys, "demo", "--listen", f"127.0.0.1:{port}", "--data-dir", str(tmp_path / "demo"))
        assert (
            code == EXIT_USAGE
            and err.strip() == f"error: --listen: cannot listen on 127.0.0.1:{port}: the port is in use"
        )
    assert not (tmp_path / "demo").exists()


# -- scan outcomes ---------------------------------------------------------------------------------


def test_an_aws_profile_is_checked_against_the_config_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from agent.cli.common import known_aws_profile

    conf = tmp_path / "aws-config"
    conf.write_text("[profile audit]\nregion = eu-west-1\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(conf))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    assert known_aws_profile("--profile", "audit") == "audit"
    assert known_aws_profile("--profile", "default") == "default"  # botocore reads a missing default as empty
    with pytest.raises(UsageError, match="defined: audit"):
        known_aws_profile("--profile", "audti")


def test_scan_of_an_unreachable_endpoint_exits_3(tmp_path: Path) -> None:
    env = {
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    db = f"sqlite:///{tmp_path / 'p.db'}"
    r = proc("scan", "aws", "-r", "us-east-1", "--db", db, "--fail-on", "critical", "--format", "json", env=env)
    assert r.returncode == EXIT_FAILED, r.stderr
    assert "error: source aws: collection failed: cannot identify the AWS account" in r.stderr
    assert "Traceback" not in r.stderr


def _doc(sources: list[dict[str, Any]], findings: list[tuple[str, str, str]]) -> dict[str, Any]:
    return {
        "run": {"sources": sources},
        "findings": [{"check_id": c, "status": st, "severity": sev} for c, st, sev in findings],
    }


def _err(code: str, op: str = "ListThings") -> dict[str, str]:
    return {"service": "svc", "operation": op, "region": "us-east-1", "code": code, "message": "m", "resource_type": ""}


def test_scan_verdict() -> None:
    ok = {"name": "aws", "account": "1", "status": "complete", "errors": []}
    partial = {"name": "aws", "account": "2", "status": "partial", "errors": [_err("AccessDenied")] * 3}
    failed = {
        "name": "gcp",
        "account": "",
        "status": "failed",
        "errors": [{**_err("RunFailed"), "message": "source gcp: no creds"}],
    }
    findings = [
        ("aws.iam.root_mfa", "fail", "critical"),
        ("aws.s3.public", "fail", "high"),
        ("aws.s3.public", "fail", "high"),
        ("aws.s3.versioning", "fail", "low"),
        ("aws.ec2.ok", "pass", "critical"),
    ]
    assert scan_verdict(_doc([ok], findings), "never", None) == (EXIT_OK, [])
    code, lines = scan_verdict(_doc([ok], findings), "high", None)
    assert code == EXIT_FINDINGS
    assert lines == [
        "failing: 3 findings at or above --fail-on high (1 critical, 2 high); worst checks: "
        "aws.iam.root_mfa (critical, 1), aws.s3.public (high, 2)"
    ]
    assert scan_verdict(_doc([ok], findings), "critical", None)[0] == EXIT_FINDINGS
    assert scan_verdict(_doc([ok], [("a", "fail", "medium")]), "high", None) == (EXIT_OK, [])
    code, lines = scan_verdict(_doc([ok, partial], []), "never", None)
    assert code == EXIT_OK and lines == [
        "warning: 3 collection errors (inputs missing) in aws/2: svc:ListThings AccessDenied (3)"
    ]
    assert scan_verdict(_doc([ok, partial], []), "never", 3)[0] == EXIT_OK
    code, lines = scan_verdict(_doc([ok, partial], findings), "critical", 2)
    assert code == EXIT_FAILED and "error: 3 collection errors, more than --max-errors 2" in lines
    assert any(line.startswith("failing: 1 findings") for line in lines)  # said, though 3 wins
    code, lines = scan_verdict(_doc([ok, failed], findings), "critical", None)
    assert code == EXIT_FAILED and lines[0] == "error: source gcp: collection failed: no creds"


def test_scan_progress_advances_per_unit_and_per_source() -> None:
    console = Console(file=open(os.devnull, "w"), force_terminal=True)  # noqa: SIM115 - closed below
    try:
        with Progress(console=console, auto_refresh=False) as progress:
            sp = ScanProgress(progress, 2)
            first = sp.source("aws")
            first.add_total(3)
            first.advance(1, "123 us-east-1 s3")
            tasks = {t.id: t for t in progress.tasks}
            assert tasks[first._task].completed == 1 and tasks[first._task].total == 3
            assert "aws: 123 us-east-1 s3" in tasks[first._task].description
            first.advance(2)
            assert "evaluating and storing" in progress.tasks[first._task].description
            first.finish("1 accounts, 2 failing")
            assert progress.tasks[sp.overall].completed == 1
            second = sp.source("gcp")  # a collector that reports nothing
            second.finish("failed")
            assert progress.tasks[sp.overall].completed == 2 and progress.tasks[second._task].finished
    finally:
        console.file.close()


# -- the one place errors become exit codes --------------------------------------------------------


def test_an_unexpected_error_is_one_line_exit_3(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(*_: Any, **__: Any) -> None:
        raise RuntimeError("wires crossed\nsecond line")

    monkeypatch.setattr(core, "_tags", boom)
    monkeypatch.setattr("agent.cli.core.open_store", lambda *a, **k: _EmptyStore())
    code, _, err = cli(capsys, "findings")
    assert code == EXIT_FAILED
    assert err.strip() == (
        "error: internal error: RuntimeError: wires crossed (a bug: please report it; POSTURE_DEBUG=1 shows the traceback)"
    )


class _EmptyStore:
    def current_findings(self, **_: Any) -> list[Any]:
        return []

    def close(self) -> None:
        pass

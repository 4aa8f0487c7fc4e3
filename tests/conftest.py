"""Shared fixtures: a real moto server on loopback, and the store on SQLite and PostgreSQL."""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING
from urllib.parse import quote

import httpx
import pytest
import sqlalchemy as sa

PG_URL = os.environ.get("POSTURE_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
if TYPE_CHECKING:
    from posture_demo.run import DemoCloud

IN_CI = os.environ.get("CI", "").lower() == "true"


@pytest.fixture(autouse=True)
def _logging_as_it_was() -> Iterator[None]:
    """A command run in-process (CliRunner) configures logging as its process would, with a handler on
    that run's stderr, which is closed afterwards; later tests must not inherit it."""
    root = logging.getLogger()
    ours = [h for h in root.handlers if not type(h).__module__.startswith("_pytest")]  # pytest's come and go per phase
    level = root.level
    levels = {name: lg.level for name, lg in logging.root.manager.loggerDict.items() if isinstance(lg, logging.Logger)}
    yield
    pytests = [h for h in root.handlers if type(h).__module__.startswith("_pytest")]
    root.handlers[:] = [*pytests, *ours]
    root.setLevel(level)
    for name, lg in logging.root.manager.loggerDict.items():
        if isinstance(lg, logging.Logger) and name in levels:
            lg.setLevel(levels[name])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- AWS: moto in server mode --------------------------------------------------------------------


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    os.environ.setdefault("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def aws(moto_server: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A clean moto account, reached the way a user's boto3 reaches AWS: AWS_ENDPOINT_URL."""
    httpx.post(f"{moto_server}/moto-api/reset", timeout=30).raise_for_status()
    for var in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
    yield moto_server


# -- the store on both databases -----------------------------------------------------------------


def _pg_available() -> str | None:
    try:
        engine = sa.create_engine(PG_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        engine.dispose()
        return None
    except Exception as exc:  # any reason: we report it
        return f"{type(exc).__name__}: {str(exc).splitlines()[0]}"


@pytest.fixture(scope="session")
def pg_base() -> str:
    why = _pg_available()
    if why is not None:
        msg = f"PostgreSQL at {PG_URL} is unreachable ({why})"
        if IN_CI:
            pytest.fail(f"{msg}; CI=true requires it", pytrace=False)
        pytest.skip(f"LOUD SKIP: {msg}; set POSTURE_TEST_DATABASE_URL or start PostgreSQL")
    return PG_URL


@pytest.fixture
def pg_url(pg_base: str) -> Iterator[str]:
    """A fresh schema of its own in the test database, dropped afterwards."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(pg_base)
    with engine.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in pg_base else "?"
    try:
        yield f"{pg_base}{sep}options={quote(f'-csearch_path={schema}')}"
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path) -> str:  # type: ignore[no-untyped-def]
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'posture.db'}"
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def store(db_url: str):  # type: ignore[no-untyped-def]
    from agent.store import Store

    s = Store(db_url)
    s.upgrade()
    yield s
    s.close()


@pytest.fixture(scope="module")
def cloud() -> Iterator[DemoCloud]:
    """The demo cloud (every provider on loopback: moto and the wire fakes), one per test module; the
    process environment it sets (dummy AWS credentials) is restored after."""
    from posture_demo.run import DemoCloud  # only where a module asks for it: it loads the whole daemon

    saved = dict(os.environ)
    demo = DemoCloud()
    demo.start()
    try:
        yield demo
    finally:
        demo.stop()
        os.environ.clear()
        os.environ.update(saved)

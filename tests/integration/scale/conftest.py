"""Fixtures of the scale building blocks: a migrated store schema on the test PostgreSQL (for leader
election) and the Redis on 127.0.0.1:6379 (for the shared rate limits). Each is skipped with a loud
reason when its server is missing, except under CI=true, where the test fails."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
import sqlalchemy as sa

REDIS_URL = os.environ.get("POSTURE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
IN_CI = os.environ.get("CI", "").lower() == "true"


@pytest.fixture(scope="module")
def leases_url(pg_base: str) -> Iterator[str]:
    """A schema of its own in the test database, migrated to head (scale_leases included), dropped after
    the module. Advisory locks are database-wide: each test still uses a lock name of its own."""
    from agent.store import Store

    schema = f"t_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(pg_base)
    with engine.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in pg_base else "?"
    url = f"{pg_base}{sep}options={quote(f'-csearch_path={schema}')}"
    store = Store(url)
    try:
        store.upgrade()
        store.close()
        yield url
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


@pytest.fixture
def lock_name() -> str:
    return f"test/{uuid.uuid4().hex}"


@pytest.fixture(scope="session")
def redis_base() -> str:
    import redis

    client: Any = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3, socket_timeout=3)
    try:
        client.ping()
    except redis.RedisError as exc:
        msg = f"Redis at {REDIS_URL} is unreachable ({type(exc).__name__}: {exc})"
        if IN_CI:
            pytest.fail(f"{msg}; CI=true requires it", pytrace=False)
        pytest.skip(f"LOUD SKIP: {msg}; set POSTURE_TEST_REDIS_URL or start Redis")
    finally:
        client.close()
    return REDIS_URL


@pytest.fixture
def redis_prefix(redis_base: str) -> Iterator[str]:
    """A key prefix of this test's own; its keys are deleted afterwards (SCAN on the prefix, never FLUSH)."""
    import redis

    prefix = f"posture-test:{uuid.uuid4().hex}"
    yield prefix
    client: Any = redis.Redis.from_url(redis_base)
    try:
        keys = list(client.scan_iter(match=f"{prefix}:*", count=500))
        if keys:
            client.delete(*keys)
    finally:
        client.close()

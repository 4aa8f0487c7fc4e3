"""AWS collector tests: the collector talks to moto through the awsproxy (for moto's gaps and for
fault injection); seeding goes straight to moto."""

from __future__ import annotations

import os
from collections.abc import Iterator

import httpx
import pytest
from posture_demo.awsproxy import AwsProxy


@pytest.fixture
def proxy(aws: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[AwsProxy]:
    p = AwsProxy(aws).start()
    monkeypatch.setenv("AWS_ENDPOINT_URL", p.url)
    try:
        yield p
    finally:
        p.stop()


@pytest.fixture(scope="module")
def module_aws(moto_server: str) -> Iterator[str]:
    """Like the `aws` fixture, for one seeded world shared by a module's tests."""
    httpx.post(f"{moto_server}/moto-api/reset", timeout=30).raise_for_status()
    with pytest.MonkeyPatch.context() as mp:
        for var in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
            mp.delenv(var, raising=False)
        mp.setenv("AWS_ENDPOINT_URL", moto_server)
        mp.setenv("AWS_ACCESS_KEY_ID", "testing")
        mp.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        mp.setenv("AWS_DEFAULT_REGION", "us-east-1")
        mp.setenv("MOTO_EC2_LOAD_DEFAULT_AMIS", os.environ.get("MOTO_EC2_LOAD_DEFAULT_AMIS", "false"))
        yield moto_server

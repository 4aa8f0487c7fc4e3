"""A fake Azure tenant (login, Graph, ARM over TLS with a trustme CA) per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from posture_demo.fake_azure import FakeAzure, demo_tenant


@pytest.fixture
def fake() -> Iterator[FakeAzure]:
    server = FakeAzure(demo_tenant(), page_size=2).start()
    try:
        yield server
    finally:
        server.stop()

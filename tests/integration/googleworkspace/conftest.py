"""A fake Google Workspace (token endpoint and Directory API over TLS, trustme CA) per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from posture_demo.fake_googleworkspace import FakeWorkspace, demo_domain


@pytest.fixture
def fake() -> Iterator[FakeWorkspace]:
    server = FakeWorkspace(demo_domain(), page_size=4).start()
    try:
        yield server
    finally:
        server.stop()

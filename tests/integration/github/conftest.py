"""A fake GitHub organisation (REST API v3 on loopback) per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from posture_demo.fake_github import FakeGitHub
from posture_demo.github_data import demo_org


@pytest.fixture
def fake() -> Iterator[FakeGitHub]:
    server = FakeGitHub(demo_org(), page_size=2).start()
    try:
        yield server
    finally:
        server.stop()

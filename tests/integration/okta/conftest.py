"""A fake Okta org (management API over TLS, trustme CA) per test, and helpers to collect from it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from posture_demo.fake_okta import FakeOkta

from agent.models import Snapshot
from collectors import CollectContext
from collectors.okta import collect
from collectors.okta.config import OktaSource


@pytest.fixture
def fake() -> Iterator[FakeOkta]:
    server = FakeOkta(page_size=2).start()
    try:
        yield server
    finally:
        server.stop()


def okta_source(fake: FakeOkta, **extra: Any) -> OktaSource:
    return OktaSource.model_validate(fake.source_config(**extra))


def snapshot_of(fake: FakeOkta, **extra: Any) -> Snapshot:
    [snap] = collect(okta_source(fake, **extra), CollectContext())
    return snap


def short(resource_id: str) -> str:
    """okta:<org>:user:00u1alice -> 00u1alice; okta:<org>:org -> org."""
    return resource_id.rsplit(":", 1)[-1]

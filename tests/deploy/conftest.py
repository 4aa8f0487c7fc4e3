"""Fixtures of the deploy tests (helpers: deploy_kit.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.deploy.deploy_kit import render


@pytest.fixture(scope="session")
def rendered() -> Iterator[Callable[[str], list[dict[str, Any]]]]:
    """Each overlay rendered once per session (callers get the same list: do not change it)."""
    cache: dict[str, list[dict[str, Any]]] = {}

    def get(overlay: str) -> list[dict[str, Any]]:
        if overlay not in cache:
            cache[overlay] = render(overlay)
        return cache[overlay]

    yield get

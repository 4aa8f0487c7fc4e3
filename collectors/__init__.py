"""Collectors: read-only API calls -> Snapshot. One protocol for every provider:

collect(source_config, ctx: CollectContext) -> list[Snapshot]   # one snapshot per account
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

__all__ = ["Cancelled", "CollectContext", "Progress", "NullProgress"]


class Cancelled(Exception):
    """The run was asked to stop (daemon shutdown); nothing of it is stored."""


class Progress(Protocol):
    def add_total(self, n: int) -> None: ...

    def advance(self, n: int = 1, description: str = "") -> None: ...


class NullProgress:
    def add_total(self, n: int) -> None:
        pass

    def advance(self, n: int = 1, description: str = "") -> None:
        pass


def _ignore_call(service: str, operation: str, error_code: str | None) -> None:
    pass


@dataclass
class CollectContext:
    """What a collector gets besides its source: progress, cancellation, an API-call observer."""

    progress: Progress = field(default_factory=NullProgress)
    cancel: threading.Event = field(default_factory=threading.Event)
    on_api_call: Callable[[str, str, str | None], None] = _ignore_call
    store: Any = None  # the agent's Store (set by Pipeline), for sources fed by the agent itself (push)
    # the agent's configured sources (set by Pipeline), for a source that joins what others collected (people)
    sources: tuple[Any, ...] = ()

    def check_cancelled(self) -> None:
        if self.cancel.is_set():
            raise Cancelled("collection cancelled")


def lazy_attributes(package: str, where: dict[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` that imports ``name`` from ``where[name]`` on first use and keeps it,
    so that importing a provider's config (to validate a source) does not import its cloud SDK."""

    def __getattr__(name: str) -> Any:
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        import importlib
        import sys

        value = getattr(importlib.import_module(module), name)
        setattr(sys.modules[package], name, value)
        return value

    return __getattr__

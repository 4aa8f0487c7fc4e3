"""Collect: run the source's collector; a failure becomes the run's error, never an exception."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from agent.errors import AgentError
from agent.models import Snapshot
from collectors import Cancelled, CollectContext

if TYPE_CHECKING:  # a collection child never imports the whole config model
    from agent.config import AnySource

__all__ = ["Collected", "Collector", "collect"]

log = logging.getLogger("agent.cycle")

Collector = Callable[["AnySource", CollectContext], list[Snapshot]]


@dataclass(frozen=True)
class Collected:
    snapshots: list[Snapshot]
    error: str = ""  # why the collection as a whole failed ("" when it ran)

    @property
    def status(self) -> str:
        if self.error:
            return "failed"
        return "partial" if any(not s.complete for s in self.snapshots) else "complete"


def collect(source: AnySource, collector: Collector | None, ctx: CollectContext) -> Collected:
    """Raises Cancelled when asked to stop mid-way; any other failure is returned as the error."""
    try:
        if collector is None:
            raise AgentError(f"no collector for provider {source.provider!r}")
        return Collected(list(collector(source, ctx)))
    except Cancelled:
        raise
    except AgentError as exc:
        return Collected([], str(exc))
    except Exception as exc:  # a collector bug must not kill the daemon
        log.exception("collector crashed", extra={"source": source.name})
        return Collected([], f"collector failed: {type(exc).__name__}: {exc}")

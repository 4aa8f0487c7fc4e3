"""Collections started before the pipeline that evaluates them is built (``scan``).

A scan's own work before and after collecting (importing the store, checks and mappings, opening or
creating the store, building the pipeline) is CPU-bound, and so is most of a collection (building SDK
clients, parsing answers); in one process they take turns on one core. ``EarlyCollections`` starts
each source's collection at once in a child process (agent/stages/collect_child.py), so the child
collects on one core while this process gets ready on another; ``Pipeline.run_cycle(early=...)``
then takes the result as if it had collected it. A source a child cannot collect (one read from the
agent's own store, a collector of ``__main__``) gets None and is collected by run_cycle as before.

API calls counted before the pipeline exists are kept and handed to its metrics when it takes the
collection over (``attach``); the child's progress reaches the source's bar as it happens.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType
from typing import Any

from agent.config import AnySource
from agent.models import utcnow
from agent.stages.collect import Collected
from agent.stages.collect_child import child_target, collect_in_child
from collectors import CollectContext

__all__ = ["EarlyCollection", "EarlyCollections"]

ApiCall = tuple[str, str, "str | None"]


class _CallRelay:
    """``on_api_call`` for a collection whose observer is not known yet: calls are kept until
    ``attach`` gives one, then passed on as they come."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._kept: list[ApiCall] = []
        self._sink: Callable[[str, str, str | None], None] | None = None

    def __call__(self, service: str, operation: str, code: str | None) -> None:
        with self._lock:
            sink = self._sink
            if sink is None:
                self._kept.append((service, operation, code))
                return
        sink(service, operation, code)

    def attach(self, sink: Callable[[str, str, str | None], None]) -> None:
        with self._lock:
            self._sink = sink
            kept, self._kept = self._kept, []
        for call in kept:
            sink(*call)


@dataclass
class EarlyCollection:
    """One source's collection in a child process; ``started_at`` is when the child was started."""

    source: AnySource
    ctx: CollectContext
    calls: _CallRelay = field(repr=False)
    started_at: datetime | None = None
    future: Future[Collected] = field(init=False, repr=False)

    def run(self, target: str, timeout: float | None) -> Collected:
        self.started_at = utcnow()
        return collect_in_child(self.source, target, self.ctx, timeout=timeout)

    def result(self) -> Collected:
        """The collection, once the child is done; raises Cancelled when ``ctx.cancel`` was set."""
        return self.future.result()


class EarlyCollections:
    """Start every source a child can collect, at most ``parallel`` at a time, in the given order,
    each stopped after ``timeout`` seconds (a failed collection).
    Leaving the ``with`` block cancels (kills) the children still running and waits for them, so an
    error while the scan gets ready leaves no process behind."""

    def __init__(
        self,
        sources: Sequence[AnySource],
        contexts: Sequence[CollectContext],
        collectors: Mapping[str, Callable[..., Any]],
        *,
        parallel: int = 2,
        timeout: float | None = None,
    ) -> None:
        self._pool = ThreadPoolExecutor(max_workers=max(1, parallel), thread_name_prefix="early-collect")
        self._started: dict[str, EarlyCollection] = {}
        for source, ctx in zip(sources, contexts, strict=True):
            target = child_target(collectors, source)
            if target is None:
                continue
            relay = _CallRelay()
            ctx.on_api_call = relay
            early = EarlyCollection(source, ctx, relay)
            early.future = self._pool.submit(early.run, target, timeout)
            self._started[source.name] = early

    def get(self, source: AnySource) -> EarlyCollection | None:
        return self._started.get(source.name)

    def cancel(self) -> None:
        for early in self._started.values():
            early.ctx.cancel.set()
            early.future.cancel()  # one not started yet never starts

    def __enter__(self) -> EarlyCollections:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if kind is not None:
            self.cancel()
        self._pool.shutdown(wait=True, cancel_futures=True)

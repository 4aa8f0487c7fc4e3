"""Collect functions for tests of collection in a child process (agent/stages/collect_child.py).

They live in a module of their own so the child, a new interpreter given the test run's sys.path,
imports them by name as it imports a provider's collect function."""

from __future__ import annotations

import logging

from agent.config import AnySource
from agent.models import Snapshot
from collectors import CollectContext

log = logging.getLogger("tests.collect_child")


def crash(source: AnySource, ctx: CollectContext) -> list[Snapshot]:
    """A collector with a bug: it logs, reports one API call, then raises."""
    log.warning("about to fail", extra={"source": source.name, "detail": {"step": 1}})
    ctx.on_api_call("sts", "GetCallerIdentity", None)
    raise RuntimeError("collector bug")

"""Daemon housekeeping of the evidence store: an hourly (signed) checkpoint and daily retention."""

from __future__ import annotations

import logging
from typing import Any

from agent.evidence.checkpoints import Signer, checkpoint_now
from agent.evidence.retention import prune
from agent.models import utcnow
from agent.store import Store

__all__ = ["CHECKPOINT_EVERY_SECONDS", "RETENTION_EVERY_SECONDS", "schedule"]

log = logging.getLogger("agent.evidence")

CHECKPOINT_EVERY_SECONDS = 3600
RETENTION_EVERY_SECONDS = 86400


def checkpoint_job(store: Store, signer: Signer | None) -> None:
    try:
        row = checkpoint_now(store, utcnow(), signer)
    except Exception:
        log.exception("evidence checkpoint failed")
        return
    if row is not None:
        log.info("evidence checkpoint", extra={"seq": row["seq"], "head_seq": row["head_seq"],
                                               "signed": bool(row["signature"])})


def retention_job(store: Store, retention_days: int, signer: Signer | None) -> None:
    try:
        res = prune(store, utcnow(), retention_days, signer=signer)
    except Exception:
        log.exception("evidence retention failed")
        return
    if res.pruned_through:
        log.info("evidence pruned", extra=res.to_dict())


def schedule(scheduler: Any, store: Store | None, evidence_config: Any, *,
             checkpoint_seconds: int = CHECKPOINT_EVERY_SECONDS,
             retention_seconds: int = RETENTION_EVERY_SECONDS) -> list[str]:
    """Add the two jobs to an APScheduler scheduler; returns their ids (none without a store)."""
    if store is None:
        return []
    from apscheduler.triggers.interval import IntervalTrigger

    signer = Signer.from_config(evidence_config)  # the key stays in memory, never logged
    scheduler.add_job(checkpoint_job, IntervalTrigger(seconds=checkpoint_seconds, timezone="UTC"),
                      args=[store, signer], id="evidence-checkpoint", name="evidence-checkpoint")
    scheduler.add_job(retention_job, IntervalTrigger(seconds=retention_seconds, timezone="UTC"),
                      args=[store, int(evidence_config.retention_days), signer], id="evidence-retention",
                      name="evidence-retention")
    return ["evidence-checkpoint", "evidence-retention"]

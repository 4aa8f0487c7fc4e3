"""Daemon housekeeping of the evidence store: a (signed) checkpoint every ``evidence.checkpoint_every``,
one at start too, whether or not anything was appended, and daily retention."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from agent.evidence.checkpoints import Signer, checkpoint_now
from agent.evidence.retention import prune
from agent.models import utcnow
from agent.store import Store

__all__ = ["CHECKPOINT_EVERY_SECONDS", "RETENTION_EVERY_SECONDS", "schedule"]

log = logging.getLogger("agent.evidence")

CHECKPOINT_EVERY_SECONDS = 3600
RETENTION_EVERY_SECONDS = 86400


def checkpoint_job(store: Store, signer: Signer | None, cadence_s: int = CHECKPOINT_EVERY_SECONDS) -> None:
    try:
        row = checkpoint_now(store, utcnow(), signer, cadence_s=cadence_s)
    except Exception:
        log.exception("evidence checkpoint failed")
        return
    log.info(
        "evidence checkpoint",
        extra={
            "seq": row["seq"],
            "head_seq": row["head_seq"],
            "signed": bool(row["signature"]),
            "cadence_s": row["cadence_s"],
        },
    )


def retention_job(store: Store, retention_days: int, signer: Signer | None) -> None:
    try:
        res = prune(store, utcnow(), retention_days, signer=signer)
    except Exception:
        log.exception("evidence retention failed")
        return
    if res.pruned_through:
        log.info("evidence pruned", extra=res.to_dict())


def schedule(
    scheduler: Any,
    store: Store | None,
    evidence_config: Any,
    *,
    checkpoint_seconds: int | None = None,
    retention_seconds: int = RETENTION_EVERY_SECONDS,
) -> list[str]:
    """Add the two jobs to an APScheduler scheduler; returns their ids (none without a store). The
    checkpoint job runs at start, then every ``checkpoint_seconds`` (default: evidence.checkpoint_every),
    the cadence each checkpoint signs: a restart does not leave a gap longer than the downtime."""
    if store is None:
        return []
    from apscheduler.executors.pool import ThreadPoolExecutor
    from apscheduler.triggers.interval import IntervalTrigger

    # a thread of their own, never skipped: with every collection worker busy, the default pool and a
    # one-second misfire grace would drop checkpoints, and a missing checkpoint is a gap in the evidence
    scheduler.add_executor(ThreadPoolExecutor(1), alias="evidence")
    quiet = {"executor": "evidence", "coalesce": True, "misfire_grace_time": None, "max_instances": 1}
    every = checkpoint_seconds or int(
        getattr(evidence_config, "checkpoint_every", timedelta(seconds=CHECKPOINT_EVERY_SECONDS)).total_seconds()
    )
    signer = Signer.from_config(evidence_config)  # the key stays in memory, never logged
    scheduler.add_job(
        checkpoint_job,
        IntervalTrigger(seconds=every, timezone="UTC"),
        args=[store, signer, every],
        id="evidence-checkpoint",
        name="evidence-checkpoint",
        next_run_time=utcnow(),
        **quiet,
    )
    scheduler.add_job(
        retention_job,
        IntervalTrigger(seconds=retention_seconds, timezone="UTC"),
        args=[store, int(evidence_config.retention_days), signer],
        id="evidence-retention",
        name="evidence-retention",
        **quiet,
    )
    return ["evidence-checkpoint", "evidence-retention"]

"""The scheduler role (``run --role scheduler``): the daemon's schedule, alerts and evidence jobs,
but each source's turn is a sweep published to the workers instead of a collection here.

Only the leader acts (agent/store/leader.py): a standby keeps its HTTP port and its schedule, and
each job finds it is not the leader and does nothing, until the leader's lock is gone. A sweep is
opened in the store (fenced by the leader's epoch) before any task is published, so a task lost on
the way, or a worker that dies, ends as a gap at the deadline, never as silence.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

from agent.config import AnySource, Config
from agent.cycle import Pipeline
from agent.daemon import SHUTDOWN_GRACE_SECONDS, Daemon
from agent.models import utcnow
from agent.scale.broker import TASK, make_app, queue_of
from agent.scale.sweeps import Task, gap_snapshot
from agent.stages.collect import Collected
from agent.store.leader import Leadership
from agent.store.records import AlreadyRecorded, SweepSlot
from agent.store.sweep_rows import OpenSweep, close, open_sweep, overdue_sweeps

__all__ = ["SweepScheduler", "expand"]

log = logging.getLogger("agent.scheduler")

CLOSE_EVERY_SECONDS = 30
POSTURE_EVERY_SECONDS = 60


def expand(source: AnySource, pipeline: Pipeline) -> tuple[list[Task], dict[str, Any]]:
    """The accounts of one sweep of ``source`` (its tasks, without sweep id yet) and how they were
    found. AWS: the organisation's active accounts and the listed ones, read-only; Azure and GCP:
    the collector's ``parts``; any other provider, or a source whose accounts could not be listed:
    one task for the whole source."""
    whole = [Task("", source.name, source.provider, "")]
    if source.provider == "azure":
        return _expand_azure(source, pipeline, whole)
    if source.provider == "gcp":
        return _expand_gcp(source, pipeline, whole)
    if source.provider != "aws":
        return whole, {"expanded": False}
    from agent.errors import AgentError
    from collectors.aws.accounts import base_account, targets
    from collectors.aws.session import ClientFactory

    on_call = pipeline.metrics.on_api_call("aws")
    try:
        base = base_account(source, ClientFactory(source, on_call))  # type: ignore[arg-type]
        wanted, errors = targets(source, base)  # type: ignore[arg-type]
    except AgentError as exc:
        return whole, {"expanded": False, "error": str(exc)}
    except Exception as exc:  # the listing failed: the whole source goes to one worker, which records why
        return whole, {"expanded": False, "error": f"{type(exc).__name__}: {exc}"}
    tasks = [Task("", source.name, "aws", t.account_id, t.role_arn) for t in wanted]
    return tasks, {"expanded": True, "errors": [e.to_dict() for e in errors]}


def _expand_azure(source: AnySource, pipeline: Pipeline, whole: list[Task]) -> tuple[list[Task], dict[str, Any]]:
    """The tenant's directory (Entra) and each subscription: one task each."""
    from collectors.azure.collection import parts

    return _from_parts(source, pipeline, whole, parts)


def _expand_gcp(source: AnySource, pipeline: Pipeline, whole: list[Task]) -> tuple[list[Task], dict[str, Any]]:
    """An organization or folder scope: what is set above its projects, and each project; one task each."""
    from collectors.gcp.collection import parts

    return _from_parts(source, pipeline, whole, parts)


def _from_parts(
    source: AnySource, pipeline: Pipeline, whole: list[Task], parts: Callable[..., list[str]]
) -> tuple[list[Task], dict[str, Any]]:
    from collectors import CollectContext

    try:
        found = parts(source, CollectContext(on_api_call=pipeline.metrics.on_api_call(source.provider)))
    except Exception as exc:  # the listing failed: the whole source goes to one worker, which records why
        return whole, {"expanded": False, "error": f"{type(exc).__name__}: {exc}"}
    return [Task("", source.name, source.provider, p) for p in found] or whole, {"expanded": True}


class SweepScheduler(Daemon):
    def __init__(
        self,
        config: Config,
        pipeline: Pipeline,
        broker_url: str,
        *,
        listen: tuple[str, int] | None = None,
        leadership: Leadership | None = None,
    ) -> None:
        super().__init__(config, pipeline, listen=listen)
        assert pipeline.store is not None
        self.app = make_app(broker_url, {s.provider for s in config.sources}, config.scale.queue_prefix)
        self.leadership = leadership or Leadership(
            pipeline.store.url, holder=f"{socket.gethostname()}:{os.getpid()}", retry_every=5.0
        )
        self._lead_lock = threading.Lock()
        from prometheus_client import Gauge

        self.leader_gauge = Gauge(  # in a scheduler's registry only: `run` has no leader to report
            "posture_scheduler_leader",
            "1 while this scheduler leads (publishes sweeps, closes them, runs the evidence jobs), 0 on standby.",
            registry=pipeline.metrics.registry,
        )
        if self.dispatcher is not None:  # one scheduler delivers alerts: the leader
            self.dispatcher.active = self.leading

    # -- leadership ----------------------------------------------------------------------------

    def leading(self) -> bool:
        """Whether this process leads now (acquiring the lock if it is free)."""
        with self._lead_lock:
            leads = self.leadership.is_leader() or self.leadership.try_acquire()
        self.leader_gauge.set(1 if leads else 0)
        return leads

    # -- jobs ----------------------------------------------------------------------------------

    def _job(self, source: AnySource) -> None:
        try:
            if self.leading():
                self.sweep(source)
            else:
                log.info("standby: not sweeping", extra={"source": source.name})
        except Exception:
            log.exception("sweep failed", extra={"source": source.name})
        finally:
            self._first_run_done(source.name)

    def sweep(self, source: AnySource, now: datetime | None = None) -> str:
        """Open one sweep of ``source`` and publish its tasks; returns the sweep id."""
        store = self.pipeline.store
        assert store is not None
        tasks, detail = expand(source, self.pipeline)
        with store.transaction() as conn:
            self.leadership.fence(conn)
            sweep_id = open_sweep(
                conn,
                source=source.name,
                provider=source.provider,
                accounts=[t.account for t in tasks],
                deadline=self.config.scale.sweep_deadline,
                epoch=self.leadership.epoch or 0,
                detail=detail,
                now=now,
            )
        published = 0
        with self.app.connection_for_write() as conn:
            for t in tasks:
                task = Task(sweep_id, t.source, t.provider, t.account, t.role_arn)
                try:
                    self.app.send_task(
                        TASK,
                        kwargs={"task": task.to_message()},
                        queue=queue_of(source.provider, self.config.scale.queue_prefix),
                        connection=conn,
                    )
                    published += 1
                except Exception as exc:  # the rest become gaps at the deadline
                    log.error(
                        "could not publish a task",
                        extra={"sweep": sweep_id, "account": t.account, "error": type(exc).__name__},
                    )
                    break
        self.pipeline.metrics.sweep_tasks.labels(source.name).inc(published)
        log.info(
            "sweep published",
            extra={"source": source.name, "sweep": sweep_id, "tasks": published, "accounts": len(tasks)},
        )
        return sweep_id

    def close_overdue(self, now: datetime | None = None) -> int:
        """Close every sweep past its deadline: a gap run for each account not recorded. Returns the
        number of gaps recorded."""
        if not self.leading():
            return 0
        store = self.pipeline.store
        assert store is not None
        gaps = 0
        sources = {s.name: s for s in self.config.sources}
        for sweep in overdue_sweeps(store, now):
            source = sources.get(sweep.source)
            for account in sweep.unclaimed:
                if source is not None and self._record_gap(source, sweep, account):
                    gaps += 1
            with store.transaction() as conn:
                self.leadership.fence(conn)
                close(conn, sweep.id, now or utcnow())
        return gaps

    def _record_gap(self, source: AnySource, sweep: OpenSweep, account: str) -> bool:
        snap = gap_snapshot(
            source=source.name,
            provider=source.provider,
            account=account or source.name,
            started=sweep.deadline,
            deadline=sweep.deadline,
            checks=self.pipeline.checks.values(),
        )
        given = Collected([snap], f"not collected by the sweep's deadline ({sweep.deadline.isoformat()})")
        try:
            self.pipeline.run_cycle(source, given=given, sweep=SweepSlot(sweep.id, account, "gap"))
        except AlreadyRecorded:
            return False  # a worker's run made it just in time
        self.pipeline.metrics.sweep_gaps.labels(source.name).inc()
        log.warning("account not collected by the deadline", extra={"sweep": sweep.id, "account": account})
        return True

    def refresh(self) -> None:
        """The posture gauges from the store: the workers' runs change it, not this process's."""
        self.pipeline.refresh_posture()

    def _tracked(self, func: Callable[..., Any]) -> Callable[..., Any]:
        """Every job runs on the leader only: the evidence jobs (checkpoints, pruning, anchoring) too."""
        inner = super()._tracked(func)
        if func in (self._job, self.close_overdue, self.refresh):  # these ask themselves, or are read-only
            return inner

        def leader_only(*args: Any, **kwargs: Any) -> Any:
            return inner(*args, **kwargs) if self.leading() else None

        return leader_only

    def start(self) -> None:
        self.scheduler.add_job(
            self.close_overdue, "interval", seconds=CLOSE_EVERY_SECONDS, id="sweeps:close", name="sweeps:close"
        )
        self.scheduler.add_job(
            self.refresh, "interval", seconds=POSTURE_EVERY_SECONDS, id="posture:refresh", name="posture:refresh"
        )
        super().start()

    def stop(self, grace: float = SHUTDOWN_GRACE_SECONDS) -> bool:
        clean = super().stop(grace)
        self.leadership.close()
        return clean

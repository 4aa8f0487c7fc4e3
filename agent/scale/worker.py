"""The worker role (``run --role worker``): takes one (source, account) task at a time from the
provider queues and runs the ordinary pipeline for that one account (collect, in a child process
by default; evaluate; one store transaction that also claims the task's (sweep, account)).

A task is acknowledged once its run is recorded, or found already recorded; a worker killed
mid-task leaves it unacknowledged, and RabbitMQ gives it to another worker.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from agent.config import AnySource, Config
from agent.cycle import Pipeline
from agent.scale.broker import TASK, make_app, queue_of
from agent.scale.sweeps import Task
from agent.store.records import AlreadyRecorded, SweepSlot
from agent.store.sweep_rows import pending
from collectors import Cancelled, CollectContext

__all__ = ["WorkerRuntime", "for_account"]

log = logging.getLogger("agent.worker")


def for_account(source: AnySource, task: Task) -> AnySource:
    """``source`` narrowed to the task's one account (AWS: that account's role, or the worker's own
    credentials; Azure: its directory or one subscription; GCP: what is set above the projects, or
    one project); a whole-source task (account "") is the source itself."""
    if not task.account or source.provider not in ("aws", "azure", "gcp"):
        return source
    if source.provider == "azure":
        from collectors.azure.collection import part_of

        return part_of(source, task.account)  # type: ignore[arg-type]
    if source.provider == "gcp":
        from collectors.gcp.collection import part_of as gcp_part_of

        return gcp_part_of(source, task.account)  # type: ignore[arg-type]
    from collectors.aws.config import AwsAccount

    accounts = [AwsAccount(role_arn=task.role_arn)] if task.role_arn else []
    return source.model_copy(update={"organization": False, "accounts": accounts})


class WorkerRuntime:
    """What one worker process holds: its config, its pipeline (and store), its Celery app."""

    def __init__(self, config: Config, pipeline: Pipeline, broker_url: str, queues: list[str]) -> None:
        self.config = config
        self.pipeline = pipeline
        self.sources = {s.name: s for s in config.sources if s.enabled}
        self.queues = queues
        self.cancel = threading.Event()
        self.app = make_app(broker_url, {s.provider for s in config.sources}, config.scale.queue_prefix)
        self.tasks = pipeline.metrics.worker_tasks
        runtime = self

        @self.app.task(name=TASK, acks_late=True)  # type: ignore[untyped-decorator]
        def collect_account(task: dict[str, Any]) -> str:
            return runtime.handle(task)

    def handle(self, body: Any) -> str:
        """Run one task; returns its outcome (also counted in posture_worker_tasks_total)."""
        outcome = self._handle(body)
        self.tasks.labels(outcome).inc()
        return outcome

    def _handle(self, body: Any) -> str:
        try:
            task = Task.from_message(body if isinstance(body, dict) else {})
        except ValueError as exc:
            log.error("malformed task dropped", extra={"reason": str(exc)})
            return "malformed"
        source = self.sources.get(task.source)
        if source is None or source.provider != task.provider:
            log.error("task for a source this worker does not have", extra={"source": task.source})
            return "unknown_source"
        try:
            narrowed = for_account(source, task)
        except ValueError as exc:  # a part this worker's source does not hold: configs that disagree
            log.error("task for a part of the source this worker does not have", extra={"reason": str(exc)})
            return "unknown_source"  # the account stays pending: a gap at the sweep's deadline
        store = self.pipeline.store
        assert store is not None
        if not pending(store, task.sweep_id, task.account):
            log.info("task already recorded", extra={"sweep": task.sweep_id, "account": task.account})
            return "duplicate"
        slot = SweepSlot(task.sweep_id, task.account)
        try:
            result = self.pipeline.run_cycle(
                narrowed,
                CollectContext(cancel=self.cancel),
                in_child=self.config.isolate_collections,
                sweep=slot,
            )
        except AlreadyRecorded:
            log.info("task recorded meanwhile", extra={"sweep": task.sweep_id, "account": task.account})
            return "duplicate"
        except Cancelled:
            from celery.exceptions import Reject

            raise Reject("worker stopping", requeue=True) from None  # another worker takes it
        return "recorded" if result.run.status != "failed" else "failed"

    def run(self, *, hostname: str | None = None) -> None:
        """Consume until stopped (SIGTERM: Celery's warm shutdown finishes the task in hand)."""
        worker = self.app.Worker(
            queues=self.queues,
            # one task at a time, in a thread: the solo pool's event loop missed a message already read
            # from the socket and took up to 10 s to see it (measured: 30 queued tasks, a 10 s gap)
            pool="threads",
            concurrency=1,
            prefetch_multiplier=1,
            hostname=hostname,
            loglevel=logging.getLevelName(logging.getLogger().level),
            without_heartbeat=True,
            without_mingle=True,
            without_gossip=True,
        )
        worker.start()


def queues_for(config: Config, providers: list[str] | None) -> list[str]:
    """The queues a worker consumes: the given providers', else every configured provider's."""
    wanted = providers or sorted({s.provider for s in config.sources if s.enabled})
    return [queue_of(p, config.scale.queue_prefix) for p in wanted]

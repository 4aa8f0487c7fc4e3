"""The long-running agent: one APScheduler job per source, the HTTP port, clean shutdown."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from typing import Any

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from agent.alerts.dispatcher import Dispatcher
from agent.config import AnySource, Config
from agent.cycle import Pipeline
from agent.http import AgentHTTPServer, limits_from
from agent.models import utcnow
from agent.push import register_push
from collectors import Cancelled, CollectContext

__all__ = ["Daemon"]

log = logging.getLogger("agent.daemon")

SHUTDOWN_GRACE_SECONDS = 8.0


class Daemon:
    """Schedules every enabled source, serves HTTP, and stops cleanly on request."""

    def __init__(self, config: Config, pipeline: Pipeline, *, listen: tuple[str, int] | None = None) -> None:
        self.config = config
        self.pipeline = pipeline
        self.started_at = utcnow()
        self._stop = threading.Event()
        self._cancel = threading.Event()
        self._running: set[threading.Thread] = set()  # every job's thread: cycles and evidence jobs
        self._lock = threading.Lock()
        self._ran: set[str] = set()  # sources whose first run has ended
        self._waiting: dict[str, set[str]] = {}  # source -> the sources whose first runs it waits for
        self.scheduler = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(config.workers)},
            job_defaults={"coalesce": True, "max_instances": 1},
            timezone="UTC",
        )
        self.scheduler.add_listener(self._on_job_event, EVENT_JOB_ERROR | EVENT_JOB_MISSED)
        host, port = listen or config.listen_host_port
        self.http = AgentHTTPServer(
            host, port, pipeline.metrics.registry, self.readiness, limits=limits_from(config.http)
        )
        self.push = register_push(self.http, config, pipeline.store)  # POST /v1/devices if configured
        self.console = None
        if config.console.enabled:  # the web console at console.path; its stack loads only when enabled
            from agent.console.register import register_console

            self.console = register_console(self.http, config, pipeline.store)
        self.dispatcher = Dispatcher.for_pipeline(pipeline)  # None without a store or alert channels

    # -- scheduling --------------------------------------------------------------------------

    def _trigger(self, source: AnySource) -> Any:
        sched = source.schedule
        jitter = int(sched.jitter.total_seconds()) or None
        if sched.interval is not None:
            return IntervalTrigger(seconds=int(sched.interval.total_seconds()), jitter=jitter, timezone="UTC")
        return CronTrigger.from_crontab(sched.cron or "", timezone="UTC", jitter=jitter)

    def _job(self, source: AnySource) -> None:
        try:
            self.pipeline.run_cycle(
                source, CollectContext(cancel=self._cancel), in_child=self.config.isolate_collections
            )
        except Cancelled:
            pass
        except Exception:
            log.exception("cycle failed", extra={"source": source.name})
        finally:
            self._first_run_done(source.name)

    def _first_run_done(self, name: str) -> None:
        """Start the first run of each source that was waiting for the first runs of the sources it
        reads (the people ledger waits for the identity sources), once they have all ended."""
        with self._lock:
            self._ran.add(name)
            ready = [s for s, deps in self._waiting.items() if deps <= self._ran]
            for s in ready:
                del self._waiting[s]
        for s in ready:
            with contextlib.suppress(Exception):  # the scheduler is shutting down: nothing to start
                self.scheduler.modify_job(s, next_run_time=utcnow())

    def _tracked(self, func: Callable[..., Any]) -> Callable[..., Any]:
        """``func`` run only before stop() and seen by it: stop() waits for every job that started,
        the evidence jobs included, and none starts after it."""

        def run(*args: Any, **kwargs: Any) -> Any:
            me = threading.current_thread()
            with self._lock:  # the same lock as stop()'s snapshot: a job is in it, or never runs
                if self._stop.is_set():
                    return None
                self._running.add(me)
            try:
                return func(*args, **kwargs)
            finally:
                with self._lock:
                    self._running.discard(me)

        return run

    def _on_job_event(self, event: JobExecutionEvent) -> None:
        if event.code == EVENT_JOB_MISSED:
            log.warning("run missed its slot", extra={"job": event.job_id})

    def start(self) -> None:
        enabled = [s for s in self.config.sources if s.enabled]
        names = {s.name for s in enabled}
        for source in enabled:
            # a source that reads others' snapshots starts once their first runs ended (then on schedule)
            deps = set(source.reads_sources(enabled)) & names - {source.name}
            if deps:
                self._waiting[source.name] = deps
            self.scheduler.add_job(
                self._job,
                self._trigger(source),
                args=[source],
                id=source.name,
                name=source.name,
                next_run_time=None if deps else utcnow(),  # collect at start (None: paused), then on schedule
                misfire_grace_time=int(source.schedule.misfire_grace.total_seconds()),
            )
        from agent.evidence.housekeeping import schedule as schedule_evidence

        schedule_evidence(self.scheduler, self.pipeline.store, self.config.evidence)  # hourly checkpoint, daily prune
        from agent.evidence.anchoring import schedule as schedule_anchoring

        schedule_anchoring(self.scheduler, self.pipeline.store, self.config.evidence)  # witnesses of new checkpoints
        for job in self.scheduler.get_jobs():
            job.modify(func=self._tracked(job.func))
        self.http.start()
        if self.dispatcher is not None:
            self.dispatcher.start()
        self.scheduler.start()
        host, port = self.http.address
        log.info(
            "agent started",
            extra={"listen": f"{host}:{port}", "sources": [s.name for s in self.config.sources if s.enabled]},
        )

    # -- health ------------------------------------------------------------------------------

    def readiness(self) -> tuple[bool, dict[str, Any]]:
        store = self.pipeline.store
        last: dict[str, Any] = {}
        store_ok = True
        if store is not None:
            try:
                last = store.last_runs()
            except Exception:  # unreachable, or schema gone: not ready, with the reason
                store_ok = False
        now = utcnow()
        sources: dict[str, Any] = {}
        ready = store_ok
        for src in self.config.sources:
            if not src.enabled:
                continue
            limit = 2 * src.schedule.nominal_interval()
            success = (last.get(src.name) or {}).get("last_success")
            reference = max(success, self.started_at) if success else self.started_at
            overdue = now - reference > limit
            sources[src.name] = {
                "last_success": success.isoformat() if success else None,
                "overdue": overdue,
                "limit_seconds": int(limit.total_seconds()),
            }
            ready = ready and not overdue
        return ready, {"store": "ok" if store_ok else "unreachable", "sources": sources}

    # -- shutdown ----------------------------------------------------------------------------

    def stop(self, grace: float = SHUTDOWN_GRACE_SECONDS) -> bool:
        """Stop taking jobs, ask running cycles to abandon, wait up to ``grace`` seconds.

        Returns True when every running cycle ended in time. A cycle that is storing its results
        finishes its transaction; one still collecting is abandoned and stores nothing."""
        with self._lock:
            self._stop.set()
            threads = list(self._running)
        self._cancel.set()
        with contextlib.suppress(Exception):  # already stopped
            self.scheduler.shutdown(wait=False)
        deadline = time.monotonic() + grace
        for t in threads:
            t.join(max(0.0, deadline - time.monotonic()))
        clean = not any(t.is_alive() for t in threads)
        if self.dispatcher is not None:
            self.dispatcher.stop()
        self.http.stop()
        log.info("agent stopped", extra={"clean": clean})
        return clean

    def run_forever(self) -> int:
        """Start, wait for SIGTERM/SIGINT, stop. Returns the process exit code."""
        stop = threading.Event()

        def on_signal(signum: int, _frame: Any) -> None:
            log.info("signal received, stopping", extra={"signal": signal.Signals(signum).name})
            stop.set()

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        self.start()
        while not stop.wait(timeout=1.0):
            pass
        if not self.stop():
            # A cycle is stuck in a slow API call. Its collection is uncommitted, so leaving now
            # loses nothing: the database rolls back whatever transaction was open.
            log.warning("abandoning a running cycle to exit in time")
            logging.shutdown()
            os._exit(0)
        return 0

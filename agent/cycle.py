"""One cycle of one source: collect -> evaluate -> store -> metrics -> after-cycle hooks.

The daemon, `scan` and `demo` all call Pipeline.run_cycle; nothing else runs the pipeline.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from agent.config import AnySource, Config
from agent.errors import AgentError
from agent.evaluate import evaluate
from agent.mappings import Mappings, load_mappings
from agent.metrics import AgentMetrics
from agent.models import Finding, Snapshot, new_run_id, utcnow
from agent.registry import load_checks, load_collectors
from agent.store import RunRecord, SnapshotWrite, Store
from agent.store.db import InTransaction
from checks.base import Check
from collectors import Cancelled, CollectContext

__all__ = ["CycleResult", "Pipeline"]

log = logging.getLogger("agent.cycle")


@dataclass
class CycleResult:
    run: RunRecord
    snapshots: list[Snapshot]
    findings: list[Finding]
    writes: list[SnapshotWrite] = field(default_factory=list)
    error: str = ""
    timings: dict[str, float] = field(default_factory=dict)  # seconds per phase

    @property
    def ok(self) -> bool:
        return self.run.status != "failed"


AfterCycle = Callable[[CycleResult], None]


class Pipeline:
    """Everything a cycle needs, built once and shared by all sources."""

    def __init__(
        self,
        config: Config,
        store: Store | None,
        *,
        metrics: AgentMetrics | None = None,
        checks: Mapping[str, Check] | None = None,
        mappings: Mappings | None = None,
        collectors: Mapping[str, Callable[..., list[Snapshot]]] | None = None,
    ) -> None:
        self.config = config
        self.store = store
        self.metrics = metrics or AgentMetrics()
        self.checks = dict(checks) if checks is not None else load_checks()
        self.mappings = mappings or load_mappings()
        self.collectors = dict(collectors) if collectors is not None else load_collectors()
        self._posture_at = float("-inf")
        self.after_cycle: list[AfterCycle] = []  # after commit: notify, dispatch
        self.in_transaction: list[InTransaction] = []  # inside the cycle's transaction: drift, outbox
        self.finding_filters: list[Callable[[Snapshot, list[Finding]], list[Finding]]] = []  # exceptions
        self.watch: Any = None  # agent.watch.Watch when there is a store
        scope = config.scope
        self._frameworks = tuple(scope.frameworks)
        self._categories = tuple(scope.soc2_categories)
        self.controls = {cid: self.mappings.tags_for(cid, self._frameworks, self._categories) for cid in self.checks}
        for src in config.sources:
            self.metrics.interval.labels(src.name).set(src.schedule.nominal_interval().total_seconds())
        if store is not None:
            self.refresh_posture()
            from agent.watch import attach  # drift events, exceptions, alert outbox

            attach(self)

    def evaluate(self, snapshot: Snapshot) -> list[Finding]:
        findings = evaluate(snapshot, self.checks.values(), controls=self.controls, params=self.config.checks)
        for fn in self.finding_filters:
            findings = fn(snapshot, findings)
        return findings

    def run_cycle(self, source: AnySource, ctx: CollectContext | None = None) -> CycleResult:
        """Collect, evaluate and store one source. Raises Cancelled if asked to stop mid-way
        (nothing stored); any other failure is recorded as a failed run."""
        ctx = ctx or CollectContext()
        ctx.on_api_call = _chain(ctx.on_api_call, self.metrics.on_api_call(source.provider))
        if ctx.store is None:
            ctx.store = self.store  # read-only use by collectors of agent-fed sources (device push)
        run_id = new_run_id()
        started = utcnow()
        t0 = time.monotonic()
        log.info("collection started", extra={"source": source.name, "run": run_id})
        collector = self.collectors.get(source.provider)
        snapshots: list[Snapshot] = []
        error = ""
        try:
            if collector is None:
                raise AgentError(f"no collector for provider {source.provider!r}")
            snapshots = list(collector(source, ctx))
        except Cancelled:
            log.warning("collection cancelled", extra={"source": source.name, "run": run_id})
            raise
        except AgentError as exc:
            error = str(exc)
        except Exception as exc:  # a collector bug must not kill the daemon
            log.exception("collector crashed", extra={"source": source.name})
            error = f"collector failed: {type(exc).__name__}: {exc}"
        ctx.check_cancelled()
        t_collected = time.monotonic()
        findings_by_snap = [(s, self.evaluate(s)) for s in snapshots]
        t_evaluated = time.monotonic()
        findings = [f for _, fs in findings_by_snap for f in fs]
        if error:
            status = "failed"
        elif any(not s.complete for s in snapshots):
            status = "partial"
        else:
            status = "complete"
        run = RunRecord(
            id=run_id,
            source=source.name,
            provider=source.provider,
            started_at=started,
            finished_at=utcnow(),
            status=status,
            detail={"error": error, "accounts": [s.account for s in snapshots]},
        )
        result = CycleResult(run=run, snapshots=snapshots, findings=findings, error=error)
        if self.store is not None:
            result.writes = self.store.record_cycle(run, findings_by_snap, within=self.in_transaction)
            self._refresh_posture_if_needed(result)
        t_stored = time.monotonic()
        result.timings = {
            "collect": t_collected - t0,
            "evaluate": t_evaluated - t_collected,
            "store": t_stored - t_evaluated,
        }
        self._observe(source, result, time.monotonic() - t0)
        for hook in self.after_cycle:
            try:
                hook(result)
            except Exception:
                log.exception("after-cycle hook failed", extra={"source": source.name})
        result.timings["total"] = time.monotonic() - t0
        return result

    POSTURE_REFRESH_SECONDS = 300.0

    def _refresh_posture_if_needed(self, result: CycleResult) -> None:
        """After a change, or every few minutes for time-driven states (evidence due for review):
        an unchanged cycle then costs no posture recomputation."""
        changed = any(w.changes for w in result.writes)
        if changed or time.monotonic() - self._posture_at >= self.POSTURE_REFRESH_SECONDS:
            self.refresh_posture()

    def refresh_posture(self) -> None:
        """Recompute the exported posture (check counts, requirement states) from the store."""
        if self.store is None:
            return
        from agent.posture import evaluate_posture
        from agent.store import manual

        self._posture_at = time.monotonic()
        self.metrics.set_posture(self.store.finding_counts())
        posture = evaluate_posture(
            self.mappings,
            self.store.current_findings(),
            manual.list_evidence(self.store),
            frameworks=self._frameworks,
            categories=self._categories,
            now=utcnow(),
        )
        self.metrics.set_requirements(
            (fid, rs.requirement.id, rs.status) for fid, states in posture.requirements.items() for rs in states
        )

    def _observe(self, source: AnySource, result: CycleResult, seconds: float) -> None:
        m = self.metrics
        run = result.run
        m.collections.labels(source.name, run.status).inc()
        m.collection_duration.labels(source.name).observe(seconds)
        m.collection_errors.labels(source.name).set(sum(len(s.errors) for s in result.snapshots))
        if result.ok:
            m.last_success.labels(source.name).set(run.finished_at.timestamp())
            m.resources.labels(source.name, source.provider).set(sum(len(s.resources) for s in result.snapshots))
        m.evidence_bytes.labels(source.name).inc(sum(w.bytes_added for w in result.writes))
        for w in result.writes:
            for change in w.changes:
                m.finding_changes.labels(change.check_id, change.status).inc()
        level = logging.WARNING if run.status != "complete" else logging.INFO
        log.log(
            level,
            "collection finished",
            extra={
                "source": source.name,
                "run": run.id,
                "status": run.status,
                "seconds": round(seconds, 3),
                "accounts": len(result.snapshots),
                "resources": sum(len(s.resources) for s in result.snapshots),
                "collection_errors": sum(len(s.errors) for s in result.snapshots),
                "failing": sum(1 for f in result.findings if f.status.value == "fail"),
                "timings": {k: round(v, 4) for k, v in result.timings.items()},
                "error": result.error or None,
            },
        )


def _chain(*fns: Callable[[str, str, str | None], None]) -> Callable[[str, str, str | None], None]:
    def call(service: str, operation: str, code: str | None) -> None:
        for fn in fns:
            fn(service, operation, code)

    return call

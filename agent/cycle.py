"""One cycle of one source, stage by stage (agent/stages/):

collect -> evaluate -> apply exceptions -> [one store transaction: snapshots -> drift ->
compose alerts -> drift events and outbox rows] -> publish metrics, wake the dispatcher.

The daemon, `scan` and `demo` all call Pipeline.run_cycle; nothing else runs the pipeline.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

from agent.alerts.model import Alert
from agent.config import AnySource, Config
from agent.drift import DriftEvent
from agent.evaluate import evaluate
from agent.mappings import Mappings, load_mappings
from agent.metrics import AgentMetrics
from agent.mfa_coverage import MfaCoverage
from agent.models import ExceptionRule, Finding, Snapshot, new_run_id, utcnow
from agent.posture import evaluate_posture, soc2_categories
from agent.registry import load_checks, load_collectors
from agent.stages.alerts import AlertComposer
from agent.stages.collect import Collected, Collector, collect
from agent.stages.collect_child import child_target, collect_in_child
from agent.stages.drift import RequirementStates, requirement_events, resource_changes, snapshot_drift
from agent.stages.exceptions import apply_exceptions
from agent.stages.publish import ExceptionGauge, observe_cycle
from agent.stages.result import CycleResult
from agent.store import RunRecord, SnapshotWrite, Store, manual
from agent.store.cycle_tx import CycleTransaction
from agent.store.records import AlreadyRecorded, SweepSlot
from checks.base import Check
from collectors import Cancelled, CollectContext

if TYPE_CHECKING:
    from agent.stages.collect_early import EarlyCollection

__all__ = ["CycleResult", "Pipeline"]

log = logging.getLogger("agent.cycle")


class Pipeline:
    """Everything a cycle needs, built once and shared by all sources."""

    POSTURE_REFRESH_SECONDS = 300.0

    def __init__(
        self,
        config: Config,
        store: Store | None,
        *,
        metrics: AgentMetrics | None = None,
        checks: Mapping[str, Check] | None = None,
        mappings: Mappings | None = None,
        collectors: Mapping[str, Collector] | None = None,
        requirement_drift: bool = True,
        posture_metrics: bool = True,
    ) -> None:
        self.config = config
        # framework requirements' status changes as drift events: in one process, against its last
        # cycle's states; in a scaled deployment, once per sweep, by the run that ends it, against the
        # states the last sweep to end kept in the store (evaluating every finding of the store after
        # each account would make a sweep quadratic)
        self.requirement_drift = requirement_drift
        # the posture gauges read every current finding: a worker leaves them to the scheduler, which
        # serves them from the store, instead of recomputing them after each account
        self.posture_metrics = posture_metrics
        self.store = store
        self.metrics = metrics or AgentMetrics()
        self.checks = dict(checks) if checks is not None else load_checks()
        self.mappings = mappings or load_mappings()
        # load_collectors() imports a provider's package when a cycle first needs it, not here: an
        # AWS-only daemon never loads the GCP or Azure SDKs, and one collecting in child processes none
        self.collectors: Mapping[str, Collector] = dict(collectors) if collectors is not None else load_collectors()
        self.frameworks = tuple(config.scope.frameworks)
        self.categories = soc2_categories(config.scope.soc2_categories)  # as the CLI counts them
        # check id -> the framework requirements in scope it bears on (SOC2:CC6.1, ...)
        self.requirements = {cid: self.mappings.tags_for(cid, self.frameworks, self.categories) for cid in self.checks}
        self.required_types = frozenset(t for c in self.checks.values() for t in c.meta.requires)  # inputs of checks
        self.alerts = AlertComposer(config, self.checks, self.requirements, self.mappings)
        self.alerts_wake = threading.Event()  # set after each committed cycle: the dispatcher looks at once
        self._posture_at = float("-inf")
        self._requirements: RequirementStates | None = None  # as of the last committed cycle
        self._write_lock = threading.Lock()  # requirement states follow commit order
        self._exceptions = ExceptionGauge(self.metrics) if store is not None else None
        self._mfa = MfaCoverage(self.metrics)  # posture_identities, posture_mfa_coverage_ratio
        for src in config.sources:
            self.metrics.interval.labels(src.name).set(src.schedule.nominal_interval().total_seconds())
        for ch in config.alerts.channels:  # present from the first scrape, at zero
            self.metrics.alerts_sent.labels(ch.name)
        if store is not None:
            self.refresh_posture()

    # -- the cycle -------------------------------------------------------------------------------

    def run_cycle(
        self,
        source: AnySource,
        ctx: CollectContext | None = None,
        *,
        in_child: bool = False,
        early: EarlyCollection | None = None,
        sweep: SweepSlot | None = None,
        given: Collected | None = None,
    ) -> CycleResult:
        """Collect, evaluate and store one source. Raises Cancelled if asked to stop mid-way
        (nothing stored); any other failure is recorded as a failed run. ``in_child``: collect in a
        short-lived child process when the source allows it (the daemon, agent/stages/collect_child.py).
        ``early``: the source's collection, already started before this pipeline was built (the
        scan, agent/stages/collect_early.py); its context replaces ``ctx``. ``sweep``: the (sweep,
        account) a worker collects (agent/scale/); raises AlreadyRecorded, storing nothing, when that
        account already has its run. ``given``: what is known instead of a collection (a sweep's gap)."""
        if early is not None:
            ctx = early.ctx
            early.calls.attach(self.metrics.on_api_call(source.provider))
        else:
            ctx = ctx or CollectContext()
            ctx.on_api_call = _chain(ctx.on_api_call, self.metrics.on_api_call(source.provider))
        if ctx.store is None:
            ctx.store = self.store  # read-only use by collectors of agent-fed sources (device push)
        if not ctx.sources:
            ctx.sources = tuple(self.config.sources)  # which sources a joining source (people) reads
        run_id = new_run_id()
        started = utcnow()
        t0 = time.monotonic()
        log.info("collection started", extra={"source": source.name, "run": run_id})
        try:
            if given is not None:
                collected = given
            else:
                collected = early.result() if early is not None else self._collect(source, ctx, in_child)
            if early is not None and early.started_at is not None:
                started = min(started, early.started_at)
            ctx.check_cancelled()
        except Cancelled:
            log.warning("collection cancelled", extra={"source": source.name, "run": run_id})
            raise
        t_collected = time.monotonic()
        rules = self.store.exception_rules() if self.store is not None else []  # once a cycle, not per account
        evaluated = [(s, self.evaluate(s, rules, source=source)) for s in collected.snapshots]
        t_evaluated = time.monotonic()
        run = RunRecord(
            id=run_id,
            source=source.name,
            provider=source.provider,
            started_at=started,
            finished_at=utcnow(),
            status=collected.status,
            detail={"error": collected.error, "accounts": [s.account for s, _ in evaluated]},
        )
        findings = [f for _, fs in evaluated for f in fs]
        result = CycleResult(run=run, snapshots=collected.snapshots, findings=findings, error=collected.error)
        if self.store is not None:
            result.writes, result.drift = self.record(run, evaluated, sweep)
        t_stored = time.monotonic()
        result.timings = {
            "collect": t_collected - t0,
            "evaluate": t_evaluated - t_collected,
            "store": t_stored - t_evaluated,
        }
        self.publish(result, time.monotonic() - t0, source)
        result.timings["total"] = time.monotonic() - t0
        return result

    def _collect(self, source: AnySource, ctx: CollectContext, in_child: bool) -> Collected:
        """The collect stage, in a child process when asked and possible: not for a source read from
        the agent's own store, nor a collector or source model another interpreter cannot import."""
        target = child_target(self.collectors, source) if in_child else None
        if target is not None:
            return collect_in_child(source, target, ctx, timeout=self.config.collection_timeout.total_seconds())
        try:
            collector = self.collectors.get(source.provider)
        except Exception as exc:  # a provider whose package cannot be imported: this source fails, not the cycle
            log.exception("collector unavailable", extra={"source": source.name})
            return Collected([], f"collector unavailable: {type(exc).__name__}: {exc}")
        return collect(source, collector, ctx)

    def evaluate(
        self, snapshot: Snapshot, rules: Sequence[ExceptionRule] | None = None, *, source: AnySource | None = None
    ) -> list[Finding]:
        """The checks over one snapshot, with the risk-acceptance exceptions in force applied
        (``rules``: the store's, read here when not given). ``source``: the types it leaves out
        make the checks that require them report error."""
        uncollected = {t for t in self.required_types if not source.collects(t)} if source is not None else set()
        findings = evaluate(
            snapshot,
            self.checks.values(),
            requirements=self.requirements,
            params=self.config.checks,
            uncollected=uncollected,
        )
        if self.store is None or self._exceptions is None:
            return findings
        if rules is None:
            rules = self.store.exception_rules()
        self._exceptions.set(rules, snapshot.finished_at)
        return apply_exceptions(findings, rules, snapshot.finished_at)

    def record(
        self,
        run: RunRecord,
        evaluated: Sequence[tuple[Snapshot, Sequence[Finding]]],
        sweep: SweepSlot | None = None,
    ) -> tuple[list[SnapshotWrite], list[DriftEvent]]:
        """Store the cycle with its drift and its alerts, in one transaction (which first claims
        ``sweep``'s account, or raises AlreadyRecorded)."""
        assert self.store is not None
        staged = self.store.stage_bodies([s for s, _ in evaluated])  # before the lock (PostgreSQL)
        with self._write_lock:
            with self.store.cycle(run) as tx:
                if sweep is not None and not tx.claim(sweep.sweep_id, sweep.account, sweep.outcome or run.status):
                    raise AlreadyRecorded(f"sweep {sweep.sweep_id} already has the run of {sweep.account}")
                writes = tx.write_snapshots(evaluated, staged)
                previous = self._requirements
                requirements = None
                if sweep is not None:  # a worker's run: requirement drift once, when it ends the sweep
                    if tx.complete_sweep(sweep.sweep_id) and self.requirement_drift and writes:
                        requirements = self._evaluate_requirements(tx)
                        previous = tx.sweep_requirement_states(sweep.sweep_id, requirements)
                elif self.requirement_drift:
                    requirements = self._requirement_states(tx, writes)
                drift, alerts = self._drift_and_alerts(tx, run, writes, requirements, previous)
                for notice in self.alerts.exception_notices(tx.exception_rules(), run.finished_at):
                    tx.mark_notified(notice.rule.id, notice.column)
                    alerts.append((notice.key, notice.alert))
                tx.enqueue(self.alerts.route(run.id, run.source, run.provider, alerts, utcnow()))
            if requirements is not None and sweep is None:  # committed: the states later cycles compare with
                self._requirements = requirements
        return writes, drift

    def _drift_and_alerts(
        self,
        tx: CycleTransaction,
        run: RunRecord,
        writes: list[SnapshotWrite],
        requirements: RequirementStates | None,
        previous: RequirementStates | None,
    ) -> tuple[list[DriftEvent], list[tuple[str, Alert]]]:
        drift: list[DriftEvent] = []
        alerts: list[tuple[str, Alert]] = []
        for w in writes:
            snap = tx.snapshot(w)
            changed = tx.changed_resources(snap, w)
            resources = resource_changes(changed.previous, changed.current, snap.errors) if changed else []
            d = snapshot_drift(
                source=snap.source,
                provider=snap.provider,
                account=snap.account,
                resources=resources,
                findings=w.changes,
                checks=self.checks,
            )
            events = list(d.resources)
            if w is writes[-1] and requirements is not None:  # chained with the run's last snapshot
                events.extend(requirement_events(run.source, previous, requirements))
            events.extend(t.event for t in d.findings)
            now = utcnow()
            for t in d.findings:
                alert = self.alerts.finding_alert(t, now)
                if alert is not None:
                    alerts.append((f"{run.id}:{w.snapshot_id}:{t.change.uid}:{t.event.kind}", alert))
            tx.record_drift(snap, events)
            drift.extend(events)
        return drift, alerts

    def _requirement_states(self, tx: CycleTransaction, writes: list[SnapshotWrite]) -> RequirementStates | None:
        """Framework requirement states with this cycle's findings (read through its transaction);
        None when nothing changed since the last cycle's states."""
        if not writes or (self._requirements is not None and not any(w.changes for w in writes)):
            return None
        return self._evaluate_requirements(tx)

    def _evaluate_requirements(self, tx: CycleTransaction) -> RequirementStates:
        posture = evaluate_posture(
            self.mappings,
            tx.current_findings(),
            tx.manual_evidence(),
            frameworks=self.frameworks,
            categories=self.categories,
            now=tx.run.finished_at,
        )
        return {
            rs.requirement.ref: (rs.status, fid, rs.requirement.title)
            for fid, reqs in posture.requirements.items()
            for rs in reqs
        }

    def publish(self, result: CycleResult, seconds: float, source: AnySource | None = None) -> None:
        """Metrics of the cycle (drift only when committed; MFA coverage from ``source``'s identities)
        and a wake-up for the dispatcher."""
        if self.store is not None and result.writes:
            self._refresh_posture_if_needed(result)
        observe_cycle(self.metrics, result, seconds)
        if source is not None:
            self._mfa.observe(source, result.snapshots)
        if result.writes:
            self.alerts_wake.set()

    # -- exported posture ------------------------------------------------------------------------

    def _refresh_posture_if_needed(self, result: CycleResult) -> None:
        """After a change, or every few minutes for time-driven states (evidence due for review):
        an unchanged cycle then costs no posture recomputation."""
        changed = any(w.changes for w in result.writes)
        if changed or time.monotonic() - self._posture_at >= self.POSTURE_REFRESH_SECONDS:
            self.refresh_posture()

    def refresh_posture(self) -> None:
        """Recompute the exported posture (check counts, requirement states) from the store."""
        if self.store is None or not self.posture_metrics:
            return
        self._posture_at = time.monotonic()
        self.metrics.set_posture(self.store.finding_counts())
        posture = evaluate_posture(
            self.mappings,
            self.store.current_findings(),
            manual.list_evidence(self.store),
            frameworks=self.frameworks,
            categories=self.categories,
            now=utcnow(),
        )
        self.metrics.set_requirements(
            (fid, rs.requirement.id, rs.status) for fid, states in posture.requirements.items() for rs in states
        )


def _chain(*fns: Callable[[str, str, str | None], None]) -> Callable[[str, str, str | None], None]:
    def call(service: str, operation: str, code: str | None) -> None:
        for fn in fns:
            fn(service, operation, code)

    return call

"""Publish: after a cycle, its metrics and the exception-state gauge. Only committed work counts."""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import datetime

from prometheus_client.core import GaugeMetricFamily

from agent.metrics import AgentMetrics
from agent.models import ExceptionRule
from agent.stages.result import CycleResult

__all__ = ["ExceptionGauge", "observe_cycle"]

log = logging.getLogger("agent.cycle")


def observe_cycle(metrics: AgentMetrics, result: CycleResult, seconds: float) -> None:
    m = metrics
    run = result.run
    m.collections.labels(run.source, run.status).inc()
    m.collection_duration.labels(run.source).observe(seconds)
    m.collection_errors.labels(run.source).set(sum(len(s.errors) for s in result.snapshots))
    if result.ok:
        m.last_success.labels(run.source).set(run.finished_at.timestamp())
        m.resources.labels(run.source, run.provider).set(sum(len(s.resources) for s in result.snapshots))
    m.evidence_bytes.labels(run.source).inc(sum(w.bytes_added for w in result.writes))
    # counted first, then one inc per label set: a first scan changes thousands of findings
    changes = Counter((c.check_id, c.status) for w in result.writes for c in w.changes)
    for (check_id, status), n in changes.items():
        m.finding_changes.labels(check_id, status).inc(n)
    for (kind, check_id), n in Counter((e.kind, e.check_id) for e in result.drift).items():
        m.drift_events.labels(kind, check_id).inc(n)
    resource_changes = Counter(
        (e.provider, e.resource_type, e.kind)
        for e in result.drift
        if not e.check_id and e.resource_type != "requirement"
    )
    for (provider, rtype, kind), n in resource_changes.items():
        m.resource_changes.labels(provider, rtype, kind).inc(n)
    level = logging.WARNING if run.status != "complete" else logging.INFO
    log.log(
        level,
        "collection finished",
        extra={
            "source": run.source,
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


class ExceptionGauge:
    """posture_exceptions{state}: the risk-acceptance exceptions as of the last evaluation."""

    def __init__(self, metrics: AgentMetrics) -> None:
        self._lock = threading.Lock()
        self._states: dict[str, int] = {"active": 0, "expiring": 0, "expired": 0}
        metrics.add_family_source(self._families)

    def set(self, rules: Iterable[ExceptionRule], now: datetime) -> None:
        states = {"active": 0, "expiring": 0, "expired": 0}
        for r in rules:
            states[r.state(now)] += 1
        with self._lock:
            self._states = states

    def _families(self) -> Iterator[GaugeMetricFamily]:
        fam = GaugeMetricFamily(
            "posture_exceptions",
            "Risk-acceptance exceptions by state (active, expiring within a week, expired).",
            labels=["state"],
        )
        with self._lock:
            states = dict(self._states)
        for state, n in sorted(states.items()):
            fam.add_metric([state], n)
        yield fam

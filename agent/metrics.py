"""Prometheus metrics on the agent's own registry.

Posture gauges are computed from an in-memory summary refreshed after each cycle, so a scrape never
touches the database or a cloud. Labels are bounded: check ids, severities, statuses, sources,
services and error codes; never a resource id or a user name.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from agent import __version__

__all__ = ["AgentMetrics"]

STATUSES = ("pass", "fail", "error", "not_applicable")


class _PostureCollector(Collector):
    def __init__(self, metrics: AgentMetrics) -> None:
        self._m = metrics

    def collect(self) -> Iterator[GaugeMetricFamily]:
        counts, meta = self._m.snapshot_state()
        findings = GaugeMetricFamily(
            "posture_findings",
            "Resources per check and status in the latest evaluation.",
            labels=["check", "provider", "severity", "status"],
        )
        for (check, status), n in sorted(counts.items()):
            provider, severity = meta.get(check, ("", ""))
            findings.add_metric([check, provider, severity, status], n)
        yield findings
        failing = GaugeMetricFamily(
            "posture_failing_resources", "Failing resources per severity in the latest evaluation.", labels=["severity"]
        )
        per_sev: dict[str, int] = {s: 0 for s in ("critical", "high", "medium", "low", "info")}
        for (check, status), n in counts.items():
            if status == "fail":
                sev = meta.get(check, ("", "info"))[1] or "info"
                per_sev[sev] = per_sev.get(sev, 0) + n
        for sev, n in per_sev.items():
            failing.add_metric([sev], n)
        yield failing
        requirements = self._m.requirement_state()
        req_status = GaugeMetricFamily(
            "posture_requirement_status",
            "1 for each framework requirement in scope, labelled with its current status.",
            labels=["framework", "requirement", "status"],
        )
        totals: dict[tuple[str, str], int] = {}
        for framework, requirement, state in requirements:
            req_status.add_metric([framework, requirement, state], 1)
            totals[(framework, state)] = totals.get((framework, state), 0) + 1
        yield req_status
        per_fw = GaugeMetricFamily(
            "posture_requirements", "In-scope requirements per framework and status.", labels=["framework", "status"]
        )
        for (framework, state), n in sorted(totals.items()):
            per_fw.add_metric([framework, state], n)
        yield per_fw
        yield from self._m.extra_families()


class AgentMetrics:
    """Every metric the agent exports, on a registry of its own (nothing global)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry(auto_describe=True)
        r = self.registry
        self._lock = threading.Lock()
        self._counts: dict[tuple[str, str], int] = {}
        self._meta: dict[str, tuple[str, str]] = {}
        self._extra: list[Any] = []
        self._requirements: list[tuple[str, str, str]] = []
        Info("posture_build", "Build information.", registry=r).info({"version": __version__})
        self.collections = Counter(
            "posture_collections", "Collection runs by source and outcome.", ["source", "status"], registry=r
        )
        self.collection_duration = Histogram(
            "posture_collection_duration_seconds",
            "Wall time of a collection + evaluation cycle.",
            ["source"],
            buckets=(1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600),
            registry=r,
        )
        self.last_success = Gauge(
            "posture_last_successful_collection_timestamp_seconds",
            "Unix time of the last run that collected data, per source.",
            ["source"],
            registry=r,
        )
        self.interval = Gauge(
            "posture_source_interval_seconds", "Configured (nominal) interval per source.", ["source"], registry=r
        )
        self.resources = Gauge(
            "posture_resources_collected",
            "Resources in the latest snapshot of a source.",
            ["source", "provider"],
            registry=r,
        )
        self.collection_errors = Gauge(
            "posture_collection_errors", "Inputs that could not be collected in the latest run.", ["source"], registry=r
        )
        self.api_calls = Counter(
            "posture_api_calls", "Cloud API calls made by collectors.", ["provider", "service"], registry=r
        )
        self.api_errors = Counter(
            "posture_api_errors",
            "Cloud API calls that failed, by error code.",
            ["provider", "service", "code"],
            registry=r,
        )
        self.evidence_bytes = Counter(
            "posture_evidence_bytes_added",
            "Compressed bytes of new bodies and manifests written to the store.",
            ["source"],
            registry=r,
        )
        self.finding_changes = Counter(
            "posture_finding_transitions",
            "Findings whose status changed, by check and new status.",
            ["check", "status"],
            registry=r,
        )
        # drift and alerting (agent/stages/drift.py, agent/stages/publish.py, agent/alerts/dispatcher.py)
        self.drift_events = Counter(
            "posture_drift_events",
            "Drift events by kind (regressed, resolved, "
            "new_failing, error, gone, excepted, added, removed, modified) and check "
            "(empty for resource changes).",
            ["kind", "check"],
            registry=r,
        )
        self.resource_changes = Counter(
            "posture_resource_changes",
            "Resources added, removed or modified between snapshots.",
            ["provider", "resource_type", "change"],
            registry=r,
        )
        self.alerts_sent = Counter(
            "posture_alerts_sent", "Alert messages delivered, per channel.", ["channel"], registry=r
        )
        self.alerts_failed = Counter(
            "posture_alerts_failed",
            "Failed alert delivery attempts, per channel and reason (http_4xx, http_429, http_5xx, network).",
            ["channel", "reason"],
            registry=r,
        )
        # past one machine (agent/scale/): the worker's tasks, the scheduler's sweeps
        self.worker_tasks = Counter(
            "posture_worker_tasks",
            "Tasks a worker took, by outcome (recorded, failed, duplicate, malformed, unknown_source).",
            ["outcome"],
            registry=r,
        )
        self.sweep_tasks = Counter(
            "posture_sweep_tasks", "Tasks the scheduler published, per source.", ["source"], registry=r
        )
        self.sweep_gaps = Counter(
            "posture_sweep_gaps",
            "Accounts no worker recorded by their sweep's deadline (recorded as error findings), per source.",
            ["source"],
            registry=r,
        )
        r.register(_PostureCollector(self))

    def set_posture(self, rows: Iterable[Mapping[str, Any]]) -> None:
        """Replace the posture summary with store.finding_counts() rows."""
        counts: dict[tuple[str, str], int] = {}
        meta: dict[str, tuple[str, str]] = {}
        for row in rows:
            key = (row["check_id"], row["status"])
            counts[key] = counts.get(key, 0) + int(row["count"])
            meta[row["check_id"]] = (row["check_id"].split(".", 1)[0], row["severity"])
        with self._lock:
            self._counts, self._meta = counts, meta

    def set_requirements(self, states: Iterable[tuple[str, str, str]]) -> None:
        """Replace the (framework, requirement, status) triples exported at scrape time."""
        items = sorted(states)
        with self._lock:
            self._requirements = items

    def requirement_state(self) -> list[tuple[str, str, str]]:
        with self._lock:
            return list(self._requirements)

    def snapshot_state(self) -> tuple[dict[tuple[str, str], int], dict[str, tuple[str, str]]]:
        with self._lock:
            return dict(self._counts), dict(self._meta)

    def add_family_source(self, fn: Any) -> None:
        """Register a callable yielding extra metric families at scrape time (other subsystems)."""
        self._extra.append(fn)

    def extra_families(self) -> Iterator[Any]:
        for fn in list(self._extra):
            yield from fn()

    def on_api_call(self, provider: str) -> Any:
        def observe(service: str, operation: str, error_code: str | None) -> None:
            self.api_calls.labels(provider, service).inc()
            if error_code:
                self.api_errors.labels(provider, service, error_code).inc()

        return observe

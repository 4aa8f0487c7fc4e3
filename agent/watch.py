"""Drift, exceptions and the alert outbox, plugged into a Pipeline.

- ``filter_findings`` (after evaluate): applies risk-acceptance exceptions.
- ``in_transaction`` (inside the cycle's store transaction): computes resource and finding drift
  against the previous snapshot of the same (source, account), writes drift_events and a
  ``drift`` evidence-chain entry, and enqueues alerts in the outbox. Everything commits with the
  cycle or not at all, so an alert can never be lost or sent for a cycle that was not stored.
- ``after_cycle``: metrics (only for committed cycles) and a wake-up for the dispatcher.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import Connection, insert, select, update

from agent.alerts import outbox
from agent.alerts.model import SEVERITY_RANK, Alert
from agent.alerts.routing import channels_for
from agent.drift import (
    FAILURE_KINDS,
    RESOLUTION_KINDS,
    ResourceChange,
    classify,
    diff_manifests,
    diff_resources,
)
from agent.exceptions import WARN_BEFORE, ExceptionRule, apply_exceptions, load_rules
from agent.models import Finding, Resource, Snapshot, isoformat, utcnow
from agent.store import RunRecord, SnapshotWrite, Store
from agent.store import schema as st
from agent.store.alerting import drift_events
from agent.store.alerting import exceptions as exc_table
from agent.store.blobs import decompress, resolve_manifest
from agent.store.db import FindingChange, snapshot_errors

if TYPE_CHECKING:
    from agent.cycle import CycleResult, Pipeline

__all__ = ["DriftEvent", "Watch", "attach"]

log = logging.getLogger("agent.watch")

DIGEST_ITEMS = 20


@dataclass(frozen=True, kw_only=True)
class DriftEvent:
    kind: str
    source: str
    provider: str
    account: str
    region: str
    resource_id: str
    resource_type: str
    check_id: str = ""
    severity: str = ""
    previous_status: str | None = None
    status: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    uid: str = ""

    def row(self, run_id: str, snapshot_id: int, at: datetime) -> dict[str, Any]:
        return {
            "run_id": run_id,
            "snapshot_id": snapshot_id,
            "source": self.source,
            "provider": self.provider,
            "account": self.account,
            "region": self.region,
            "kind": self.kind,
            "check_id": self.check_id,
            "resource_id": self.resource_id,
            "resource_type": self.resource_type,
            "severity": self.severity,
            "previous_status": self.previous_status,
            "status": self.status,
            "detail": json.dumps(self.detail, sort_keys=True, default=str),
            "at": at,
        }


def _blob(conn: Connection, hash_: str) -> bytes:
    body = conn.execute(select(st.blobs.c.body).where(st.blobs.c.hash == hash_)).scalar()
    if body is None:
        raise LookupError(f"blob {hash_} missing")
    return decompress(body)


class Watch:
    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline
        self.config = pipeline.config
        self.metrics = pipeline.metrics
        self.wake = threading.Event()  # set after each committed cycle: the dispatcher looks at once
        self._lock = threading.Lock()
        self._manifests: dict[tuple[str, str], tuple[int, dict[str, str]]] = {}
        self._pending_metrics: dict[str, list[DriftEvent]] = {}
        # requirement ref -> (status, framework, title), as of the last committed cycle
        self._requirements: dict[str, tuple[str, str, str]] | None = None
        self._pending_requirements: dict[str, dict[str, tuple[str, str, str]]] = {}
        self._exception_states: dict[str, int] = {"active": 0, "expiring": 0, "expired": 0}
        prefixes: dict[str, str] = {}
        for fid, fw in pipeline.mappings.frameworks.items():
            prefix = getattr(fw, "prefix", None)
            if prefix:
                prefixes[str(prefix)] = fid
        self._prefix_to_framework = prefixes
        for ch in self.config.alerts.channels:  # present from the first scrape, at zero
            self.metrics.alerts_sent.labels(ch.name)
        self.metrics.add_family_source(self._families)

    # -- exceptions (after evaluate) -------------------------------------------------------------

    def filter_findings(self, snapshot: Snapshot, findings: list[Finding]) -> list[Finding]:
        store = self.pipeline.store
        if store is None:
            return findings
        with store.engine.connect() as conn:
            rules = load_rules(conn)
        self._count_exceptions(rules, snapshot.finished_at)
        return apply_exceptions(findings, rules, snapshot.finished_at)

    def _count_exceptions(self, rules: Iterable[ExceptionRule], now: datetime) -> None:
        states = {"active": 0, "expiring": 0, "expired": 0}
        for r in rules:
            states[r.state(now)] += 1
        with self._lock:
            self._exception_states = states

    def _families(self) -> Iterator[GaugeMetricFamily]:
        fam = GaugeMetricFamily(
            "posture_exceptions",
            "Risk-acceptance exceptions by state (active, expiring within a week, expired).",
            labels=["state"],
        )
        with self._lock:
            states = dict(self._exception_states)
        for state, n in sorted(states.items()):
            fam.add_metric([state], n)
        yield fam

    # -- drift + outbox (inside the cycle's transaction) -----------------------------------------

    def in_transaction(self, store: Store, conn: Connection, run: RunRecord, writes: list[SnapshotWrite]) -> None:
        now = run.finished_at
        all_events: list[DriftEvent] = []
        alerts: list[tuple[str, Alert]] = []  # (dedup base, alert)
        requirement_events = self._requirement_events(conn, run, writes)
        for w in writes:
            snap = conn.execute(select(st.snapshots).where(st.snapshots.c.id == w.snapshot_id)).one()
            resource_changes = self._resource_drift(store, conn, snap, w)
            events = [self._resource_event(snap, c) for c in resource_changes]
            if w is writes[-1]:
                events.extend(requirement_events)  # chained with the run's last snapshot
            attr_changes = {c.resource_id: [str(a) for a in c.changes] for c in resource_changes}
            regions = {c.resource_id: c.region for c in resource_changes}
            for ch in w.changes:
                kind = classify(ch)
                if kind is None:
                    continue
                ev = self._finding_event(snap, ch, kind, regions)
                events.append(ev)
                alert = self._finding_alert(ev, ch, attr_changes.get(ch.resource_id, []))
                if alert is not None:
                    alerts.append((f"{run.id}:{w.snapshot_id}:{ch.uid}:{kind}", alert))
            if events:
                rows = [e.row(run.id, w.snapshot_id, snap.finished_at) for e in events]
                conn.execute(insert(drift_events), rows)
                store.append_evidence(
                    conn,
                    at=now,  # the entry's time is when it is written (with the cycle), not the snapshot's
                    kind="drift",
                    ref=f"drift:{w.snapshot_id}",
                    content={
                        "run": run.id,
                        "snapshot": w.snapshot_id,
                        "source": snap.source,
                        "account": snap.account,
                        "events": rows,
                    },
                )
            all_events.extend(events)
        alerts.extend(self._exception_notices(conn, now))
        self._enqueue(conn, run, alerts, now)
        with self._lock:
            self._pending_metrics[run.id] = all_events

    def _requirement_events(self, conn: Connection, run: RunRecord, writes: list[SnapshotWrite]) -> list[DriftEvent]:
        """Framework requirements whose state changed with this cycle (e.g. SOC2:CC6.1 pass -> fail).

        Read through the cycle's own connection, so the findings just written count. The first
        cycle of a process only records the baseline."""
        if not writes or (self._requirements is not None and not any(w.changes for w in writes)):
            return []
        from agent.posture import evaluate_posture
        from agent.store import manual

        findings = [dict(r._mapping) for r in conn.execute(select(st.finding_current))]
        evidence = manual.records_in(conn)
        p = self.pipeline
        posture = evaluate_posture(
            p.mappings, findings, evidence, frameworks=p._frameworks, categories=p._categories, now=run.finished_at
        )
        states = {
            f"{rs.requirement.ref}": (rs.status, fid, rs.requirement.title)
            for fid, reqs in posture.requirements.items()
            for rs in reqs
        }
        with self._lock:
            self._pending_requirements[run.id] = states
        previous = self._requirements
        if previous is None:
            return []
        events = []
        for ref, (status, framework, title) in sorted(states.items()):
            before = previous.get(ref, (None,))[0]
            if before is None or before == status:
                continue
            kind = (
                "requirement_regressed"
                if (before, status) == ("pass", "fail")
                else "requirement_resolved"
                if (before, status) == ("fail", "pass")
                else "requirement_changed"
            )
            events.append(
                DriftEvent(
                    kind=kind,
                    source=run.source,
                    provider="",
                    account="",
                    region="",
                    resource_id=ref,
                    resource_type="requirement",
                    previous_status=before,
                    status=status,
                    detail={"framework": framework, "title": title},
                )
            )
        return events

    def _resource_drift(self, store: Store, conn: Connection, snap: Any, w: SnapshotWrite) -> list[ResourceChange]:
        key = (snap.source, snap.account)
        cur_map = self._current_manifest(store, conn, snap, w)
        prev_row = conn.execute(
            select(st.snapshots.c.id, st.snapshots.c.manifest_hash)
            .where(
                st.snapshots.c.source == snap.source,
                st.snapshots.c.account == snap.account,
                st.snapshots.c.id < snap.id,
            )
            .order_by(st.snapshots.c.id.desc())
            .limit(1)
        ).first()
        with self._lock:
            cached = self._manifests.get(key)
            self._manifests[key] = (snap.id, cur_map)
        if prev_row is None:
            return []  # first snapshot: the baseline, not drift
        if cached is not None and cached[0] == prev_row.id:
            prev_map = cached[1]
        else:
            prev_map = resolve_manifest(prev_row.manifest_hash, lambda h: _blob(conn, h))
        added, removed, modified = diff_manifests(prev_map, cur_map)
        if not (added or removed or modified):
            return []
        # a resource missing because its type could not be collected is unknown, not removed
        starved = {(e["resource_type"], e["region"]) for e in snapshot_errors(snap.errors, lambda h: _blob(conn, h))}

        def load(h: str) -> Resource:
            return Resource.from_dict(json.loads(_blob(conn, h)))

        prev = {rid: load(prev_map[rid]) for rid in (*removed, *modified)}
        prev = {
            rid: r
            for rid, r in prev.items()
            if rid in cur_map or not ((r.type, r.region) in starved or (r.type, "") in starved)
        }
        cur = {rid: load(cur_map[rid]) for rid in (*added, *modified)}
        return diff_resources(prev, cur)

    def _current_manifest(self, store: Store, conn: Connection, snap: Any, w: SnapshotWrite) -> dict[str, str]:
        # the store has just resolved this manifest for its own delta; reuse it rather than re-read
        cached = store.resolved_manifest(snap.source, snap.account, w.manifest_hash)
        if cached is not None:
            return cached
        resolved: dict[str, str] = resolve_manifest(w.manifest_hash, lambda h: _blob(conn, h))
        return resolved

    @staticmethod
    def _resource_event(snap: Any, c: ResourceChange) -> DriftEvent:
        return DriftEvent(
            kind=c.kind,
            source=snap.source,
            provider=c.provider or snap.provider,
            account=c.account or snap.account,
            region=c.region,
            resource_id=c.resource_id,
            resource_type=c.resource_type,
            detail=c.to_dict() if c.kind == "modified" else {},
        )

    def _finding_event(self, snap: Any, ch: FindingChange, kind: str, regions: dict[str, str]) -> DriftEvent:
        f = ch.finding
        chk = self.pipeline.checks.get(ch.check_id)
        severity = f.severity.value if f else (chk.meta.severity.value if chk else "info")
        rtype = f.resource_type if f else (chk.meta.resource_type if chk else "")
        region = f.region if f else regions.get(ch.resource_id, "")
        return DriftEvent(
            kind=kind,
            source=snap.source,
            provider=snap.provider,
            account=snap.account,
            region=region,
            resource_id=ch.resource_id,
            resource_type=rtype,
            check_id=ch.check_id,
            severity=severity,
            previous_status=ch.previous_status,
            status=ch.status,
            detail={"message": f.recorded_message if f else ""},
            uid=ch.uid,
        )

    def _link(self, **query: str) -> str:
        base = self.config.external_url
        return f"{base.rstrip('/')}/?{urlencode(query)}" if base else ""

    def _controls(self, check_id: str, finding: Finding | None) -> tuple[tuple[str, ...], tuple[str, ...]]:
        controls = finding.controls if finding else self.pipeline.controls.get(check_id, ())
        frameworks = sorted(
            {self._prefix_to_framework.get(c.split(":", 1)[0], c.split(":", 1)[0].lower()) for c in controls}
        )
        return tuple(controls), tuple(frameworks)

    def _finding_alert(self, ev: DriftEvent, ch: FindingChange, changes: list[str]) -> Alert | None:
        if ev.kind in FAILURE_KINDS:
            kind = "failure"
        elif ev.kind in RESOLUTION_KINDS or (ev.kind == "gone" and ch.previous_status == "fail"):
            kind = "resolution"
        else:
            return None  # errors, exceptions, new passing resources: drift events and metrics only
        chk = self.pipeline.checks.get(ev.check_id)
        title_of = chk.meta.title if chk else ev.check_id
        remediation = ""
        if chk is not None:
            rem = chk.meta.remediation
            remediation = "\n".join(x for x in (rem.console, f"CLI: {rem.cli}" if rem.cli else "", rem.docs) if x)
        controls, frameworks = self._controls(ev.check_id, ch.finding)
        verb = {
            "regressed": "Regressed",
            "new_failing": "New failing resource",
            "resolved": "Resolved",
            "gone": "Resolved (resource removed)",
        }[ev.kind]
        return Alert(
            kind=kind,
            title=f"{verb}: {title_of}",
            severity=ev.severity,
            transition=ev.kind,
            source=ev.source,
            provider=ev.provider,
            account=ev.account,
            region=ev.region,
            check_id=ev.check_id,
            check_title=title_of,
            resource_id=ev.resource_id,
            resource_type=ev.resource_type,
            previous_status=ev.previous_status or "",
            status=ev.status or "",
            message=str(ev.detail.get("message") or ("resource no longer present" if ev.kind == "gone" else "")),
            controls=controls,
            frameworks=frameworks,
            remediation=remediation,
            changes=tuple(changes),
            link=self._link(check=ev.check_id, resource=ev.resource_id),
            at=isoformat(utcnow()),
        )

    def _exception_notices(self, conn: Connection, now: datetime) -> list[tuple[str, Alert]]:
        out: list[tuple[str, Alert]] = []
        for rule in load_rules(conn):
            if rule.active(now) and rule.warned_at is None and rule.expires_at - now <= WARN_BEFORE:
                kind, col, what = "exception_expiring", "warned_at", "expires"
            elif not rule.active(now) and rule.expired_at is None:
                kind, col, what = "exception_expired", "expired_at", "expired"
            else:
                continue
            conn.execute(update(exc_table).where(exc_table.c.id == rule.id).values({col: now}))
            chk = self.pipeline.checks.get(rule.check_id)
            controls, frameworks = self._controls(rule.check_id, None)
            out.append(
                (
                    f"exception:{rule.id}:{kind}",
                    Alert(
                        kind=kind,
                        title=f"Exception #{rule.id} {what} {isoformat(rule.expires_at)[:10]}",
                        severity=chk.meta.severity.value if chk else "high",
                        check_id=rule.check_id,
                        resource_id=rule.resource_pattern,
                        controls=controls,
                        frameworks=frameworks,
                        message=(
                            f"Risk acceptance of {rule.owner} for {rule.check_id} on {rule.resource_pattern} "
                            f"{what} {isoformat(rule.expires_at)}; reason: {rule.reason}. "
                            + (
                                "Renew it or fix the resources before then."
                                if kind == "exception_expiring"
                                else "Matching findings count as failing again."
                            )
                        ),
                        link=self._link(check=rule.check_id),
                        at=isoformat(now),
                    ),
                )
            )
        return out

    def _enqueue(self, conn: Connection, run: RunRecord, alerts: Sequence[tuple[str, Alert]], now: datetime) -> None:
        cfg = self.config.alerts
        if not cfg.channels:
            return
        per_channel: dict[str, dict[str, list[tuple[str, Alert]]]] = {}
        for key, alert in alerts:
            group = alert.kind if alert.kind in ("failure", "resolution") else "notice"
            for name in channels_for(alert, cfg):
                per_channel.setdefault(name, {}).setdefault(group, []).append((key, alert))
        rows: list[tuple[str, str, Alert]] = []
        for name, groups in per_channel.items():
            for group, items in groups.items():
                if group != "notice" and len(items) > cfg.digest_threshold:
                    rows.append((name, f"{name}:{run.id}:digest:{group}", _digest(group, run, [a for _, a in items])))
                else:
                    rows.extend((name, f"{name}:{key}", alert) for key, alert in items)
        outbox.enqueue(conn, rows, now)

    # -- after commit ----------------------------------------------------------------------------

    def after_cycle(self, result: CycleResult) -> None:
        with self._lock:
            events = self._pending_metrics.pop(result.run.id, [])
            requirements = self._pending_requirements.pop(result.run.id, None)
        if not result.writes:
            return  # nothing committed (no store, or the transaction failed)
        if requirements is not None:
            self._requirements = requirements
        m = self.metrics
        for e in events:
            m.drift_events.labels(e.kind, e.check_id).inc()
            if not e.check_id and e.resource_type != "requirement":
                m.resource_changes.labels(e.provider, e.resource_type, e.kind).inc()
        self.wake.set()


def _digest(group: str, run: RunRecord, alerts: list[Alert]) -> Alert:
    by_check: dict[str, int] = {}
    by_sev: dict[str, int] = {}
    for a in alerts:
        by_check[a.check_id] = by_check.get(a.check_id, 0) + 1
        by_sev[a.severity] = by_sev.get(a.severity, 0) + 1
    worst = max((a.severity for a in alerts), key=lambda s: SEVERITY_RANK.get(s, 0))
    accounts = sorted({a.account for a in alerts})
    items = tuple(
        {
            "severity": a.severity,
            "check_id": a.check_id,
            "resource_id": a.resource_id,
            "account": a.account,
            "region": a.region,
            "transition": a.transition,
        }
        for a in sorted(alerts, key=lambda a: -a.rank)[:DIGEST_ITEMS]
    )
    frameworks = tuple(sorted({f for a in alerts for f in a.frameworks}))
    what = "new failures" if group == "failure" else "resolutions"
    return Alert(
        kind="digest",
        title=f"{len(alerts)} {what} in {run.source}",
        severity=worst,
        transition=group,
        source=run.source,
        provider=run.provider,
        account=accounts[0] if len(accounts) == 1 else "",
        total=len(alerts),
        by_check=by_check,
        by_severity=by_sev,
        items=items,
        frameworks=frameworks,
        link=alerts[0].link.split("?")[0],
        at=isoformat(utcnow()),
    )


def attach(pipeline: Pipeline) -> Watch:
    """Plug drift, exceptions and the outbox into ``pipeline`` (only when it has a store)."""
    watch = Watch(pipeline)
    pipeline.finding_filters.append(watch.filter_findings)
    pipeline.in_transaction.append(watch.in_transaction)
    pipeline.after_cycle.append(watch.after_cycle)
    pipeline.watch = watch
    return watch

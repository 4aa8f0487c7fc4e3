"""Period coverage: for a framework and a period, per requirement and per check, how many runs were
expected and succeeded, monitoring gaps (agent down included), the share of time passing, each
failure with when it was detected and fixed, and the exceptions in force.

Time without a successful collection for longer than twice the interval is a gap and counts as
unmonitored: it is never credited as passing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from agent.mappings import Mappings
from agent.models import isoformat
from agent.store import Store
from agent.store import schema as t
from agent.store.alerting import exceptions as exc_t

__all__ = ["CheckCoverage", "Coverage", "Failure", "Gap", "compute_coverage"]

FAILING = {"fail"}
PASSING = {"pass", "not_applicable", "excepted"}
DEFAULT_INTERVAL = timedelta(minutes=15)


@dataclass(frozen=True)
class Gap:
    source: str
    start: datetime
    end: datetime

    @property
    def duration(self) -> timedelta:
        return self.end - self.start

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "start": isoformat(self.start), "end": isoformat(self.end),
                "hours": round(self.duration.total_seconds() / 3600, 2)}


@dataclass(frozen=True)
class Failure:
    check_id: str
    resource_id: str
    detected_at: datetime
    fixed_at: datetime | None
    message: str

    @property
    def time_to_remediate(self) -> timedelta | None:
        return self.fixed_at - self.detected_at if self.fixed_at else None

    def to_dict(self) -> dict[str, Any]:
        ttr = self.time_to_remediate
        return {"check_id": self.check_id, "resource_id": self.resource_id,
                "detected_at": isoformat(self.detected_at),
                "fixed_at": isoformat(self.fixed_at) if self.fixed_at else None,
                "hours_to_remediate": round(ttr.total_seconds() / 3600, 2) if ttr is not None else None,
                "message": self.message}


@dataclass
class SourceCoverage:
    source: str
    interval: timedelta
    scheduled: int
    succeeded: int
    failed: int
    gaps: list[Gap]

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "interval_minutes": self.interval.total_seconds() / 60,
                "runs_scheduled": self.scheduled, "runs_succeeded": self.succeeded, "runs_failed": self.failed,
                "gaps": [g.to_dict() for g in self.gaps]}


@dataclass
class CheckCoverage:
    check_id: str
    sources: list[str]
    pass_pct: float
    fail_pct: float
    error_pct: float
    unmonitored_pct: float
    failures: list[Failure]
    exceptions: list[dict[str, Any]]
    timeline: list[tuple[datetime, str]] = field(default_factory=list)  # (from, state) of the check

    def to_dict(self) -> dict[str, Any]:
        return {"check_id": self.check_id, "sources": self.sources, "pass_pct": self.pass_pct,
                "fail_pct": self.fail_pct, "error_pct": self.error_pct, "unmonitored_pct": self.unmonitored_pct,
                "failures": [f.to_dict() for f in self.failures], "exceptions": self.exceptions}


@dataclass
class Coverage:
    framework: str
    start: datetime
    end: datetime
    sources: dict[str, SourceCoverage]
    checks: dict[str, CheckCoverage]
    requirements: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        return {"framework": self.framework, "from": isoformat(self.start), "to": isoformat(self.end),
                "sources": [s.to_dict() for s in self.sources.values()],
                "checks": [c.to_dict() for c in self.checks.values()], "requirements": self.requirements}


def _pct(part: timedelta, whole: timedelta) -> float:
    return round(100 * part / whole, 2) if whole else 0.0


def _gaps(source: str, times: list[datetime], start: datetime, end: datetime, interval: timedelta) -> list[Gap]:
    """Stretches longer than twice the interval without a successful collection (edges included)."""
    out: list[Gap] = []
    prev = start
    for at in [*times, end]:
        if at - prev > 2 * interval:
            out.append(Gap(source, prev, at))
        prev = max(prev, at)
    return out


def _in_gap(at: datetime, gaps: list[Gap]) -> bool:
    return any(g.start < at < g.end for g in gaps)


def _infer_interval(times: list[datetime]) -> timedelta:
    deltas = [b - a for a, b in zip(times, times[1:], strict=False) if b > a]
    return sorted(deltas)[len(deltas) // 2] if deltas else DEFAULT_INTERVAL  # the median gap


def compute_coverage(store: Store, mappings: Mappings, framework: str, start: datetime, end: datetime, *,
                     intervals: Mapping[str, timedelta] | None = None, categories: tuple[str, ...] = (),
                     now: datetime | None = None) -> Coverage:
    end_eff = min(end, now) if now else end
    intervals = dict(intervals or {})
    fw = mappings.framework(framework)
    reqs = fw.in_scope(categories) if categories else list(fw.requirements)
    with store.engine.connect() as conn:
        runs = list(conn.execute(select(t.runs.c.source, t.runs.c.finished_at, t.runs.c.status)
                                 .where(t.runs.c.finished_at <= end_eff)
                                 .order_by(t.runs.c.finished_at)))
        ev_rows = list(conn.execute(select(t.finding_events.c.uid, t.finding_events.c.source,
                                           t.finding_events.c.check_id, t.finding_events.c.resource_id,
                                           t.finding_events.c.status, t.finding_events.c.message,
                                           t.finding_events.c.at)
                                    .where(t.finding_events.c.at <= end_eff).order_by(t.finding_events.c.id)))
        exc_rows = [dict(r._mapping) for r in conn.execute(
            select(exc_t).where(exc_t.c.created_at < end_eff, exc_t.c.expires_at > start))]

    # sources: scheduled vs successful runs, gaps
    sources: dict[str, SourceCoverage] = {}
    by_source: dict[str, list[Any]] = {}
    for r in runs:
        by_source.setdefault(r.source, []).append(r)
    span = end_eff - start
    for src, rs in by_source.items():
        ok_all = [r.finished_at for r in rs if r.status != "failed"]
        interval = intervals.get(src) or _infer_interval(ok_all)
        in_period = [r for r in rs if r.finished_at >= start]
        ok = [r.finished_at for r in in_period if r.status != "failed"]
        sources[src] = SourceCoverage(src, interval, int(span / interval) if span > timedelta(0) else 0,
                                      len(ok), len(in_period) - len(ok), _gaps(src, ok, start, end_eff, interval))

    # per check: replay finding events into per-check state changes and failure episodes
    check_ids = {c for r in reqs for c in mappings.requirement_checks(r)}
    state: dict[str, dict[str, str]] = {}  # check -> uid -> status
    changes: dict[str, list[tuple[datetime, str]]] = {}
    open_fail: dict[str, Failure] = {}
    failures: dict[str, list[Failure]] = {}
    srcs_of: dict[str, set[str]] = {}

    # per check: how many of its findings are in each status, so its state is O(1) per event
    counts: dict[str, dict[str, int]] = {}

    def check_state(chk: str) -> str:
        c = counts.get(chk, {})
        if any(c.get(s) for s in FAILING):
            return "fail"
        if c.get("error"):
            return "error"
        return "pass" if state.get(chk) else "no_data"

    for e in ev_rows:
        if e.check_id not in check_ids:
            continue
        srcs_of.setdefault(e.check_id, set()).add(e.source)
        before = check_state(e.check_id)
        st = state.setdefault(e.check_id, {})
        c = counts.setdefault(e.check_id, {})
        old = st.get(e.uid)
        if old is not None:
            c[old] -= 1
        if e.status == "gone":
            st.pop(e.uid, None)
        else:
            st[e.uid] = e.status
            c[e.status] = c.get(e.status, 0) + 1
        if e.status in FAILING and e.uid not in open_fail:
            open_fail[e.uid] = Failure(e.check_id, e.resource_id, e.at, None, e.message)
        elif e.status not in FAILING and e.status != "error" and e.uid in open_fail:
            f = open_fail.pop(e.uid)
            if e.at >= start:
                failures.setdefault(e.check_id, []).append(Failure(f.check_id, f.resource_id, f.detected_at,
                                                                   e.at, f.message))
        after = check_state(e.check_id)
        if after != before:
            changes.setdefault(e.check_id, []).append((e.at, after))
    for f in open_fail.values():
        failures.setdefault(f.check_id, []).append(f)

    checks: dict[str, CheckCoverage] = {}
    for chk in sorted(check_ids):
        srcs = sorted(srcs_of.get(chk, ()))
        gaps = [g for s in srcs for g in sources[s].gaps] if srcs else []
        timeline = _clip(changes.get(chk, []), start, end_eff)
        totals = _tally(timeline, gaps, start, end_eff)
        excs = [{"id": x["id"], "check_id": chk, "resource_pattern": x["resource_pattern"], "owner": x["owner"],
                 "reason": x["reason"], "from": isoformat(x["created_at"]), "until": isoformat(x["expires_at"])}
                for x in exc_rows if x["check_id"] == chk]
        checks[chk] = CheckCoverage(chk, srcs, _pct(totals["pass"], span), _pct(totals["fail"], span),
                                    _pct(totals["error"], span),
                                    _pct(totals["unmonitored"] + totals["no_data"], span),
                                    sorted(failures.get(chk, []), key=lambda f: f.detected_at), excs, timeline)

    requirements = [_requirement(r, mappings, checks, sources, span) for r in reqs]
    return Coverage(framework, start, end_eff, sources, checks, requirements)


def _clip(points: list[tuple[datetime, str]], start: datetime, end: datetime) -> list[tuple[datetime, str]]:
    """State change points from ``start`` (state at start carried in) up to ``end``."""
    state, out = "no_data", []
    for at, s in points:
        if at <= start:
            state = s
        elif at < end:
            out.append((at, s))
    return [(start, state), *out]


def _tally(timeline: list[tuple[datetime, str]], gaps: list[Gap], start: datetime,
           end: datetime) -> dict[str, timedelta]:
    """Time in each state, gaps (merged across sources) counted as unmonitored."""
    out = {k: timedelta(0) for k in ("pass", "fail", "error", "no_data", "unmonitored")}
    cuts = sorted({start, end, *(a for a, _ in timeline),
                   *(x for g in gaps for x in (max(g.start, start), min(g.end, end)))})
    idx = 0
    state = timeline[0][1] if timeline else "no_data"
    for a, b in zip(cuts, cuts[1:], strict=False):
        while idx < len(timeline) and timeline[idx][0] <= a:
            state = timeline[idx][1]
            idx += 1
        mid = a + (b - a) / 2
        out["unmonitored" if _in_gap(mid, gaps) else state] += b - a
    return out


def _requirement(req: Any, mappings: Mappings, checks: dict[str, CheckCoverage],
                 sources: dict[str, SourceCoverage], span: timedelta) -> dict[str, Any]:
    ctrls = [mappings.controls[c] for c in req.controls if c in mappings.controls]
    chks = [checks[c] for c in mappings.requirement_checks(req) if c in checks]
    srcs = sorted({s for c in chks for s in c.sources})
    fails = [f for c in chks for f in c.failures]
    ttrs = [f.time_to_remediate.total_seconds() / 3600 for f in fails if f.time_to_remediate is not None]
    monitored = [c for c in chks if c.sources]
    return {
        "requirement": req.ref, "title": req.title,
        "kind": "unsupported" if not ctrls else ("automated" if any(c.automated for c in ctrls) else "manual"),
        "checks": [c.check_id for c in chks],
        "runs_scheduled": sum(sources[s].scheduled for s in srcs),
        "runs_succeeded": sum(sources[s].succeeded for s in srcs),
        "gaps": sum(len(sources[s].gaps) for s in srcs),
        "gap_hours": round(sum(g.duration.total_seconds() for s in srcs for g in sources[s].gaps) / 3600, 2),
        # worst check: the requirement passes only while all its monitored checks pass
        "pass_pct": min((c.pass_pct for c in monitored), default=0.0),
        "unmonitored_pct": max((c.unmonitored_pct for c in monitored), default=100.0 if chks else 0.0),
        "failures": len(fails), "open_failures": sum(1 for f in fails if f.fixed_at is None),
        "mean_hours_to_remediate": round(sum(ttrs) / len(ttrs), 2) if ttrs else None,
        "max_hours_to_remediate": round(max(ttrs), 2) if ttrs else None,
        "exceptions": sum(len(c.exceptions) for c in chks),
        "manual_controls": [c.id for c in ctrls if not c.automated],
    }

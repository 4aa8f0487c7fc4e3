"""Period coverage: for a framework and a period, per requirement and per check, how many runs were
expected and succeeded, monitoring gaps (agent down included), the share of time passing, each
failure with when it was detected and fixed, the exceptions in force, and for manual controls the
documents in force and for how much of the period.

A pure function of records (``compute``): the exporter computes a bundle's summaries with it from the
records it writes, and the verifier computes them again from the verified records and compares bytes
(docs/evidence-format.md, section 10), so an edited summary fails even when the key holder signs it.

Time without a successful collection for longer than twice the interval is a gap and counts as
unmonitored: it is never credited as passing. A manual control counts as evidenced only for the time
a document attached to it was in force (docs/evidence.md, "How a criterion is judged"):

- a document is in force from its attachment until its next review date, or until the next document
  is attached to the same control, whichever comes first (the latest attachment is the one in force,
  as for the live posture);
- a manual control is ``evidenced`` when its documents were in force for the whole period, ``partly
  evidenced`` when for part of it, ``not evidenced`` when at no time;
- a requirement's manual part is judged on the time during which every manual control it relies on
  had a document in force at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from posture_verify.canonical import isoformat

__all__ = [
    "CheckCoverage",
    "Coverage",
    "DocumentPeriod",
    "Failure",
    "Gap",
    "ManualControlCoverage",
    "Scope",
    "UNMONITORED_THRESHOLD_PCT",
    "compute",
    "documents_in_force",
    "fmt_duration",
    "fmt_pct",
    "fmt_when",
]

FAILING = {"fail"}
PASSING = {"pass", "not_applicable", "excepted"}
DEFAULT_INTERVAL = timedelta(minutes=15)
# the share of a period an automated requirement may go unverified (unmonitored or in error) and
# still be reported as passing: agent restarts and short outages happen
UNMONITORED_THRESHOLD_PCT = 1.0

# requirement statuses, worst first where they combine
PASSING_S, FAILING_S, PARTLY_S, NOT_EVIDENCED_S, NOT_ASSESSED_S = (
    "passing",
    "failing",
    "partly",
    "not evidenced",
    "not assessed",
)
STATUSES = (PASSING_S, FAILING_S, PARTLY_S, NOT_EVIDENCED_S, NOT_ASSESSED_S)
EVIDENCED, PARTLY_EVIDENCED, NOT_EVIDENCED = "evidenced", "partly evidenced", "not evidenced"
A_PASSING, A_FAILING, A_PARTLY, A_NONE, A_NOT_ASSESSED = (
    "passing",
    "failing",
    "partly monitored",
    "not monitored",
    "not assessed",
)

# a requirement's automated state at an instant is the worst of its monitored checks' states
_RANK = {"pass": 0, "no_data": 1, "unmonitored": 2, "error": 3, "fail": 4}


# -- numbers for people (the report, the reasons and the OSCAL text use these) --------------------


def fmt_pct(value: float | None) -> str:
    """At most one decimal, never rounded up to 100% nor down to 0% when it is not exactly that."""
    if value is None:
        return "n/a"
    if value >= 100:
        return "100%"
    if value <= 0:
        return "0%"
    shown = round(value, 1)
    if shown >= 100:
        return "99.9%"
    if shown <= 0:
        return "<0.1%"
    return f"{shown:.1f}".removesuffix(".0") + "%"


def fmt_when(at: datetime | None) -> str:
    """2026-03-01 14:00 UTC (seconds only when there are any)."""
    if at is None:
        return "n/a"
    at = (at if at.tzinfo else at.replace(tzinfo=UTC)).astimezone(UTC)
    return at.strftime("%Y-%m-%d %H:%M:%S UTC" if at.second else "%Y-%m-%d %H:%M UTC")


def fmt_duration(d: timedelta | None) -> str:
    """3 h 20 min, 2 days 4 h, 45 min, 30 s."""
    if d is None:
        return "n/a"
    secs = int(d.total_seconds())
    if secs < 60:
        return f"{secs} s"
    days, rest = divmod(secs, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{days} day{'s' if days != 1 else ''}" + (f" {hours} h" if hours else "")
    if hours:
        return f"{hours} h" + (f" {minutes} min" if minutes else "")
    return f"{minutes} min"


# -- records -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Gap:
    source: str
    start: datetime
    end: datetime

    @property
    def duration(self) -> timedelta:
        return self.end - self.start

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "start": isoformat(self.start),
            "end": isoformat(self.end),
            "hours": round(self.duration.total_seconds() / 3600, 2),
        }


@dataclass(frozen=True)
class Failure:
    check_id: str
    resource_id: str
    detected_at: datetime
    fixed_at: datetime | None
    message: str
    # failing when the period started: detected_at is the start when the records hold no earlier event
    # (a bundle's baseline), and the time to remediate is then counted from the start
    open_at_start: bool = False

    @property
    def time_to_remediate(self) -> timedelta | None:
        return self.fixed_at - self.detected_at if self.fixed_at else None

    def to_dict(self) -> dict[str, Any]:
        ttr = self.time_to_remediate
        return {
            "check_id": self.check_id,
            "resource_id": self.resource_id,
            "detected_at": isoformat(self.detected_at),
            "fixed_at": isoformat(self.fixed_at) if self.fixed_at else None,
            "hours_to_remediate": round(ttr.total_seconds() / 3600, 2) if ttr is not None else None,
            "message": self.message,
            "open_at_start": self.open_at_start,
        }


@dataclass
class SourceCoverage:
    source: str
    interval: timedelta
    scheduled: int
    succeeded: int
    failed: int
    gaps: list[Gap]
    monitored_pct: float = 0.0  # share of the period not inside a gap

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "interval_minutes": self.interval.total_seconds() / 60,
            "runs_scheduled": self.scheduled,
            "runs_succeeded": self.succeeded,
            "runs_failed": self.failed,
            "monitored_pct": self.monitored_pct,
            "gaps": [g.to_dict() for g in self.gaps],
        }


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
    # the check's state over the period with gaps shown as "unmonitored": what requirements combine
    effective: list[tuple[datetime, str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "check_id": self.check_id,
            "sources": self.sources,
            "pass_pct": self.pass_pct,
            "fail_pct": self.fail_pct,
            "error_pct": self.error_pct,
            "unmonitored_pct": self.unmonitored_pct,
            "failures": [f.to_dict() for f in self.failures],
            "exceptions": self.exceptions,
        }


@dataclass(frozen=True)
class DocumentPeriod:
    """A manual document and when it was in force, measured against a period."""

    id: int
    control_id: str
    filename: str
    sha256: str
    owner: str
    attached_at: datetime
    review_every_days: int
    next_review: datetime
    in_force_until: datetime  # its next review, or the next attachment to the control if earlier
    superseded_by: int | None  # the document attached after it, when that ended its time in force
    in_force_pct: float  # share of the period it was in force
    lapsed_in_period: bool  # its review date passed inside the period before a newer document came

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "control_id": self.control_id,
            "filename": self.filename,
            "sha256": self.sha256,
            "owner": self.owner,
            "attached_at": isoformat(self.attached_at),
            "review_every_days": self.review_every_days,
            "next_review": isoformat(self.next_review),
            "in_force_until": isoformat(self.in_force_until),
            "superseded_by": self.superseded_by,
            "in_force_pct": self.in_force_pct,
            "lapsed_in_period": self.lapsed_in_period,
        }


@dataclass
class ManualControlCoverage:
    control_id: str
    title: str
    expected: str
    status: str  # evidenced | partly evidenced | not evidenced
    evidenced_pct: float
    documents: list[DocumentPeriod]  # the documents in force at some time of the period
    intervals: list[tuple[datetime, datetime]]  # when a document was in force, clipped to the period

    @property
    def reason(self) -> str:
        if self.status == EVIDENCED:
            docs = " and ".join(sorted({d.filename for d in self.documents}))
            return f"{self.control_id} was evidenced for the whole period by {docs}"
        if self.status == NOT_EVIDENCED:
            return f"{self.control_id} had no document in force (expected: {self.expected})"
        lapses = [d for d in self.documents if d.lapsed_in_period]
        why = (
            f"the review of {lapses[0].filename} due {fmt_when(lapses[0].next_review)} lapsed"
            if lapses
            else f"first attached {fmt_when(min(d.attached_at for d in self.documents))}"
        )
        return f"{self.control_id} had a document in force for {fmt_pct(self.evidenced_pct)} of the period ({why})"

    def to_dict(self) -> dict[str, Any]:
        return {
            "control_id": self.control_id,
            "title": self.title,
            "expected": self.expected,
            "status": self.status,
            "evidenced_pct": self.evidenced_pct,
            "reason": self.reason,
            "documents": [d.to_dict() for d in self.documents],
            "in_force": [[isoformat(a), isoformat(b)] for a, b in self.intervals],
        }


@dataclass
class Coverage:
    framework: str
    start: datetime
    end: datetime
    sources: dict[str, SourceCoverage]
    checks: dict[str, CheckCoverage]
    requirements: list[dict[str, Any]]
    manual: dict[str, ManualControlCoverage] = field(default_factory=dict)
    unmonitored_threshold_pct: float = UNMONITORED_THRESHOLD_PCT

    def status_counts(self) -> dict[str, int]:
        out = dict.fromkeys(STATUSES, 0)
        for r in self.requirements:
            out[r["status"]] += 1
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "framework": self.framework,
            "from": isoformat(self.start),
            "to": isoformat(self.end),
            "unmonitored_threshold_pct": self.unmonitored_threshold_pct,
            "statuses": self.status_counts(),
            "sources": [s.to_dict() for s in self.sources.values()],
            "checks": [c.to_dict() for c in self.checks.values()],
            "manual_controls": [m.to_dict() for m in self.manual.values()],
            "requirements": self.requirements,
        }


def _pct(part: timedelta, whole: timedelta) -> float:
    return round(100 * part / whole, 2) if whole > timedelta(0) else 0.0


# -- manual documents ----------------------------------------------------------------------------


def _get(row: Any, key: str) -> Any:
    return row[key] if isinstance(row, Mapping) else getattr(row, key)


def _utc(at: datetime) -> datetime:
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at


def documents_in_force(rows: Iterable[Any], start: datetime, end: datetime) -> list[DocumentPeriod]:
    """The manual documents in force at some time of [start, end], with their share of it.

    ``rows``: every manual_evidence row (or record) attached up to ``end`` at least: a document's time
    in force ends at the next attachment to its control, so the later rows matter too."""
    by_control: dict[str, list[Any]] = {}
    for r in rows:
        by_control.setdefault(str(_get(r, "control_id")), []).append(r)
    span = end - start
    out: list[DocumentPeriod] = []
    for docs in by_control.values():
        docs.sort(key=lambda r: (_time(_get(r, "attached_at")), int(_get(r, "id"))))
        for i, r in enumerate(docs):
            attached, review = _time(_get(r, "attached_at")), _time(_get(r, "next_review"))
            nxt = docs[i + 1] if i + 1 < len(docs) else None
            until, superseded = review, None
            if nxt is not None and _time(_get(nxt, "attached_at")) < review:
                until, superseded = _time(_get(nxt, "attached_at")), int(_get(nxt, "id"))
            if attached > end or until <= start or until <= attached:
                continue  # never in force inside the period (or replaced the moment it was attached)
            overlap = min(until, end) - max(attached, start)
            out.append(
                DocumentPeriod(
                    id=int(_get(r, "id")),
                    control_id=str(_get(r, "control_id")),
                    filename=str(_get(r, "filename")),
                    sha256=str(_get(r, "sha256")),
                    owner=str(_get(r, "owner")),
                    attached_at=attached,
                    review_every_days=int(_get(r, "review_every_days")),
                    next_review=review,
                    in_force_until=until,
                    superseded_by=superseded,
                    in_force_pct=_pct(overlap, span),
                    lapsed_in_period=superseded is None and start < review < end,
                )
            )
    return sorted(out, key=lambda d: (d.control_id, d.attached_at, d.id))


def _union_length(intervals: list[tuple[datetime, datetime]]) -> timedelta:
    total, cur = timedelta(0), None
    for a, b in sorted(intervals):
        if cur is None or a > cur[1]:
            if cur is not None:
                total += cur[1] - cur[0]
            cur = (a, b)
        else:
            cur = (cur[0], max(cur[1], b))
    return total + (cur[1] - cur[0] if cur else timedelta(0))


def _intersect(
    a: list[tuple[datetime, datetime]], b: list[tuple[datetime, datetime]]
) -> list[tuple[datetime, datetime]]:
    out = []
    for x0, x1 in a:
        for y0, y1 in b:
            lo, hi = max(x0, y0), min(x1, y1)
            if lo < hi:
                out.append((lo, hi))
    return sorted(out)


def _evidence_status(covered: timedelta, span: timedelta) -> str:
    if span > timedelta(0) and covered >= span:
        return EVIDENCED
    return PARTLY_EVIDENCED if covered > timedelta(0) else NOT_EVIDENCED


def _manual_control(
    control: ScopeControl, docs: list[DocumentPeriod], start: datetime, end: datetime
) -> ManualControlCoverage:
    intervals = sorted((max(d.attached_at, start), min(d.in_force_until, end)) for d in docs)
    intervals = [(a, b) for a, b in intervals if a < b]
    covered = _union_length(intervals)
    return ManualControlCoverage(
        control.id,
        control.title,
        control.evidence or "a document",
        _evidence_status(covered, end - start),
        _pct(covered, end - start),
        docs,
        intervals,
    )


# -- automated checks ----------------------------------------------------------------------------


def _gaps(source: str, times: list[datetime], start: datetime, end: datetime, interval: timedelta) -> list[Gap]:
    """Stretches longer than twice the interval without a successful collection (edges included)."""
    out: list[Gap] = []
    prev = start
    for at in [*times, end]:
        if at - prev > 2 * interval:
            out.append(Gap(source, prev, at))
        prev = max(prev, at)
    return out


def _infer_interval(times: list[datetime]) -> timedelta:
    deltas = [b - a for a, b in zip(times, times[1:], strict=False) if b > a]
    return sorted(deltas)[len(deltas) // 2] if deltas else DEFAULT_INTERVAL  # the median gap


@dataclass(frozen=True)
class ScopeControl:
    id: str
    title: str
    automated: bool
    evidence: str | None = None


@dataclass(frozen=True)
class ScopeRequirement:
    ref: str
    title: str
    controls: tuple[str, ...]
    checks: tuple[str, ...]  # the checks whose findings decide it (its automated controls' checks)


@dataclass(frozen=True)
class Scope:
    """The framework as a bundle states it (``framework.json``): the requirements in scope, the common
    controls they rely on and the checks that decide them. The agent writes it from its mappings; an
    auditor can pin its SHA-256 like a key fingerprint."""

    id: str
    name: str
    version: str
    categories: tuple[str, ...]
    requirements: tuple[ScopeRequirement, ...]
    controls: Mapping[str, ScopeControl]

    def to_dict(self) -> dict[str, Any]:
        return {
            "framework": self.id,
            "name": self.name,
            "version": self.version,
            "categories": list(self.categories),
            "requirements": [
                {"ref": r.ref, "title": r.title, "controls": list(r.controls), "checks": list(r.checks)}
                for r in self.requirements
            ],
            "controls": {
                c.id: {"title": c.title, "kind": "automated" if c.automated else "manual", "evidence": c.evidence}
                for c in sorted(self.controls.values(), key=lambda c: c.id)
            },
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Scope:
        """Raises KeyError, TypeError or ValueError on a document of the wrong shape."""
        controls = {
            str(cid): ScopeControl(
                str(cid),
                str(c["title"]),
                {"automated": True, "manual": False}[c["kind"]],
                None if c.get("evidence") is None else str(c["evidence"]),
            )
            for cid, c in dict(data["controls"]).items()
        }
        reqs = tuple(
            ScopeRequirement(
                str(r["ref"]), str(r["title"]), tuple(str(x) for x in r["controls"]), tuple(str(x) for x in r["checks"])
            )
            for r in data["requirements"]
        )
        return cls(
            str(data["framework"]),
            str(data["name"]),
            str(data["version"]),
            tuple(str(x) for x in data["categories"]),
            reqs,
            controls,
        )


def _time(value: Any) -> datetime:
    """A record's time: a datetime (naive taken as UTC) or its ISO 8601 string."""
    if isinstance(value, datetime):
        return _utc(value)
    return _utc(datetime.fromisoformat(str(value).replace("Z", "+00:00")))


def compute(
    scope: Scope,
    *,
    start: datetime,
    end: datetime,
    runs: Iterable[Mapping[str, Any]],
    events: Iterable[Mapping[str, Any]],
    carried: Iterable[Mapping[str, Any]] = (),
    exceptions: Iterable[Mapping[str, Any]] = (),
    documents: Iterable[Mapping[str, Any]] = (),
    now: datetime | None = None,
    intervals: Mapping[str, timedelta] | None = None,
    unmonitored_threshold_pct: float = UNMONITORED_THRESHOLD_PCT,
    start_known: bool = True,
) -> Coverage:
    """The coverage of ``scope`` over [start, min(end, now)] from records (JSON rows or database rows as
    mappings, times as datetimes or ISO strings):

    - ``runs``: source, finished_at, status (every run up to the end; earlier ones only tune the inferred
      collection interval of a source);
    - ``events``: finding events in the order they were written (uid, source, check_id, resource_id,
      status, message, at); those before ``start`` give the state at the start;
    - ``carried``: the findings open at the start whose events are not given (a bundle's baseline): uid,
      source, check_id, resource_id, status, message. A failure among them is ``open_at_start``, its
      detection time unknown to these records and counted from ``start``;
    - ``exceptions``: exception rows (id, check_id, resource_pattern, owner, reason, created_at, expires_at);
    - ``documents``: manual_evidence rows (every one attached up to the end that may have been in force).

    ``start_known``: False when the findings open at the start are not known (history pruned before the
    period): an automated part without failure is then at best partly monitored, never passing.
    """
    start, end = _utc(start), _utc(end)
    end_eff = min(end, _utc(now)) if now else end
    intervals = dict(intervals or {})
    reqs = scope.requirements

    # sources: scheduled vs successful runs, gaps
    sources: dict[str, SourceCoverage] = {}
    by_source: dict[str, list[tuple[datetime, str]]] = {}
    for r in runs:
        at = _time(r["finished_at"])
        if at <= end_eff:
            by_source.setdefault(str(r["source"]), []).append((at, str(r["status"])))
    span = end_eff - start
    for src, rs in sorted(by_source.items()):
        rs.sort()
        ok_all = [at for at, status in rs if status != "failed"]
        interval = intervals.get(src) or _infer_interval(ok_all)
        in_period = [(at, status) for at, status in rs if at >= start]
        ok = [at for at, status in in_period if status != "failed"]
        gaps = _gaps(src, ok, start, end_eff, interval)
        sources[src] = SourceCoverage(
            src,
            interval,
            int(span / interval) if span > timedelta(0) else 0,
            len(ok),
            len(in_period) - len(ok),
            gaps,
            round(100 - _pct(sum((g.duration for g in gaps), timedelta(0)), span), 2),
        )

    ev_rows = [
        _Event(
            str(e["uid"]),
            str(e["source"]),
            str(e["check_id"]),
            str(e["resource_id"]),
            str(e["status"]),
            str(e["message"]),
            start,
            True,
        )
        for e in sorted(carried, key=lambda e: str(e["uid"]))
    ]
    for row in events:
        at = _time(row["at"])
        if at <= end_eff:
            ev_rows.append(
                _Event(
                    str(row["uid"]),
                    str(row["source"]),
                    str(row["check_id"]),
                    str(row["resource_id"]),
                    str(row["status"]),
                    str(row["message"]),
                    at,
                    False,
                )
            )
    exc_rows = sorted(
        (x for x in exceptions if _time(x["created_at"]) < end_eff and _time(x["expires_at"]) > start),
        key=lambda x: int(x["id"]),
    )

    # per check: replay finding events into per-check state changes and failure episodes
    check_ids = {c for r in reqs for c in r.checks}
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
            open_fail[e.uid] = Failure(e.check_id, e.resource_id, e.at, None, e.message, e.carried or e.at < start)
        elif e.status not in FAILING and e.status != "error" and e.uid in open_fail:
            f = open_fail.pop(e.uid)
            if e.at >= start:
                failures.setdefault(e.check_id, []).append(
                    Failure(f.check_id, f.resource_id, f.detected_at, e.at, f.message, f.open_at_start)
                )
        after = check_state(e.check_id)
        if after != before:
            changes.setdefault(e.check_id, []).append((e.at, after))
    for f in open_fail.values():
        failures.setdefault(f.check_id, []).append(f)

    for src in sorted({s for srcs in srcs_of.values() for s in srcs} - set(sources)):
        # findings of a source without a run in these records: none of the period was monitored
        sources[src] = SourceCoverage(
            src,
            DEFAULT_INTERVAL,
            int(span / DEFAULT_INTERVAL) if span > timedelta(0) else 0,
            0,
            0,
            _gaps(src, [], start, end_eff, DEFAULT_INTERVAL),
            0.0 if span > timedelta(0) else 100.0,
        )
    checks: dict[str, CheckCoverage] = {}
    for chk in sorted(check_ids):
        srcs = sorted(srcs_of.get(chk, ()))
        gaps = [g for s in srcs for g in sources[s].gaps] if srcs else []
        timeline = _clip(changes.get(chk, []), start, end_eff)
        effective = _effective(timeline, gaps, start, end_eff)
        totals = _durations(effective, end_eff)
        excs = [
            {
                "id": x["id"],
                "check_id": chk,
                "resource_pattern": x["resource_pattern"],
                "owner": x["owner"],
                "reason": x["reason"],
                "from": isoformat(_time(x["created_at"])),
                "until": isoformat(_time(x["expires_at"])),
            }
            for x in exc_rows
            if x["check_id"] == chk
        ]
        checks[chk] = CheckCoverage(
            chk,
            srcs,
            _pct(totals["pass"], span),
            _pct(totals["fail"], span),
            _pct(totals["error"], span),
            _pct(totals["unmonitored"] + totals["no_data"], span),
            sorted(failures.get(chk, []), key=lambda f: (f.detected_at, f.resource_id)),
            excs,
            timeline,
            effective,
        )

    # manual controls: the documents in force during the period
    docs = documents_in_force(documents, start, end_eff)
    manual_ids = sorted(
        {c for r in reqs for c in r.controls if c in scope.controls and not scope.controls[c].automated}
    )
    manual = {
        cid: _manual_control(scope.controls[cid], [d for d in docs if d.control_id == cid], start, end_eff)
        for cid in manual_ids
    }

    cache: dict[tuple[str, ...], dict[str, timedelta]] = {}
    requirements = [
        _requirement(r, scope, checks, sources, manual, start, end_eff, unmonitored_threshold_pct, cache, start_known)
        for r in reqs
    ]
    return Coverage(scope.id, start, end_eff, sources, checks, requirements, manual, unmonitored_threshold_pct)


@dataclass(frozen=True, slots=True)
class _Event:
    uid: str
    source: str
    check_id: str
    resource_id: str
    status: str
    message: str
    at: datetime
    carried: bool  # open at the start, from a baseline: its detection time is not in the records


def _clip(points: list[tuple[datetime, str]], start: datetime, end: datetime) -> list[tuple[datetime, str]]:
    """State change points from ``start`` (state at start carried in) up to ``end``."""
    state, out = "no_data", []
    for at, s in points:
        if at <= start:
            state = s
        elif at < end:
            out.append((at, s))
    return [(start, state), *out]


def _merged(gaps: list[Gap], start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """The gaps of several sources clipped to the period, overlapping ones merged, in order."""
    out: list[tuple[datetime, datetime]] = []
    for a, b in sorted((max(g.start, start), min(g.end, end)) for g in gaps):
        if a >= b:
            continue
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def _effective(
    timeline: list[tuple[datetime, str]], gaps: list[Gap], start: datetime, end: datetime
) -> list[tuple[datetime, str]]:
    """The check's state from ``start`` to ``end`` as change points, time inside a gap of any of its
    sources shown as ``unmonitored``."""
    spans = _merged(gaps, start, end)
    cuts = sorted({start, end, *(a for a, _ in timeline), *(x for sp in spans for x in sp)})
    out: list[tuple[datetime, str]] = []
    idx = gi = 0
    state = timeline[0][1] if timeline else "no_data"
    for a, b in zip(cuts, cuts[1:], strict=False):
        while idx < len(timeline) and timeline[idx][0] <= a:
            state = timeline[idx][1]
            idx += 1
        while gi < len(spans) and spans[gi][1] <= a:
            gi += 1
        s = "unmonitored" if gi < len(spans) and spans[gi][0] <= a and b <= spans[gi][1] else state
        if not out or out[-1][1] != s:
            out.append((a, s))
    return out


def _durations(effective: list[tuple[datetime, str]], end: datetime) -> dict[str, timedelta]:
    out = {k: timedelta(0) for k in _RANK}
    for (a, s), nxt in zip(effective, [*effective[1:], (end, "")], strict=False):  # empty for an empty period
        out[s] += nxt[0] - a
    return out


def _worst(timelines: list[list[tuple[datetime, str]]], start: datetime) -> list[tuple[datetime, str]]:
    """The worst state of several effective timelines at each instant, as change points."""
    if not timelines:
        return []
    points = sorted((at, i, st) for i, tl in enumerate(timelines) for at, st in tl)
    cur = ["no_data"] * len(timelines)
    count = dict.fromkeys(_RANK, 0)
    count["no_data"] = len(timelines)
    by_rank = sorted(_RANK, key=_RANK.__getitem__, reverse=True)
    out: list[tuple[datetime, str]] = []
    n = 0
    while n < len(points):
        at = points[n][0]
        while n < len(points) and points[n][0] == at:  # every change at this instant, then the worst
            _, i, st = points[n]
            count[cur[i]] -= 1
            count[st] += 1
            cur[i] = st
            n += 1
        worst = next(s for s in by_rank if count[s])
        if not out or out[-1][1] != worst:
            out.append((max(at, start), worst))
    return out


# -- requirements --------------------------------------------------------------------------------


def _automated_part(
    chks: list[CheckCoverage],
    start: datetime,
    end: datetime,
    threshold: float,
    cache: dict[tuple[str, ...], dict[str, timedelta]],
    start_known: bool = True,
) -> dict[str, Any]:
    span = end - start
    monitored = [c for c in chks if c.sources]
    key = tuple(c.check_id for c in monitored)
    if monitored and key not in cache:  # requirements often share their monitored checks
        cache[key] = _durations(_worst([c.effective for c in monitored], start), end)
    totals = cache[key] if monitored else None
    fails = [f for c in chks for f in c.failures]
    part: dict[str, Any] = {"checks": [c.check_id for c in chks], "monitored_checks": [c.check_id for c in monitored]}
    if totals is None:
        part.update(pass_pct=0.0, fail_pct=0.0, error_pct=0.0, unmonitored_pct=100.0 if chks else None)
    else:
        part.update(
            pass_pct=_pct(totals["pass"], span),
            fail_pct=_pct(totals["fail"], span),
            error_pct=_pct(totals["error"], span),
            unmonitored_pct=_pct(totals["unmonitored"] + totals["no_data"], span),
        )
    open_n = sum(1 for f in fails if f.fixed_at is None)
    unverified = (part["unmonitored_pct"] or 0.0) + part["error_pct"]
    if not chks:
        status, reason = A_NOT_ASSESSED, "no check of this framework's providers tests it"
    elif fails or part["fail_pct"] > 0:
        status = A_FAILING
        reason = (
            f"{len(fails)} failure{'s' if len(fails) != 1 else ''} in the period"
            + (f", {open_n} still open" if open_n else ", all remediated")
            + f"; failing {fmt_pct(part['fail_pct'])} of the period"
        )
    elif not monitored or part["pass_pct"] <= 0:
        status = A_NONE
        reason = (
            "no check result during the period"
            if not part["error_pct"]
            else f"no passing result during the period ({fmt_pct(part['error_pct'])} of it in error)"
        )
    elif unverified > threshold:
        status = A_PARTLY
        reason = (
            f"no failure, but {fmt_pct(unverified)} of the period was not verified (unmonitored or in "
            f"error), above the {fmt_pct(threshold)} threshold"
        )
    else:
        status = A_PASSING
        reason = "passing for the whole monitored period" + (
            f"; {fmt_pct(unverified)} not verified, within the {fmt_pct(threshold)} threshold" if unverified else ""
        )
    if status == A_PASSING and not start_known:
        status = A_PARTLY
        reason = (
            "no failure seen, but the findings open when the period started are not in the records (history "
            "pruned before it): a failure open since before the period and unchanged would not show"
        )
    part.update(status=status, reason=reason)
    return part


def _manual_part(controls: list[ManualControlCoverage], start: datetime, end: datetime) -> dict[str, Any]:
    span = end - start
    together = controls[0].intervals if controls else []
    for m in controls[1:]:
        together = _intersect(together, m.intervals)
    covered = _union_length(together)
    status = _evidence_status(covered, span)
    issues = "; ".join(m.reason for m in controls if m.status != EVIDENCED)
    if status == EVIDENCED:
        reason = "every manual control had a document in force for the whole period"
    elif status == PARTLY_EVIDENCED:
        reason = (
            f"documents in force for every manual control during {fmt_pct(_pct(covered, span))} of the period; {issues}"
        )
    elif all(m.status != NOT_EVIDENCED for m in controls):
        reason = f"never a document in force for every manual control at once; {issues}"
    else:
        reason = issues
    return {
        "status": status,
        "evidenced_pct": _pct(covered, span),
        "reason": reason,
        "controls": [m.control_id for m in controls],
        "documents": sorted({d.id for m in controls for d in m.documents}),
    }


def _combine(automated: dict[str, Any] | None, manual: dict[str, Any] | None) -> tuple[str, str]:
    parts = [p for p in (automated, manual) if p is not None and p["status"] != A_NOT_ASSESSED]
    reasons = [
        f"{name}: {p['reason']}"
        for name, p in (("Automated", automated), ("Manual", manual))
        if p is not None and p["status"] != A_NOT_ASSESSED
    ]
    reason = ". ".join(reasons) + "." if reasons else ""
    if not parts:
        return NOT_ASSESSED_S, reason or "No control of posture-agent covers this criterion; assess it separately."
    statuses = {p["status"] for p in parts}
    if A_FAILING in statuses:
        return FAILING_S, reason
    if statuses & {NOT_EVIDENCED, A_NONE}:
        return NOT_EVIDENCED_S, reason
    if statuses & {PARTLY_EVIDENCED, A_PARTLY}:
        return PARTLY_S, reason
    return PASSING_S, reason


def _requirement(
    req: ScopeRequirement,
    scope: Scope,
    checks: dict[str, CheckCoverage],
    sources: dict[str, SourceCoverage],
    manual: dict[str, ManualControlCoverage],
    start: datetime,
    end: datetime,
    threshold: float,
    cache: dict[tuple[str, ...], dict[str, timedelta]],
    start_known: bool = True,
) -> dict[str, Any]:
    ctrls = [scope.controls[c] for c in req.controls if c in scope.controls]
    has_auto, has_manual = any(c.automated for c in ctrls), any(not c.automated for c in ctrls)
    kind = "unsupported" if not ctrls else "mixed" if has_auto and has_manual else "automated" if has_auto else "manual"
    chks = [checks[c] for c in req.checks if c in checks]
    srcs = sorted({s for c in chks for s in c.sources})
    fails = [f for c in chks for f in c.failures]
    ttrs = [f.time_to_remediate.total_seconds() / 3600 for f in fails if f.time_to_remediate is not None]
    automated = _automated_part(chks, start, end, threshold, cache, start_known) if has_auto else None
    man = _manual_part([manual[c.id] for c in ctrls if not c.automated], start, end) if has_manual else None
    status, reason = _combine(automated, man)
    return {
        "requirement": req.ref,
        "title": req.title,
        "kind": kind,
        "status": status,
        "reason": reason,
        "automated": automated,
        "manual": man,
        "checks": [c.check_id for c in chks],
        "runs_scheduled": sum(sources[s].scheduled for s in srcs),
        "runs_succeeded": sum(sources[s].succeeded for s in srcs),
        "gaps": sum(len(sources[s].gaps) for s in srcs),
        "gap_hours": round(sum(g.duration.total_seconds() for s in srcs for g in sources[s].gaps) / 3600, 2),
        # the requirement passes only while all its monitored checks pass (worst state at each instant);
        # None when it has no automated part: nothing was measured
        "pass_pct": automated["pass_pct"] if automated else None,
        "unmonitored_pct": automated["unmonitored_pct"] if automated else None,
        "automated_status": automated["status"] if automated else None,
        "manual_status": man["status"] if man else None,
        "evidenced_pct": man["evidenced_pct"] if man else None,
        "failures": len(fails),
        "open_failures": sum(1 for f in fails if f.fixed_at is None),
        "mean_hours_to_remediate": round(sum(ttrs) / len(ttrs), 2) if ttrs else None,
        "max_hours_to_remediate": round(max(ttrs), 2) if ttrs else None,
        "exceptions": sum(len(c.exceptions) for c in chks),
        "manual_controls": [c.id for c in ctrls if not c.automated],
    }

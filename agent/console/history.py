"""The posture history strip: each requirement's status at the end of each day of a period, by the
same evaluation as the posture page (agent/posture.py) over the findings as they stood then, replayed
in one pass (agent/store/console_evidence_reads.py). At most MAX_DAYS days, so the page stays fast."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from agent.console.app import PageContext
from agent.console.params import Params, bad
from agent.posture import evaluate_posture
from agent.store import manual
from agent.store.console_evidence_reads import finding_states_at

__all__ = ["DEFAULT_DAYS", "MAX_DAYS", "Day", "history"]

MAX_DAYS = 92
DEFAULT_DAYS = 14


@dataclass(frozen=True)
class Day:
    day: date
    status: str  # the requirement's status at the end of the day (or at the state time, on its day)


def _bounds(ctx: PageContext, p: Params) -> tuple[datetime, datetime]:
    """[start, end) of whole days: the days asked for, or the last DEFAULT_DAYS up to the state time
    (within an auditor's period)."""
    last = datetime.combine(ctx.viewer.state_time.date(), time(), UTC) + timedelta(days=1)
    fallback = (last - timedelta(days=DEFAULT_DAYS), last)
    own = ctx.viewer.user.period
    if own is not None:
        fallback = (max(own[0], fallback[0]), min(own[1], fallback[1]))
    start, end = p.span(fallback)
    ctx.viewer.period(start, end)
    if end - start > timedelta(days=MAX_DAYS):
        raise bad(f"to: the history covers at most {MAX_DAYS} days")
    return start, end


def history(ctx: PageContext, p: Params, framework: str) -> tuple[datetime, datetime, dict[str, list[Day]]]:
    """The period shown and, per requirement ref, its status on each day of it up to the state time."""
    start, end = _bounds(ctx, p)
    at = ctx.viewer.state_time
    days: list[date] = []
    moments: list[datetime] = []
    day = start
    while day < end and day <= at:
        days.append(day.date())
        moments.append(min(day + timedelta(days=1) - timedelta(microseconds=1), at))
        day += timedelta(days=1)
    fw = ctx.mappings.framework(framework)
    reqs = fw.in_scope(ctx.settings.categories)
    checks = {c for r in reqs for c in ctx.mappings.requirement_checks(r)}
    states = finding_states_at(ctx.store, checks, moments)
    evidence = [e for e in manual.list_evidence(ctx.store) if e.attached_at <= at]
    out: dict[str, list[Day]] = {r.ref: [] for r in reqs}
    last: tuple[object, tuple[tuple[int, bool], ...]] | None = None
    statuses: list[tuple[str, str]] = []
    for d, moment, findings in zip(days, moments, states, strict=True):
        attached = [e for e in evidence if e.attached_at <= moment]
        # the same findings (a day without events shares its list) and documents in the same review
        # state: the same statuses as the day before, without evaluating again
        key = (findings, tuple((e.id, moment > e.next_review) for e in attached))
        if last is None or key[0] is not last[0] or key[1] != last[1]:
            posture = evaluate_posture(
                ctx.mappings,
                findings,
                attached,
                frameworks=(framework,),
                categories=ctx.settings.categories,
                now=moment,
            )
            statuses = [(rs.requirement.ref, rs.status) for rs in posture.requirements[framework]]
            last = key
        for ref, status in statuses:
            out.setdefault(ref, []).append(Day(d, status))
    return start, end, out

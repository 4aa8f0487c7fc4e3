"""The coverage and gaps page: for a framework and a period, per source its runs and the times the
agent collected nothing (downtime), per criterion its status and why. The numbers are those of
`posture-agent evidence coverage` (agent/evidence/coverage.py), computed the same way."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from starlette.responses import Response

from agent.console.app import PageContext
from agent.console.params import Params, bad
from agent.evidence.coverage import compute_coverage, fmt_duration, fmt_pct
from agent.store.run_times import first_run_at

__all__ = ["coverage"]

MAX_DAYS = 400  # a year's audit with room; the computation reads every run and event up to the end


def coverage(ctx: PageContext) -> Response:
    p = Params(ctx.request.query_params, ("framework", "from", "to"))
    if not ctx.viewer.frameworks:
        raise bad("no framework is in scope")
    framework = ctx.viewer.framework(p.text("framework") or ctx.viewer.frameworks[0])
    now = ctx.viewer.now
    today = datetime.combine(now.date(), time(), UTC)
    # by default since the first run (the time before the agent ran is no gap), at most 30 days back
    first = first_run_at(ctx.store)
    fallback = (max(first, today - timedelta(days=29)) if first else today - timedelta(days=29), now)
    start, end = p.span(ctx.viewer.default_period(fallback))
    ctx.viewer.period(start, end)
    if end - start > timedelta(days=MAX_DAYS):
        raise bad(f"to: a period of at most {MAX_DAYS} days")
    cov = compute_coverage(ctx.store, ctx.mappings, framework, start, end, now=min(now, end))
    sources = cov.sources
    if ctx.viewer.auditor:  # only the sources behind their framework's checks
        used = {s for c in cov.checks.values() for s in c.sources}
        sources = {k: v for k, v in sources.items() if k in used}
    return ctx.render(
        "coverage.html",
        active="coverage",
        framework=framework,
        frameworks=ctx.viewer.frameworks,
        start=start,
        last_day=(end - timedelta(seconds=1)).date(),
        until=cov.end,
        sources=sorted(sources.values(), key=lambda s: s.source),
        requirements=cov.requirements,
        statuses=cov.status_counts(),
        checks=cov.checks,
        pct=fmt_pct,
        duration=fmt_duration,
    )

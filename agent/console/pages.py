"""The console's pages: posture, findings, resource, drift, devices (the evidence page and its export
form are in evidence_pages). Each reads the store through agent/store/console_reads.py (and the
posture evaluation the CLI and the evidence export use), checks its query string first
(agent/console/params.py) and what the viewer may see (agent/console/access.py)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from math import ceil
from urllib.parse import urlencode

from starlette.exceptions import HTTPException
from starlette.responses import RedirectResponse, Response

from agent.console.app import Action, Page, PageContext
from agent.console.coverage_page import coverage
from agent.console.evidence_pages import evidence, export
from agent.console.history import MAX_DAYS, history
from agent.console.params import Params, bad
from agent.drift import DRIFT_KINDS
from agent.models import Severity, Status
from agent.posture import evaluate_posture
from agent.store import manual
from agent.store.console_reads import (
    FindingFilter,
    drift_feed,
    endpoint_devices,
    filter_choices,
    findings_page,
    resource_body,
    resource_drift,
)

__all__ = ["ACTIONS", "PAGES"]

PAGE_SIZE = 50
DRIFT_PAGE_SIZE = 100
STATUSES = tuple(s.value for s in Status)
SEVERITIES = tuple(s.value for s in Severity)


def home(ctx: PageContext) -> Response:
    Params(ctx.request.query_params, ())
    return RedirectResponse(ctx.base + "/posture", status_code=303)


def posture(ctx: PageContext) -> Response:
    p = Params(ctx.request.query_params, ("framework", "from", "to"))
    if not ctx.viewer.frameworks:
        raise HTTPException(403, "no framework in scope for you")
    framework = ctx.viewer.framework(p.text("framework") or ctx.viewer.frameworks[0])
    at = ctx.viewer.as_of
    fw = ctx.mappings.framework(framework)
    checks = frozenset(c for r in fw.in_scope(ctx.settings.categories) for c in ctx.mappings.requirement_checks(r))
    rows, _ = findings_page(ctx.store, FindingFilter(checks_in=checks), as_of=at, offset=0, limit=10**9)
    evidence = [e for e in manual.list_evidence(ctx.store) if at is None or e.attached_at <= at]
    state = evaluate_posture(
        ctx.mappings,
        rows,
        evidence,
        frameworks=(framework,),
        categories=ctx.settings.categories,
        now=ctx.viewer.state_time,
    )
    start, end, days = history(ctx, p, framework)
    return ctx.render(
        "posture.html",
        active="posture",
        framework=fw,
        frameworks=ctx.viewer.frameworks,
        requirements=state.requirements[framework],
        summary=state.summary(framework),
        at=ctx.viewer.state_time,
        history=days,
        start=start,
        last_day=(end - timedelta(seconds=1)).date(),
        max_days=MAX_DAYS,
    )


def findings(ctx: PageContext) -> Response:
    p = Params(ctx.request.query_params, ("status", "severity", "provider", "account", "check", "requirement", "page"))
    flt = FindingFilter(
        status=p.choices("status", STATUSES),
        severity=p.choices("severity", SEVERITIES),
        provider=p.texts("provider"),
        account=p.texts("account"),
        check=p.texts("check"),
        checks_in=ctx.viewer.checks,
    )
    for check in flt.check:
        ctx.viewer.check(check)
    ref = p.text("requirement")
    requirement = None
    if ref is not None:
        requirement = ctx.mappings.requirement(ref)
        if requirement is None:
            raise bad(f"requirement: unknown requirement {ref[:60]!r} (e.g. SOC2:CC6.1)")
        if ctx.viewer.auditor:
            ctx.viewer.framework(requirement.framework)
        wanted = frozenset(ctx.mappings.requirement_checks(requirement))
        flt = replace(flt, checks_in=wanted & ctx.viewer.checks if ctx.viewer.checks is not None else wanted)
    page = p.page()
    rows, total = findings_page(ctx.store, flt, as_of=ctx.viewer.as_of, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    pages = max(1, ceil(total / PAGE_SIZE))
    if page > pages:
        raise bad(f"page: there are {pages} pages of findings for these filters")
    query = [(k, v) for k, v in ctx.request.query_params.multi_items() if k != "page" and v]
    return ctx.render(
        "findings.html",
        active="findings",
        rows=rows,
        total=total,
        page=page,
        pages=pages,
        query=urlencode(query),
        selected=flt,
        requirement=requirement,
        choices=filter_choices(ctx.store, ctx.viewer.checks),
        statuses=STATUSES,
        severities=SEVERITIES,
        at=ctx.viewer.state_time,
    )


def resource(ctx: PageContext) -> Response:
    p = Params(ctx.request.query_params, ("id",))
    rid = p.text("id")
    if rid is None:
        raise bad("id: give the resource id (?id=...)")
    at = ctx.viewer.as_of
    rows, _ = findings_page(
        ctx.store, FindingFilter(resource=rid, checks_in=ctx.viewer.checks), as_of=at, offset=0, limit=1000
    )
    start = ctx.viewer.user.period[0] if ctx.viewer.user.period else None
    drift = resource_drift(ctx.store, rid, start, at, 500)
    if ctx.viewer.checks is not None:
        drift = [d for d in drift if not d["check_id"] or d["check_id"] in ctx.viewer.checks]
        if not rows:
            raise HTTPException(403, "this resource has no findings of the checks behind your frameworks")
    places = list(
        dict.fromkeys([(r["source"], r["account"]) for r in rows] + [(d["source"], d["account"]) for d in drift])
    )
    body = resource_body(ctx.store, rid, places, at)
    if body is None and not rows and not drift:
        raise HTTPException(404, "no resource with this id in the store")
    return ctx.render(
        "resource.html", active="findings", rid=rid, body=body, rows=rows, drift=drift, at=ctx.viewer.state_time
    )


def drift(ctx: PageContext) -> Response:
    p = Params(ctx.request.query_params, ("from", "to", "kind", "page"))
    now = ctx.viewer.now
    default = ctx.viewer.default_period((now - timedelta(days=7), now + timedelta(seconds=1)))
    start, end = p.span(default)
    ctx.viewer.period(start, end)
    kinds = p.choices("kind", DRIFT_KINDS)
    page = p.page()
    rows = drift_feed(
        ctx.store,
        start,
        end,
        kinds=kinds,
        checks_in=ctx.viewer.checks,
        offset=(page - 1) * DRIFT_PAGE_SIZE,
        limit=DRIFT_PAGE_SIZE + 1,
    )
    more = len(rows) > DRIFT_PAGE_SIZE
    query = [(k, v) for k, v in ctx.request.query_params.multi_items() if k != "page" and v]
    return ctx.render(
        "drift.html",
        active="drift",
        rows=rows[:DRIFT_PAGE_SIZE],
        more=more,
        page=page,
        query=urlencode(query),
        start=start,
        last_day=(end - timedelta(seconds=1)).date(),
        kinds=DRIFT_KINDS,
        selected=kinds,
    )


CHECKED_IN = "endpoint.device.checked_in"
MAX_DEVICES = 100_000


def devices(ctx: PageContext) -> Response:
    """A check-in time is an observation, not kept in the stored body (docs/evidence.md): the last
    check-in shown is what the check-in check recorded when its finding last changed."""
    Params(ctx.request.query_params, ())
    flt = FindingFilter(check=(CHECKED_IN,), checks_in=ctx.viewer.checks)
    checkins, _ = findings_page(ctx.store, flt, as_of=ctx.viewer.as_of, offset=0, limit=MAX_DEVICES)
    return ctx.render(
        "devices.html",
        active="devices",
        devices=endpoint_devices(ctx.store, ctx.viewer.as_of),
        checkins={(r["source"], r["resource_id"]): r for r in checkins},
        at=ctx.viewer.state_time,
    )


PAGES: dict[str, Page] = {
    "/": home,
    "/posture": posture,
    "/findings": findings,
    "/resource": resource,
    "/drift": drift,
    "/devices": devices,
    "/evidence": evidence,
    "/coverage": coverage,
}
ACTIONS: dict[str, Action] = {"/evidence/export": export}

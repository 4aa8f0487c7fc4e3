"""The evidence page (manual documents and their reviews, exceptions, checkpoints and their witnesses)
and its export form: the period's bundle, written by agent/evidence/export.py exactly as `posture-agent
evidence export --config` writes it (the same signer and witnesses), handed back as a download."""

from __future__ import annotations

import shutil
import tempfile
import threading
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from starlette.background import BackgroundTask
from starlette.datastructures import QueryParams
from starlette.responses import FileResponse, Response

from agent.console.app import PageContext
from agent.console.params import Params, bad
from agent.store import manual
from agent.store.console_evidence_reads import checkpoints_in, exceptions_in

__all__ = ["evidence", "export"]

CHECKPOINTS_SHOWN = 50
EXPORT_FIELDS = ("framework", "from", "to")
_EXPORTS = threading.BoundedSemaphore(1)  # one bundle at a time: each reads the whole period


def _period(ctx: PageContext, p: Params) -> tuple[datetime, datetime]:
    """The period asked for (whole UTC days), by default the auditor's or the last 30 days."""
    today = datetime.combine(ctx.viewer.now.date(), time(), UTC)
    start, end = p.span(ctx.viewer.default_period((today - timedelta(days=29), today + timedelta(days=1))))
    ctx.viewer.period(start, end)
    return start, end


def _controls(ctx: PageContext, framework: str) -> set[str]:
    """The controls behind the framework's requirements in scope: the documents an auditor may see."""
    fw = ctx.mappings.framework(framework)
    return {c for r in fw.in_scope(ctx.settings.categories) for c in r.controls}


def evidence(ctx: PageContext) -> Response:
    p = Params(ctx.request.query_params, ("framework", "from", "to"))
    if not ctx.viewer.frameworks:
        raise bad("no framework is in scope")
    framework = ctx.viewer.framework(p.text("framework") or ctx.viewer.frameworks[0])
    start, end = _period(ctx, p)
    at = ctx.viewer.state_time
    docs = [d for d in manual.list_evidence(ctx.store) if d.attached_at <= at]
    if ctx.viewer.auditor:
        allowed = _controls(ctx, framework)
        docs = [d for d in docs if d.control_id in allowed]
    in_force = {d.id for d in manual.latest_by_control(docs).values()}
    documents = sorted(docs, key=lambda d: (d.id not in in_force, d.next_review, d.id))
    checkpoints, total = checkpoints_in(ctx.store, start, end, CHECKPOINTS_SHOWN)
    return ctx.render(
        "evidence.html",
        active="evidence",
        framework=framework,
        frameworks=ctx.viewer.frameworks,
        start=start,
        last_day=(end - timedelta(seconds=1)).date(),
        at=at,
        documents=documents,
        in_force=in_force,
        overdue={d.id for d in documents if d.id in in_force and d.overdue(at)},
        exceptions=exceptions_in(ctx.store, start, end, ctx.viewer.checks),
        checkpoints=checkpoints,
        checkpoints_total=total,
        signed=ctx.settings.signer is not None,
    )


def _filename(framework: str, start: datetime, last: date) -> str:
    return f"posture-evidence-{framework}-{start.date().isoformat()}-{last.isoformat()}.zip"


def export(ctx: PageContext, form: dict[str, str]) -> Response:
    """The bundle of the form's framework and period (an auditor's within theirs) as a download."""
    from agent.evidence.export import export_bundle

    p = Params(QueryParams(form), EXPORT_FIELDS)
    framework = p.text("framework")
    if framework is None:
        raise bad("framework: choose the framework of the bundle")
    ctx.viewer.framework(framework)
    start, end = _period(ctx, p)
    work = Path(tempfile.mkdtemp(prefix="posture-console-export-"))
    out = work / "bundle.zip"
    try:
        with _EXPORTS:
            export_bundle(
                ctx.store,
                ctx.mappings,
                framework=framework,
                start=start,
                end=end - timedelta(microseconds=1),  # the last day's last instant, as the CLI's --to
                out=out,
                signer=ctx.settings.signer,
                anchors=ctx.settings.anchors,
            )
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    last = (end - timedelta(seconds=1)).date()
    return FileResponse(
        out,
        media_type="application/zip",
        filename=_filename(framework, start, last),
        background=BackgroundTask(shutil.rmtree, work, ignore_errors=True),
    )

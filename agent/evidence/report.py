"""The human-readable report of a bundle: plain HTML, no scripts."""

from __future__ import annotations

from html import escape
from typing import Any

from agent.evidence.coverage import Coverage
from agent.models import isoformat

__all__ = ["html_report"]

_CSS = ("body{font-family:sans-serif;margin:2em;max-width:80em}table{border-collapse:collapse;margin:1em 0}"
        "td,th{border:1px solid #ccc;padding:.25em .5em;text-align:left}th{background:#eee}"
        ".fail{color:#a00}.ok{color:#070}")


def _table(rows: list[dict[str, Any]], cols: list[str]) -> str:
    if not rows:
        return "<p>None.</p>"
    head = "".join(f"<th>{escape(c)}</th>" for c in cols)
    body = "".join("<tr>" + "".join(f"<td>{escape(str(r.get(c, '')) if r.get(c) is not None else '')}</td>"
                                    for c in cols) + "</tr>" for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def html_report(cov: Coverage, *, entries: int, checkpoints: int, manual: list[dict[str, Any]]) -> str:
    reqs = [r for r in cov.requirements if r["kind"] != "unsupported"]
    failures = [f.to_dict() for c in cov.checks.values() for f in c.failures]
    gaps = [g.to_dict() for s in cov.sources.values() for g in s.gaps]
    parts = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(cov.framework)} evidence</title>"
        f"<style>{_CSS}</style></head><body>",
        f"<h1>{escape(cov.framework.upper())} evidence, {isoformat(cov.start)} to {isoformat(cov.end)}</h1>",
        f"<p>{entries} evidence-chain entries, {checkpoints} checkpoints. Verify this bundle offline with "
        "<code>posture-agent evidence verify bundle.zip</code>; see docs/evidence.md.</p>",
        "<h2>Collection coverage</h2>",
        _table([s.to_dict() | {"gaps": len(s.gaps)} for s in cov.sources.values()],
               ["source", "interval_minutes", "runs_scheduled", "runs_succeeded", "runs_failed", "gaps"]),
        "<h2>Monitoring gaps</h2><p>Periods without a successful collection for more than twice the interval, "
        "agent downtime included. They count as unmonitored, never as passing.</p>",
        _table(gaps, ["source", "start", "end", "hours"]),
        "<h2>Requirements</h2>",
        _table(reqs, ["requirement", "title", "kind", "pass_pct", "unmonitored_pct", "runs_succeeded",
                      "runs_scheduled", "gaps", "failures", "open_failures", "mean_hours_to_remediate",
                      "exceptions"]),
        "<h2>Failures and remediation</h2>",
        _table(failures, ["check_id", "resource_id", "detected_at", "fixed_at", "hours_to_remediate", "message"]),
        "<h2>Exceptions in force</h2>",
        _table(list({x["id"]: x for c in cov.checks.values() for x in c.exceptions}.values()),
               ["id", "check_id", "resource_pattern", "owner", "reason", "from", "until"]),
        "<h2>Manual evidence</h2>",
        _table(manual, ["control_id", "filename", "sha256", "owner", "attached_at", "next_review", "file"]),
        "</body></html>",
    ]
    return "\n".join(parts)

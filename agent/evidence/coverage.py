"""Period coverage from the store: the rows of a period gathered for posture_verify.coverage, the pure
computation a bundle's summaries and its verifier share (docs/evidence.md, "How a criterion is judged").

``scope_of`` states a framework of our mappings as a bundle carries it (framework.json): the
requirements in scope, the controls they rely on, and the checks that decide each.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from posture_verify.coverage import (
    UNMONITORED_THRESHOLD_PCT,
    CheckCoverage,
    Coverage,
    DocumentPeriod,
    Failure,
    Gap,
    ManualControlCoverage,
    Scope,
    ScopeControl,
    ScopeRequirement,
    compute,
    documents_in_force,
    fmt_duration,
    fmt_pct,
    fmt_when,
)

from agent.mappings import Mappings
from agent.store import Store
from agent.store.coverage_rows import coverage_rows

__all__ = [
    "CheckCoverage",
    "Coverage",
    "DocumentPeriod",
    "Failure",
    "Gap",
    "ManualControlCoverage",
    "Scope",
    "UNMONITORED_THRESHOLD_PCT",
    "compute_coverage",
    "documents_in_force",
    "fmt_duration",
    "fmt_pct",
    "fmt_when",
    "scope_of",
]


def scope_of(mappings: Mappings, framework: str, categories: tuple[str, ...] = ()) -> Scope:
    """The framework's requirements in scope (SOC 2: of ``categories``, security always; every one when
    none is given), with their controls and deciding checks."""
    fw = mappings.framework(framework)
    reqs = fw.in_scope(categories) if categories else list(fw.requirements)
    used = sorted({c for r in reqs for c in r.controls if c in mappings.controls})
    controls = {
        cid: ScopeControl(
            cid, mappings.controls[cid].title, mappings.controls[cid].automated, mappings.controls[cid].evidence
        )
        for cid in used
    }
    return Scope(
        fw.id,
        fw.name,
        fw.version,
        tuple(categories),
        tuple(ScopeRequirement(r.ref, r.title, tuple(r.controls), mappings.requirement_checks(r)) for r in reqs),
        controls,
    )


def compute_coverage(
    store: Store,
    mappings: Mappings,
    framework: str,
    start: datetime,
    end: datetime,
    *,
    intervals: Mapping[str, timedelta] | None = None,
    categories: tuple[str, ...] = (),
    now: datetime | None = None,
    unmonitored_threshold_pct: float = UNMONITORED_THRESHOLD_PCT,
) -> Coverage:
    """The coverage over every row of the store up to the period's end: the live view of `evidence
    coverage`. (A bundle computes it from its own records: agent/evidence/export.py.)"""
    end_eff = min(end, now) if now else end
    rows = coverage_rows(store, start, end_eff)
    return compute(
        scope_of(mappings, framework, categories),
        start=start,
        end=end,
        now=now,
        runs=rows.runs,
        events=rows.events,
        exceptions=rows.exceptions,
        documents=rows.documents,
        intervals=intervals,
        unmonitored_threshold_pct=unmonitored_threshold_pct,
    )

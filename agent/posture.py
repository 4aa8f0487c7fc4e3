"""Requirement status: mappings + current findings + manual evidence + scope + now. Pure, no I/O.

A control:
  automated: fail if any finding of its checks fails; else error if any errors; else pass if at
             least one finding exists (pass or not_applicable); else no_data.
  manual:    pass while the latest attached evidence is within its review date; fail when it is
             missing or overdue (with the reason).
A requirement (kind automated if any supporting control is automated, manual if its controls are
all manual, unsupported if no control supports it):
  fail if any control fails; else error if any errors; else no_data if none of its automated
  controls has any finding yet; else pass. An automated control with no findings beside others that
  were evaluated does not block (none of the resources it tests exist).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from agent.mappings import ALWAYS_IN_SCOPE, Control, Mappings, Requirement

__all__ = [
    "ControlState",
    "Posture",
    "RequirementState",
    "coverage",
    "evaluate_posture",
    "requirements_in_scope",
    "soc2_categories",
]

PASS, FAIL, ERROR, NO_DATA, UNSUPPORTED = "pass", "fail", "error", "no_data", "unsupported"
AUTOMATED, MANUAL = "automated", "manual"


def soc2_categories(*chosen: Iterable[str]) -> tuple[str, ...]:
    """The SOC 2 categories in scope: security (always in) first, then each chosen one once, in order
    (``chosen``: the config's scope.soc2_categories, the CLI's --category...)."""
    return tuple(dict.fromkeys([ALWAYS_IN_SCOPE, *(c.strip().lower() for group in chosen for c in group)]))


def requirements_in_scope(mappings: Mappings, framework: str, categories: Iterable[str]) -> tuple[Requirement, ...]:
    """The requirements of ``framework`` in scope (SOC 2: of ``categories``, security always in): the one
    definition behind the daemon's posture_requirement_status and the CLI's `controls` and `frameworks`."""
    return tuple(mappings.framework(framework).in_scope(soc2_categories(categories)))


def _get(row: Any, key: str, default: Any = None) -> Any:
    if isinstance(row, Mapping):
        return row.get(key, default)
    return getattr(row, key, default)


@dataclass(frozen=True)
class ControlState:
    control: Control
    status: str
    reason: str
    failing_resources: frozenset[str] = frozenset()
    counts: Mapping[str, int] = field(default_factory=dict)
    evidence: Mapping[str, Any] | None = None
    checks: tuple[str, ...] = ()  # the control's checks that decided this state

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.control.id,
            "title": self.control.title,
            "kind": self.control.kind,
            "status": self.status,
            "reason": self.reason,
            "checks": list(self.checks),
            "failing_resources": len(self.failing_resources),
            "findings": dict(self.counts),
            "evidence": dict(self.evidence) if self.evidence else None,
        }


@dataclass(frozen=True)
class RequirementState:
    requirement: Requirement
    status: str
    kind: str
    controls: tuple[ControlState, ...]

    @property
    def checks(self) -> tuple[str, ...]:
        return tuple(sorted({c for cs in self.controls for c in cs.checks}))

    @property
    def failing_resources(self) -> int:
        return len(frozenset().union(*(cs.failing_resources for cs in self.controls)))

    @property
    def reasons(self) -> list[str]:
        """Why the requirement is not passing: one line per control in trouble."""
        return [f"{cs.control.id}: {cs.reason}" for cs in self.controls if cs.status in (FAIL, ERROR)]

    def to_dict(self) -> dict[str, Any]:
        r = self.requirement
        return {
            "framework": r.framework,
            "id": r.id,
            "ref": r.ref,
            "title": r.title,
            "section": r.section,
            "category": r.category,
            "status": self.status,
            "kind": self.kind,
            "checks": list(self.checks),
            "failing_resources": self.failing_resources,
            "controls": [c.to_dict() for c in self.controls],
        }


@dataclass(frozen=True)
class Posture:
    at: datetime
    controls: Mapping[str, ControlState]
    requirements: Mapping[str, tuple[RequirementState, ...]]  # framework id -> in-scope requirements

    def summary(self, framework: str) -> dict[str, int]:
        out = {s: 0 for s in (PASS, FAIL, ERROR, NO_DATA, UNSUPPORTED)}
        out.update({AUTOMATED: 0, MANUAL: 0, "total": 0})
        for rs in self.requirements.get(framework, ()):
            out[rs.status] += 1
            out["total"] += 1
            if rs.kind in (AUTOMATED, MANUAL):
                out[rs.kind] += 1
        return out


def _automated_state(control: Control, checks: tuple[str, ...], rows: Sequence[Any]) -> ControlState:
    counts: dict[str, int] = {}
    failing: set[str] = set()
    error_reason = ""
    for row in rows:
        status = str(_get(row, "status"))
        counts[status] = counts.get(status, 0) + 1
        if status == FAIL:
            failing.add(str(_get(row, "resource_id")))
        elif status == ERROR and not error_reason:
            error_reason = f"{_get(row, 'check_id')} on {_get(row, 'resource_id')}: {_get(row, 'message', '')}"
    if failing:
        failing_checks = sorted({str(_get(r, "check_id")) for r in rows if _get(r, "status") == FAIL})
        noun = "resource" if len(failing) == 1 else "resources"
        return ControlState(
            control,
            FAIL,
            f"{len(failing)} failing {noun} ({', '.join(failing_checks)})",
            frozenset(failing),
            counts,
            checks=checks,
        )
    if counts.get(ERROR):
        return ControlState(
            control,
            ERROR,
            f"{counts[ERROR]} could not be evaluated; first: {error_reason}",
            frozenset(),
            counts,
            checks=checks,
        )
    if rows:
        n = len(rows)
        return ControlState(
            control, PASS, f"{n} finding{'s' if n != 1 else ''}, none failing", frozenset(), counts, checks=checks
        )
    why = ("no findings yet for " + ", ".join(checks)) if checks else "no check of this framework's providers"
    return ControlState(control, NO_DATA, why, frozenset(), counts, checks=checks)


def _manual_state(control: Control, evidence: Any | None, now: datetime) -> ControlState:
    expected = control.evidence or "a document"
    if evidence is None:
        return ControlState(control, FAIL, f"no evidence attached (expected: {expected})")
    info = {k: _get(evidence, k) for k in ("id", "filename", "sha256", "owner", "attached_at", "next_review")}
    due: datetime = info["next_review"]
    info = {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in info.items()}
    if now > due:
        return ControlState(
            control,
            FAIL,
            f"evidence {info['filename']} was due for review on {due.date().isoformat()} (owner {info['owner']})",
            evidence=info,
        )
    return ControlState(
        control,
        PASS,
        f"{info['filename']} (owner {info['owner']}), next review {due.date().isoformat()}",
        evidence=info,
    )


def _latest(evidence: Iterable[Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for e in evidence:
        cid = str(_get(e, "control_id"))
        cur = out.get(cid)
        if cur is None or (_get(e, "attached_at"), _get(e, "id") or 0) > (
            _get(cur, "attached_at"),
            _get(cur, "id") or 0,
        ):
            out[cid] = e
    return out


def control_states(
    mappings: Mappings,
    findings: Iterable[Any],
    evidence: Iterable[Any],
    now: datetime,
    admits: Callable[[str], bool] | None = None,
) -> dict[str, ControlState]:
    """Each control's state; ``admits`` limits automated controls to some checks (a framework's
    providers)."""
    by_check: dict[str, list[Any]] = {}
    for row in findings:
        by_check.setdefault(str(_get(row, "check_id")), []).append(row)
    latest = _latest(evidence)
    out: dict[str, ControlState] = {}
    for cid, control in mappings.controls.items():
        if control.automated:
            checks = tuple(c for c in control.checks if admits is None or admits(c))
            rows = [r for chk in checks for r in by_check.get(chk, ())]
            out[cid] = _automated_state(control, checks, rows)
        else:
            out[cid] = _manual_state(control, latest.get(cid), now)
    return out


def _requirement_state(req: Requirement, states: Mapping[str, ControlState]) -> RequirementState:
    cs = tuple(states[c] for c in req.controls if c in states)
    if not cs:
        return RequirementState(req, UNSUPPORTED, UNSUPPORTED, ())
    kind = AUTOMATED if any(s.control.automated for s in cs) else MANUAL
    statuses = {s.status for s in cs}
    if FAIL in statuses:
        status = FAIL
    elif ERROR in statuses:
        status = ERROR
    elif kind == AUTOMATED and all(s.status == NO_DATA for s in cs if s.control.automated):
        status = NO_DATA
    else:
        status = PASS
    return RequirementState(req, status, kind, cs)


def evaluate_posture(
    mappings: Mappings,
    findings: Iterable[Any],
    evidence: Iterable[Any],
    *,
    frameworks: Iterable[str],
    categories: Iterable[str],
    now: datetime,
) -> Posture:
    """Status of every in-scope requirement of ``frameworks`` (SOC 2 limited to ``categories``,
    security always in). ``findings``: current finding rows (check_id, status, resource_id, message);
    ``evidence``: manual evidence rows (control_id, attached_at, next_review, filename, owner...)."""
    findings, evidence = list(findings), list(evidence)
    states = control_states(mappings, findings, evidence, now)
    narrowed: dict[tuple[str, ...], dict[str, ControlState]] = {}
    cats = tuple(categories)
    reqs: dict[str, tuple[RequirementState, ...]] = {}
    for fid in frameworks:
        fw = mappings.framework(fid)
        own = states
        if fw.providers:
            if fw.providers not in narrowed:
                narrowed[fw.providers] = control_states(mappings, findings, evidence, now, fw.admits)
            own = narrowed[fw.providers]
        reqs[fid] = tuple(_requirement_state(r, own) for r in requirements_in_scope(mappings, fid, cats))
    return Posture(at=now, controls=states, requirements=reqs)


def coverage(mappings: Mappings, framework: str, categories: Iterable[str]) -> dict[str, int]:
    """How many in-scope requirements are automated, manual-only or unsupported."""
    out = {"requirements": 0, AUTOMATED: 0, MANUAL: 0, UNSUPPORTED: 0}
    for r in requirements_in_scope(mappings, framework, categories):
        ctrls = [mappings.controls[c] for c in r.controls if c in mappings.controls]
        out["requirements"] += 1
        if not ctrls:
            out[UNSUPPORTED] += 1
        elif any(c.automated for c in ctrls):
            out[AUTOMATED] += 1
        else:
            out[MANUAL] += 1
    return out

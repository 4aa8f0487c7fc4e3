"""OSCAL assessment-results (1.1.x JSON) for a period: one result, an observation per check and a
finding per requirement, with the coverage numbers as props."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from agent.evidence.coverage import Coverage
from agent.models import isoformat

__all__ = ["OSCAL_VERSION", "assessment_results"]

OSCAL_VERSION = "1.1.2"
NS = "https://posture-agent.dev/ns/oscal"
_BASE = uuid.UUID("6f1c9a3e-2b7d-4c1a-9e55-0d7a3c2b1f00")


def _uuid(*parts: str) -> str:
    """Deterministic UUIDs: the same period and data give the same document."""
    return str(uuid.uuid5(_BASE, "/".join(parts)))


def _prop(name: str, value: Any) -> dict[str, str]:
    return {"name": name, "ns": NS, "value": str(value)}


def assessment_results(cov: Coverage, *, framework: str, entries: int, generated: datetime) -> dict[str, Any]:
    start, end = isoformat(cov.start), isoformat(cov.end)
    observations = []
    obs_by_check: dict[str, str] = {}
    for chk in cov.checks.values():
        oid = _uuid("obs", framework, start, end, chk.check_id)
        obs_by_check[chk.check_id] = oid
        observations.append({
            "uuid": oid, "title": f"Check {chk.check_id}",
            "description": (f"Automated check {chk.check_id} over the period: {chk.pass_pct}% of the time passing, "
                            f"{chk.fail_pct}% failing, {chk.unmonitored_pct}% unmonitored."),
            "props": [_prop("pass-pct", chk.pass_pct), _prop("fail-pct", chk.fail_pct),
                      _prop("unmonitored-pct", chk.unmonitored_pct), _prop("failures", len(chk.failures))],
            "methods": ["TEST"], "types": ["finding"],
            "collected": end,
        })
    findings = []
    for req in cov.requirements:
        state = ("not-satisfied" if req["open_failures"] or req["pass_pct"] < 100 and req["kind"] == "automated"
                 else "satisfied")
        f: dict[str, Any] = {
            "uuid": _uuid("finding", framework, start, end, req["requirement"]),
            "title": f"{req['requirement']} {req['title']}",
            "description": (f"{req['kind']} requirement; runs {req['runs_succeeded']}/{req['runs_scheduled']}, "
                            f"{req['gaps']} monitoring gaps ({req['gap_hours']} h), {req['failures']} failures, "
                            f"mean time to remediate {req['mean_hours_to_remediate']} h."),
            "props": [_prop("pass-pct", req["pass_pct"]), _prop("unmonitored-pct", req["unmonitored_pct"]),
                      _prop("failures", req["failures"]), _prop("exceptions", req["exceptions"])],
            "target": {"type": "objective-id", "target-id": req["requirement"].split(":", 1)[-1].lower(),
                       "status": {"state": state}},
        }
        related = [{"observation-uuid": obs_by_check[c]} for c in req["checks"] if c in obs_by_check]
        if related:
            f["related-observations"] = related
        findings.append(f)
    result: dict[str, Any] = {
        "uuid": _uuid("result", framework, start, end),
        "title": f"Continuous monitoring of {framework} from {start} to {end}",
        "description": f"Computed by posture-agent from {entries} evidence-chain entries.",
        "start": start, "end": end,
        "reviewed-controls": {"control-selections": [{"include-all": {}}]},
    }
    if observations:
        result["observations"] = observations
    if findings:
        result["findings"] = findings
    return {"assessment-results": {
        "uuid": _uuid("ar", framework, start, end, isoformat(generated)),
        "metadata": {"title": f"posture-agent {framework} assessment results", "last-modified": isoformat(generated),
                     "version": "1", "oscal-version": OSCAL_VERSION},
        "import-ap": {"href": f"#{framework}-continuous-monitoring"},
        "results": [result],
    }}

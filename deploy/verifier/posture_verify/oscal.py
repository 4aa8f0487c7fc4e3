"""OSCAL assessment-results (1.1.x JSON) for a period: one result, an observation per check and per
manual control, a finding per requirement, and the manual documents as back-matter resources.

A finding is ``satisfied`` only when the requirement's status for the period is ``passing``
(posture_verify.coverage: the automated part passed for the whole monitored period with no
failure and at most the stated share unverified, and every manual control had a document in force
for the whole period); anything else is ``not-satisfied`` with the reason as a prop and in the
status remarks.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from posture_verify.canonical import isoformat
from posture_verify.coverage import PASSING_S, Coverage, DocumentPeriod, fmt_pct, fmt_when

__all__ = ["OSCAL_VERSION", "assessment_results"]

OSCAL_VERSION = "1.1.2"
NS = "https://posture-agent.dev/ns/oscal"
_BASE = uuid.UUID("6f1c9a3e-2b7d-4c1a-9e55-0d7a3c2b1f00")
# media types by file extension: a fixed table, not the platform's (mimetypes reads /etc/mime.types),
# so that the verifier writes the same document as the exporter on any machine
MEDIA_TYPES = {
    "pdf": "application/pdf",
    "md": "text/markdown",
    "txt": "text/plain",
    "html": "text/html",
    "htm": "text/html",
    "csv": "text/csv",
    "json": "application/json",
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "doc": "application/msword",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "odt": "application/vnd.oasis.opendocument.text",
    "zip": "application/zip",
}


def _uuid(*parts: str) -> str:
    """Deterministic UUIDs: the same period and data give the same document."""
    return str(uuid.uuid5(_BASE, "/".join(parts)))


def _prop(name: str, value: Any) -> dict[str, str]:
    return {"name": name, "ns": NS, "value": str(value)}


def _doc_text(d: DocumentPeriod) -> str:
    return (
        f"{d.filename} for {d.control_id} (owner {d.owner}), attached {fmt_when(d.attached_at)}, next review "
        f"{fmt_when(d.next_review)}; in force for {fmt_pct(d.in_force_pct)} of the period"
        + ("; its review lapsed inside the period" if d.lapsed_in_period else "")
    )


def _resources(cov: Coverage, documents: Mapping[int, str], framework: str) -> dict[int, dict[str, Any]]:
    """A back-matter resource per document the bundle holds: its path in the bundle and SHA-256."""
    out: dict[int, dict[str, Any]] = {}
    for m in cov.manual.values():
        for d in m.documents:
            path = documents.get(d.id)
            if path is None or d.id in out:
                continue
            rlink: dict[str, Any] = {"href": path, "hashes": [{"algorithm": "SHA-256", "value": d.sha256}]}
            media = MEDIA_TYPES.get(d.filename.rpartition(".")[2].lower()) if "." in d.filename else None
            if media:
                rlink["media-type"] = media
            out[d.id] = {
                "uuid": _uuid("document", framework, str(d.id), d.sha256),
                "title": f"{d.control_id}: {d.filename}",
                "description": _doc_text(d),
                "props": [
                    _prop("control-id", d.control_id),
                    _prop("owner", d.owner),
                    _prop("attached-at", isoformat(d.attached_at)),
                    _prop("next-review", isoformat(d.next_review)),
                    _prop("in-force-pct", d.in_force_pct),
                ],
                "rlinks": [rlink],
            }
    return out


def assessment_results(
    cov: Coverage, *, framework: str, entries: int, generated: datetime, documents: Mapping[int, str] | None = None
) -> dict[str, Any]:
    """``documents``: manual document id -> its path in the bundle (documents not given are not linked)."""
    start, end = isoformat(cov.start), isoformat(cov.end)
    resources = _resources(cov, documents or {}, framework)
    observations = []
    obs_by_check: dict[str, str] = {}
    for chk in cov.checks.values():
        oid = _uuid("obs", framework, start, end, chk.check_id)
        obs_by_check[chk.check_id] = oid
        observations.append(
            {
                "uuid": oid,
                "title": f"Check {chk.check_id}",
                "description": (
                    f"Automated check {chk.check_id} over the period: {fmt_pct(chk.pass_pct)} of the time "
                    f"passing, {fmt_pct(chk.fail_pct)} failing, {fmt_pct(chk.error_pct)} in error, "
                    f"{fmt_pct(chk.unmonitored_pct)} unmonitored; {len(chk.failures)} failures."
                ),
                "props": [
                    _prop("pass-pct", chk.pass_pct),
                    _prop("fail-pct", chk.fail_pct),
                    _prop("error-pct", chk.error_pct),
                    _prop("unmonitored-pct", chk.unmonitored_pct),
                    _prop("failures", len(chk.failures)),
                ],
                "methods": ["TEST"],
                "types": ["finding"],
                "collected": end,
            }
        )
    obs_by_control: dict[str, str] = {}
    for m in cov.manual.values():
        oid = _uuid("obs-manual", framework, start, end, m.control_id)
        obs_by_control[m.control_id] = oid
        obs: dict[str, Any] = {
            "uuid": oid,
            "title": f"Manual control {m.control_id} {m.title}",
            "description": (
                f"Documents in force for {m.control_id} (expected: {m.expected}) during the period: "
                + ("; ".join(_doc_text(d) for d in m.documents) if m.documents else "none")
                + "."
            ),
            "props": [_prop("status", m.status), _prop("evidenced-pct", m.evidenced_pct), _prop("reason", m.reason)],
            "methods": ["EXAMINE"],
            "types": ["control-objective"],
            "collected": end,
        }
        evidence = [
            {"href": f"#{resources[d.id]['uuid']}", "description": _doc_text(d)}
            for d in m.documents
            if d.id in resources
        ]
        if evidence:
            obs["relevant-evidence"] = evidence
        observations.append(obs)
    findings = []
    for req in cov.requirements:
        satisfied = req["status"] == PASSING_S
        props = [_prop("status", req["status"]), _prop("reason", req["reason"]), _prop("kind", req["kind"])]
        auto, man = req["automated"], req["manual"]
        if auto is not None and auto["unmonitored_pct"] is not None:
            props += [
                _prop("pass-pct", auto["pass_pct"]),
                _prop("fail-pct", auto["fail_pct"]),
                _prop("unmonitored-pct", auto["unmonitored_pct"]),
                _prop("unmonitored-threshold-pct", cov.unmonitored_threshold_pct),
                _prop("failures", req["failures"]),
                _prop("open-failures", req["open_failures"]),
                _prop("exceptions", req["exceptions"]),
            ]
        if man is not None:
            props.append(_prop("evidenced-pct", man["evidenced_pct"]))
        f: dict[str, Any] = {
            "uuid": _uuid("finding", framework, start, end, req["requirement"]),
            "title": f"{req['requirement']} {req['title']}",
            "description": f"{req['requirement']} is {req['status']} for the period. {req['reason']}",
            "props": props,
            "target": {
                "type": "objective-id",
                "target-id": req["requirement"].split(":", 1)[-1].lower(),
                "status": {
                    "state": "satisfied" if satisfied else "not-satisfied",
                    "reason": "pass" if satisfied else ("fail" if req["status"] == "failing" else "other"),
                    "remarks": req["reason"],
                },
            },
        }
        related = [{"observation-uuid": obs_by_check[c]} for c in req["checks"] if c in obs_by_check]
        related += [{"observation-uuid": obs_by_control[c]} for c in req["manual_controls"] if c in obs_by_control]
        if related:
            f["related-observations"] = related
        links = [
            {"href": f"#{resources[d]['uuid']}", "rel": "evidence", "text": resources[d]["title"]}
            for d in (man or {}).get("documents", [])
            if d in resources
        ]
        if links:
            f["links"] = links
        findings.append(f)
    result: dict[str, Any] = {
        "uuid": _uuid("result", framework, start, end),
        "title": f"Continuous monitoring of {framework} from {fmt_when(cov.start)} to {fmt_when(cov.end)}",
        "description": (
            f"Computed by posture-agent from {entries} evidence-chain entries. A finding is satisfied "
            "only when its automated part passed for the whole monitored period with no failure and "
            f"at most {fmt_pct(cov.unmonitored_threshold_pct)} of the period unverified, and every "
            "manual control it relies on had a document in force for the whole period."
        ),
        "start": start,
        "end": end,
        "props": [_prop("unmonitored-threshold-pct", cov.unmonitored_threshold_pct)],
        "reviewed-controls": {"control-selections": [{"include-all": {}}]},
    }
    if observations:
        result["observations"] = observations
    if findings:
        result["findings"] = findings
    # import-ap is required, and there is no assessment plan: it points at a resource saying so
    plan = {
        "uuid": _uuid("plan", framework),
        "title": f"{framework} continuous monitoring by posture-agent",
        "description": (
            "No separate assessment plan: these results come from continuous automated monitoring "
            "and the manual documents attached to the store, for the period stated in the result."
        ),
    }
    return {
        "assessment-results": {
            "uuid": _uuid("ar", framework, start, end, isoformat(generated)),
            "metadata": {
                "title": f"posture-agent {framework} assessment results",
                "last-modified": isoformat(generated),
                "version": "1",
                "oscal-version": OSCAL_VERSION,
            },
            "import-ap": {"href": f"#{plan['uuid']}"},
            "results": [result],
            "back-matter": {"resources": [plan, *resources.values()]},
        }
    }

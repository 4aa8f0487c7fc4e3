"""OCSF 1.5.0 Detection Finding (class 2004): a JSON array, one event per finding.

The shape is the one Prowler emits, so pipelines built for it (Security Lake, SIEMs) read ours:
``status_code`` is the check's result (PASS, FAIL, ERROR, NOT_APPLICABLE), ``status``/``status_id``
the finding's workflow state (New, or Suppressed for a failure covered by an exception),
``unmapped.compliance`` the framework requirements the check evidences (an OCSF compliance object:
the class has no ``compliance`` attribute), ``time`` epoch milliseconds.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from agent.outputs.model import OutputFinding, Report, clean

__all__ = ["OCSF_VERSION", "ocsf_events", "render_ocsf"]

OCSF_VERSION = "1.5.0"

_CLASS_UID = 2004  # Detection Finding
_CATEGORY_UID = 2  # Findings
_ACTIVITY_CREATE = 1
_SEVERITY = {
    "info": (1, "Informational"),
    "low": (2, "Low"),
    "medium": (3, "Medium"),
    "high": (4, "High"),
    "critical": (5, "Critical"),
}
_STATUS_CODE = {
    "pass": "PASS",
    "fail": "FAIL",
    "error": "ERROR",
    "not_applicable": "NOT_APPLICABLE",
    "excepted": "FAIL",  # a failure, accepted: its workflow status says Suppressed
}
# compliance.status_id: 1 Pass, 2 Warning ("no result due to missing information"), 3 Fail
_COMPLIANCE_STATUS = {"pass": 1, "error": 2, "fail": 3, "excepted": 3}
# cloud.account.type_id: AWS Account, GCP Account, Azure AD Account; anything else Other
_ACCOUNT_TYPE = {"aws": (10, "AWS Account"), "gcp": (5, "GCP Account"), "azure": (6, "Azure AD Account")}
_CLOUD_PROVIDERS = ("aws", "gcp", "azure")


def _ms(ts: datetime) -> int:
    return int(ts.timestamp() * 1000)


def _resource(f: OutputFinding) -> dict[str, Any]:
    res: dict[str, Any] = {"uid": f.resource_id, "type": f.resource_type}
    if f.region:
        res["region"] = f.region
    parts = f.resource_id.split(":", 2)
    if len(parts) == 3 and parts[0] == "arn" and parts[1]:
        res["cloud_partition"] = parts[1]
    service = f.resource_type.split(".")
    if len(service) >= 3:
        res["group"] = {"name": service[1]}
    res["data"] = {"provider": f.provider, "account": f.account}
    return res


def _event(f: OutputFinding, report: Report) -> dict[str, Any]:
    info = report.check(f.check_id)
    sev_id, sev = _SEVERITY.get(f.severity, (99, "Other"))
    suppressed = f.status == "excepted"
    time = _ms(f.time)
    finding_info: dict[str, Any] = {"uid": f.uid, "title": info.title or f.check_id, "created_time": time}
    if info.rationale:
        finding_info["desc"] = info.rationale
    if f.first_seen is not None:
        finding_info["first_seen_time"] = _ms(f.first_seen)
    if info.docs.startswith(("https://", "http://")):
        finding_info["src_url"] = info.docs
    compliance: dict[str, Any] = {
        "requirements": list(f.requirements),
        "standards": sorted({r.split(":", 1)[0] for r in f.requirements}),
        "control": f.check_id,
    }
    if f.status in _COMPLIANCE_STATUS:
        compliance["status_id"] = _COMPLIANCE_STATUS[f.status]
    event: dict[str, Any] = {
        "metadata": {
            "version": OCSF_VERSION,
            "product": {
                "name": "posture-agent",
                "uid": "posture-agent",
                "vendor_name": "posture-agent",
                "version": report.tool_version,
            },
            "event_code": f.check_id,
            "profiles": ["cloud"] if f.provider in _CLOUD_PROVIDERS else [],
        },
        "activity_id": _ACTIVITY_CREATE,
        "activity_name": "Create",
        "category_uid": _CATEGORY_UID,
        "category_name": "Findings",
        "class_uid": _CLASS_UID,
        "class_name": "Detection Finding",
        "type_uid": _CLASS_UID * 100 + _ACTIVITY_CREATE,
        "type_name": "Detection Finding: Create",
        "severity_id": sev_id,
        "severity": sev,
        "status_id": 3 if suppressed else 1,
        "status": "Suppressed" if suppressed else "New",
        "status_code": _STATUS_CODE.get(f.status, f.status.upper()),
        "status_detail": f.message,
        "message": f.message,
        "time": time,
        "finding_info": finding_info,
        "resources": [_resource(f)],
        "remediation": {"desc": info.remediation_text or info.title or f.check_id},
        # Detection Finding has no compliance attribute (Compliance Finding, class 2003, has): like
        # Prowler, the framework requirements go in unmapped, shaped as an OCSF compliance object.
        "unmapped": {
            "compliance": compliance,
            "posture_agent": {"status": f.status, "check_id": f.check_id, "source": f.source},
        },
    }
    refs = [u for u in (info.docs, *info.references) if u]
    if refs:
        event["remediation"]["references"] = list(dict.fromkeys(refs))
    if f.provider in _CLOUD_PROVIDERS:
        type_id, type_name = _ACCOUNT_TYPE[f.provider]
        cloud: dict[str, Any] = {
            "provider": f.provider,
            "account": {"uid": f.account, "name": f.account, "type_id": type_id, "type": type_name},
        }
        if f.region:
            cloud["region"] = f.region
        event["cloud"] = cloud
    return event


def ocsf_events(report: Report) -> list[dict[str, Any]]:
    """One Detection Finding per finding, in a stable order."""
    return [_event(f, report) for f in report.sorted_findings()]


def render_ocsf(report: Report) -> str:
    return clean(json.dumps(ocsf_events(report), indent=2, ensure_ascii=False)) + "\n"

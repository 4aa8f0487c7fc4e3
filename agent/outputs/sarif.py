"""SARIF 2.1.0 for code-scanning UIs (GitHub code scanning, Azure DevOps, IDEs): one run.

Each check that produced a finding is a rule (title, rationale, remediation, severity, framework
requirements). Failing findings are results of kind ``fail`` with the check's level, excepted ones
the same with an accepted external suppression, and findings that could not be evaluated (``error``)
results of kind ``open`` (SARIF: the tool could not tell pass from fail; level ``none``). Passing
and not-applicable findings are not results.

A cloud resource has no file: a result's location names the resource as a logical location (its
ARN or id) and, because GitHub refuses a result without a physical location, a stable pseudo-path
``posture-agent/<provider>/<account>/<region>/<resource type>`` that exists in no repository.
``partialFingerprints`` carries the finding's uid, so a re-upload updates the same alerts.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import quote

from agent.models import isoformat
from agent.outputs.model import OutputFinding, Report, clean

__all__ = ["SARIF_SCHEMA", "render_sarif", "sarif_log"]

SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
FINGERPRINT = "postureAgentFinding/v1"

_LEVEL = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}
# GitHub ranks security alerts by this CVSS-like score: critical >= 9, high >= 7, medium >= 4, low > 0
_SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0"}
_RESULT_STATUSES = ("fail", "excepted", "error")
_URL = re.compile(r"https?://[^\s<>\"{}|\\^`\x00-\x1f\x7f]+")


def _rule_name(check_id: str) -> str:
    last = check_id.rsplit(".", 1)[-1]
    name = "".join(part[:1].upper() + part[1:] for part in re.split(r"[^0-9A-Za-z]+", last) if part)
    return name or "Check"


def _help_markdown(report: Report, check_id: str, requirements: list[str]) -> str:
    info = report.check(check_id)
    parts = []
    if info.rationale:
        parts.append(info.rationale)
    if info.remediation:
        parts.append("**Remediation**\n\n" + info.remediation)
    if info.cli:
        parts.append("```sh\n" + info.cli.replace("```", "` ` `") + "\n```")
    if _URL.fullmatch(info.docs):
        parts.append(f"<{info.docs}>")
    if requirements:
        parts.append("**Requirements:** " + ", ".join(requirements))
    return "\n\n".join(parts) or info.title or check_id


def _rule(report: Report, check_id: str, findings: list[OutputFinding]) -> dict[str, Any]:
    info = report.check(check_id)
    severity = findings[0].severity
    requirements = sorted({r for f in findings for r in f.requirements})
    title = info.title or check_id or "check"
    props: dict[str, Any] = {
        "severity": severity,
        "requirements": requirements,
        "tags": ["security", "compliance", *requirements],
    }
    if severity in _SECURITY_SEVERITY:
        props["security-severity"] = _SECURITY_SEVERITY[severity]
    rule: dict[str, Any] = {
        "id": check_id,
        "name": _rule_name(check_id),
        "shortDescription": {"text": title},
        "fullDescription": {"text": info.rationale or title},
        "help": {"text": info.remediation_text or title, "markdown": _help_markdown(report, check_id, requirements)},
        "defaultConfiguration": {"level": _LEVEL.get(severity, "warning")},
        "properties": props,
    }
    if _URL.fullmatch(info.docs):
        rule["helpUri"] = info.docs
    return rule


def _segment(value: str) -> str:
    return quote(clean(value), safe="") or "-"


def _result(f: OutputFinding, rule_index: int, report: Report) -> dict[str, Any]:
    text = f.message or report.check(f.check_id).title or f.check_id or "finding"
    if f.resource_id and f.resource_id not in text:
        text = f"{text} (resource: {f.resource_id})"
    if f.status == "error":
        text = f"could not be evaluated: {text}"
    path = "/".join(_segment(v) for v in ("posture-agent", f.provider, f.account, f.region, f.resource_type))
    result: dict[str, Any] = {
        "ruleId": f.check_id,
        "ruleIndex": rule_index,
        "kind": "open" if f.status == "error" else "fail",
        "level": "none" if f.status == "error" else _LEVEL.get(f.severity, "warning"),
        "message": {"text": text},
        "locations": [
            {
                "physicalLocation": {"artifactLocation": {"uri": path}},
                "logicalLocations": [{"name": f.resource_id, "fullyQualifiedName": f.resource_id, "kind": "resource"}],
            }
        ],
        "partialFingerprints": {FINGERPRINT: f.uid},
        "properties": {
            "status": f.status,
            "severity": f.severity,
            "provider": f.provider,
            "account": f.account,
            "region": f.region,
            "resourceType": f.resource_type,
            "requirements": list(f.requirements),
        },
    }
    if f.status == "excepted":
        result["suppressions"] = [
            {"kind": "external", "status": "accepted", "justification": "covered by a posture-agent exception"}
        ]
    return result


def sarif_log(report: Report) -> dict[str, Any]:
    """The SARIF log as a JSON value."""
    findings = report.sorted_findings()
    by_check: dict[str, list[OutputFinding]] = {}
    for f in findings:
        by_check.setdefault(f.check_id, []).append(f)
    check_ids = sorted(by_check)
    index = {cid: i for i, cid in enumerate(check_ids)}
    failed = [s for s in report.sources if s.status == "failed"]
    invocation: dict[str, Any] = {
        "executionSuccessful": not failed,
        "endTimeUtc": isoformat(report.generated_at),
    }
    if report.started_at is not None:
        invocation["startTimeUtc"] = isoformat(report.started_at)
    if failed:
        invocation["toolExecutionNotifications"] = [
            {"level": "error", "message": {"text": f"source {s.name}: collection failed: {s.error or 'no detail'}"}}
            for s in failed
        ]
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "posture-agent",
                "version": report.tool_version,
                "rules": [_rule(report, cid, by_check[cid]) for cid in check_ids],
            }
        },
        "invocations": [invocation],
        "results": [_result(f, index[f.check_id], report) for f in findings if f.status in _RESULT_STATUSES],
    }
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}


def render_sarif(report: Report) -> str:
    return clean(json.dumps(sarif_log(report), indent=2, ensure_ascii=False)) + "\n"

"""JUnit XML for CI test reports (Jenkins, GitLab, GitHub test reporters, Azure Pipelines).

One ``testsuite`` per check (its id, with severity, title and requirements as properties) and one
``testcase`` per resource it evaluated, named by the resource with the check as ``classname`` (so
a CI UI groups them as provider.service / check): a failure is a ``<failure>``, a finding that
could not be evaluated an ``<error>``, not applicable and excepted ones ``<skipped>``. A scan adds
a ``posture-agent.sources`` suite: one testcase per source and account, an ``<error>`` when its
collection failed. Counts are those of the elements written.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC

from agent.outputs.model import OutputFinding, Report

__all__ = ["render_junit", "xml_text"]

# Characters XML 1.0 cannot carry at all (control characters, unpaired surrogates, U+FFFE/FFFF).
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
SOURCES_SUITE = "posture-agent.sources"


def xml_text(value: str) -> str:
    """The text with every character XML cannot represent replaced by U+FFFD."""
    return _NOT_XML.sub("\ufffd", value)


def _el(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    el = ET.SubElement(parent, tag, {k: xml_text(v) for k, v in attrs.items()})
    if text:
        el.text = xml_text(text)
    return el


def _details(f: OutputFinding, report: Report) -> str:
    info = report.check(f.check_id)
    lines = [
        f.message,
        "",
        f"resource: {f.resource_id} ({f.resource_type})",
        f"account: {f.account}  region: {f.region}  severity: {f.severity}",
    ]
    if f.requirements:
        lines.append("requirements: " + ", ".join(f.requirements))
    if info.remediation_text:
        lines += ["", "remediation:", info.remediation_text]
    return "\n".join(lines)


def _testcase(suite: ET.Element, f: OutputFinding, report: Report) -> str:
    case = _el(suite, "testcase", classname=f.check_id, name=f.resource_id or "(no resource)", time="0")
    if f.status == "fail":
        _el(case, "failure", _details(f, report), message=f.message, type=f.severity)
    elif f.status == "error":
        _el(case, "error", _details(f, report), message=f.message, type="not evaluated")
    elif f.status in ("not_applicable", "excepted"):
        reason = "excepted" if f.status == "excepted" else "not applicable"
        _el(case, "skipped", message=f"{reason}: {f.message}" if f.message else reason)
    elif f.status != "pass":
        _el(case, "error", _details(f, report), message=f"unknown status {f.status!r}", type="unknown status")
    return f.status


def _counts(statuses: list[str]) -> dict[str, str]:
    skipped = sum(s in ("not_applicable", "excepted") for s in statuses)
    failures = sum(s == "fail" for s in statuses)
    errors = len(statuses) - skipped - failures - sum(s == "pass" for s in statuses)
    return {"tests": str(len(statuses)), "failures": str(failures), "errors": str(errors), "skipped": str(skipped)}


def render_junit(report: Report) -> str:
    stamp = report.generated_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    root = ET.Element("testsuites", {"name": "posture-agent"})
    by_check: dict[str, list[OutputFinding]] = {}
    for f in report.sorted_findings():
        by_check.setdefault(f.check_id, []).append(f)
    all_statuses: list[str] = []
    for check_id in sorted(by_check):
        findings = by_check[check_id]
        info = report.check(check_id)
        suite = _el(root, "testsuite", name=check_id or "(no check)", time="0", timestamp=stamp)
        props = _el(suite, "properties")
        _el(props, "property", name="severity", value=findings[0].severity)
        _el(props, "property", name="title", value=info.title)
        requirements = sorted({r for f in findings for r in f.requirements})
        _el(props, "property", name="requirements", value=" ".join(requirements))
        statuses = [_testcase(suite, f, report) for f in findings]
        for k, v in _counts(statuses).items():
            suite.set(k, v)
        all_statuses += statuses
    if report.sources:
        suite = _el(root, "testsuite", name=SOURCES_SUITE, time="0", timestamp=stamp)
        statuses = []
        for s in report.sources:
            case = _el(suite, "testcase", classname=SOURCES_SUITE, name=f"{s.name} {s.account or '-'}", time="0")
            if s.status == "failed":
                _el(case, "error", s.error, message=f"collection failed: {s.error}", type="collection failed")
                statuses.append("error")
            else:
                statuses.append("pass")
        for k, v in _counts(statuses).items():
            suite.set(k, v)
        all_statuses += statuses
    totals = _counts(all_statuses)
    for k in ("tests", "failures", "errors"):  # the schema's testsuites has no skipped count
        root.set(k, totals[k])
    root.set("time", "0")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"

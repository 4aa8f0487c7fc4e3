"""Shared by the output-format tests: sample reports and one validator per format.

Each validator checks the document against its published schema (OCSF through Prowler's
py-ocsf-models, SARIF 2.1.0 and the Jenkins JUnit XSD vendored in tests/fixtures) and then the rules a
schema cannot express (counts, captions matching ids, GitHub's location requirement), and returns
the parsed document.
"""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import xmlschema
from py_ocsf_models.events.findings.detection_finding import DetectionFinding
from py_ocsf_models.events.findings.severity_id import SeverityID
from py_ocsf_models.events.findings.status_id import StatusID

from agent.outputs import CheckInfo, OutputFinding, Report, SourceOutcome
from agent.outputs.csvfile import HEADER

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

CHECKS = {
    "aws.s3.bucket_no_public_policy": CheckInfo(
        id="aws.s3.bucket_no_public_policy",
        title="S3 bucket policies do not grant access to everyone",
        rationale="A public bucket policy exposes objects to the internet.",
        remediation="1. Open the S3 console.\n2. Remove Principal * statements.",
        cli="aws s3api delete-bucket-policy --bucket <bucket-name>",
        docs="https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html",
    ),
    "aws.iam.console_user_mfa": CheckInfo(
        id="aws.iam.console_user_mfa",
        title="IAM users with console access have MFA enabled",
        rationale="A password alone can be phished.",
        remediation="Assign an MFA device.",
    ),
}


def finding(**over: Any) -> OutputFinding:
    base: dict[str, Any] = {
        "uid": "0f" * 16,
        "check_id": "aws.s3.bucket_no_public_policy",
        "resource_id": "arn:aws:s3:::public-assets",
        "resource_type": "aws.s3.bucket",
        "provider": "aws",
        "account": "123456789012",
        "region": "us-east-1",
        "status": "fail",
        "severity": "critical",
        "message": "bucket policy allows anyone: s3:GetObject",
        "requirements": ("ISO27001:A.8.3", "SOC2:CC6.1"),
        "time": T0,
    }
    base.update(over)
    return OutputFinding(**base)


def sample_report() -> Report:
    """Every status once or more, two checks, two accounts, a failed source."""
    iam = {"check_id": "aws.iam.console_user_mfa", "resource_type": "aws.iam.user", "severity": "high"}
    findings = (
        finding(),
        finding(uid="01" * 16, resource_id="arn:aws:s3:::accepted", status="excepted", message="accepted risk"),
        finding(uid="02" * 16, resource_id="arn:aws:s3:::private", status="pass", message="no public statement"),
        finding(uid="03" * 16, resource_id="arn:aws:s3:::other", account="210987654321", status="not_applicable"),
        finding(
            uid="04" * 16,
            resource_id="arn:aws:iam::123456789012:user/eve",
            status="fail",
            region="global",
            message="user eve has a console password and no MFA device",
            requirements=("SOC2:CC6.1",),
            **iam,
        ),
        finding(
            uid="05" * 16,
            resource_id="scope:aws/123456789012/global/aws.iam.user",
            status="error",
            region="global",
            message="not collected: iam:ListUsers AccessDenied",
            requirements=("SOC2:CC6.1",),
            **iam,
        ),
    )
    sources = (
        SourceOutcome(name="aws", provider="aws", account="123456789012", status="partial"),
        SourceOutcome(name="prod", provider="aws", account="", status="failed", error="source prod: no credentials"),
    )
    return Report(
        findings=findings,
        generated_at=T0,
        checks=CHECKS,
        started_at=T0,
        sources=sources,
        tool_version="9.9.9",
        run_id="r1",
    )


# -- OCSF ----------------------------------------------------------------------------------------


def valid_ocsf(text: str) -> list[dict[str, Any]]:
    events = json.loads(text)
    assert isinstance(events, list)
    for event in events:
        model = DetectionFinding.model_validate(event)
        # nothing the model does not know was written, and nothing it would change
        assert model.model_dump(mode="json", exclude_none=True) == event
        assert event["class_uid"] == 2004 and event["category_uid"] == 2
        assert event["type_uid"] == event["class_uid"] * 100 + event["activity_id"]
        assert event["severity"] == SeverityID(event["severity_id"]).name
        assert event["status"] == StatusID(event["status_id"]).name
        assert event["metadata"]["version"].startswith("1.")
        assert event["metadata"]["product"]["name"] == "posture-agent"
        assert isinstance(event["time"], int) and event["time"] >= 0
    return events


# -- SARIF ---------------------------------------------------------------------------------------


@cache
def _sarif_validator() -> jsonschema.Draft4Validator:
    schema = json.loads((FIXTURES / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
    jsonschema.Draft4Validator.check_schema(schema)
    return jsonschema.Draft4Validator(schema)


def valid_sarif(text: str) -> dict[str, Any]:
    log = json.loads(text)
    _sarif_validator().validate(log)
    assert log["version"] == "2.1.0" and len(log["runs"]) == 1
    run = log["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    ids = [r["id"] for r in rules]
    assert len(ids) == len(set(ids))
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["message"]["text"]
        assert result["partialFingerprints"]
        # GitHub code scanning refuses a result without a physical artifact location
        assert result["locations"]
        for loc in result["locations"]:
            assert loc["physicalLocation"]["artifactLocation"]["uri"]
        # SARIF 3.27.9: a result whose kind is not "fail" has level "none"
        if result.get("kind", "fail") != "fail":
            assert result.get("level", "none") == "none"
    return log


# -- JUnit ---------------------------------------------------------------------------------------


@cache
def _junit_schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(FIXTURES / "junit-10.xsd"))


def valid_junit(text: str) -> ET.Element:
    _junit_schema().validate(text)
    root = ET.fromstring(text.encode("utf-8"))
    totals = {"tests": 0, "failures": 0, "errors": 0}
    for suite in root.iter("testsuite"):
        cases = suite.findall("testcase")
        counts = {
            "tests": len(cases),
            "failures": sum(c.find("failure") is not None for c in cases),
            "errors": sum(c.find("error") is not None for c in cases),
            "skipped": sum(c.find("skipped") is not None for c in cases),
        }
        for key, n in counts.items():
            assert int(suite.get(key, "-1")) == n, (suite.get("name"), key)
        for key in totals:
            totals[key] += counts[key]
        for case in cases:
            assert len([c for c in case if c.tag in ("failure", "error", "skipped")]) <= 1
    for key, n in totals.items():
        assert int(root.get(key, "-1")) == n, key
    return root


# -- CSV -----------------------------------------------------------------------------------------


def valid_csv(text: str) -> list[dict[str, str]]:
    assert text.startswith(",".join(HEADER) + "\r\n")
    rows = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    assert rows[0] == list(HEADER)
    for row in rows[1:]:
        assert len(row) == len(HEADER)
        for cell in row:
            assert not cell.startswith(FORMULA_START), cell
    return [dict(zip(HEADER, row, strict=True)) for row in rows[1:]]

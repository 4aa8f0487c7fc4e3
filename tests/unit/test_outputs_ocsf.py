"""scan/findings --format ocsf: OCSF 1.5.0 Detection Findings, validated with py-ocsf-models."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from agent.outputs import render
from agent.outputs.model import report_from_rows
from tests.unit.outputs_kit import CHECKS, T0, finding, sample_report, valid_ocsf


def by_resource(events: list[dict]) -> dict[str, dict]:
    return {e["resources"][0]["uid"]: e for e in events}


def test_one_detection_finding_per_finding_with_our_fields() -> None:
    report = sample_report()
    events = valid_ocsf(render("ocsf", report))
    assert len(events) == len(report.findings)
    public = by_resource(events)["arn:aws:s3:::public-assets"]
    assert public["class_uid"] == 2004 and public["type_uid"] == 200401
    assert public["finding_info"]["uid"] == "0f" * 16
    assert public["finding_info"]["title"] == CHECKS["aws.s3.bucket_no_public_policy"].title
    assert public["finding_info"]["desc"] == CHECKS["aws.s3.bucket_no_public_policy"].rationale
    assert (public["severity_id"], public["severity"]) == (5, "Critical")
    assert (public["status_id"], public["status"], public["status_code"]) == (1, "New", "FAIL")
    assert public["status_detail"] == public["message"] == "bucket policy allows anyone: s3:GetObject"
    assert public["time"] == int(T0.timestamp() * 1000)
    assert public["cloud"]["provider"] == "aws" and public["cloud"]["region"] == "us-east-1"
    assert public["cloud"]["account"]["uid"] == "123456789012"
    resource = public["resources"][0]
    assert resource["type"] == "aws.s3.bucket" and resource["region"] == "us-east-1"
    assert resource["cloud_partition"] == "aws" and resource["group"] == {"name": "s3"}
    assert resource["data"] == {"provider": "aws", "account": "123456789012"}
    compliance = public["unmapped"]["compliance"]
    assert compliance["requirements"] == ["ISO27001:A.8.3", "SOC2:CC6.1"]
    assert compliance["standards"] == ["ISO27001", "SOC2"] and compliance["status_id"] == 3
    assert public["metadata"]["product"] == {
        "name": "posture-agent",
        "uid": "posture-agent",
        "vendor_name": "posture-agent",
        "version": "9.9.9",
    }
    assert public["metadata"]["event_code"] == "aws.s3.bucket_no_public_policy"
    assert "Remove Principal *" in public["remediation"]["desc"]
    assert public["remediation"]["references"] == [CHECKS["aws.s3.bucket_no_public_policy"].docs]


def test_statuses_map_to_status_code_and_workflow_status() -> None:
    events = by_resource(valid_ocsf(render("ocsf", sample_report())))
    expected = {
        "arn:aws:s3:::accepted": ("FAIL", "Suppressed", 3),  # excepted: a failure, suppressed
        "arn:aws:s3:::private": ("PASS", "New", 1),
        "arn:aws:s3:::other": ("NOT_APPLICABLE", "New", None),
        "scope:aws/123456789012/global/aws.iam.user": ("ERROR", "New", 2),  # compliance Warning: missing input
    }
    for uid, (code, status, compliance_status) in expected.items():
        e = events[uid]
        assert (e["status_code"], e["status"]) == (code, status), uid
        assert e["unmapped"]["compliance"].get("status_id") == compliance_status, uid
        assert e["unmapped"]["posture_agent"]["status"] in ("excepted", "pass", "not_applicable", "error")


def test_endpoint_findings_carry_no_cloud() -> None:
    device = finding(
        provider="endpoints", resource_type="endpoint.device", resource_id="dev-1", region="", account="fleet"
    )
    report = replace(sample_report(), findings=(device,))
    (event,) = valid_ocsf(render("ocsf", report))
    assert "cloud" not in event and event["metadata"]["profiles"] == []
    assert "region" not in event["resources"][0] and "cloud_partition" not in event["resources"][0]


def test_store_rows_keep_first_seen_and_since() -> None:
    first, since = datetime(2026, 1, 2, tzinfo=UTC), datetime(2026, 2, 3, tzinfo=UTC)
    row = {
        "uid": "ab" * 16,
        "source": "prod",
        "check_id": "aws.iam.console_user_mfa",
        "resource_id": "arn:aws:iam::123456789012:user/eve",
        "resource_type": "aws.iam.user",
        "provider": "aws",
        "account": "123456789012",
        "region": "global",
        "status": "fail",
        "severity": "high",
        "message": "no MFA",
        "first_seen": first,
        "since": since,
        "snapshot_id": 7,
        "controls": ["SOC2:CC6.1"],
    }
    report = report_from_rows([row], CHECKS, generated_at=T0, tool_version="1.0.0")
    (event,) = valid_ocsf(render("ocsf", report))
    assert event["time"] == int(since.timestamp() * 1000)
    assert event["finding_info"]["first_seen_time"] == int(first.timestamp() * 1000)
    assert event["unmapped"]["posture_agent"]["source"] == "prod"


def test_no_findings_is_an_empty_array_and_unknown_checks_are_titled_by_id() -> None:
    empty = replace(sample_report(), findings=())
    assert valid_ocsf(render("ocsf", empty)) == []
    unknown = replace(sample_report(), findings=(finding(check_id="aws.x.gone"),), checks={})
    (event,) = valid_ocsf(render("ocsf", unknown))
    assert event["finding_info"]["title"] == "aws.x.gone" and event["remediation"]["desc"] == "aws.x.gone"

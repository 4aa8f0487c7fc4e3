"""scan/findings --format sarif: SARIF 2.1.0, validated against the OASIS schema (tests/fixtures)."""

from __future__ import annotations

from dataclasses import replace

from agent.outputs import render
from agent.outputs.sarif import FINGERPRINT
from tests.unit.outputs_kit import CHECKS, finding, sample_report, valid_sarif


def test_rules_one_per_check() -> None:
    log = valid_sarif(render("sarif", sample_report()))
    driver = log["runs"][0]["tool"]["driver"]
    assert driver["name"] == "posture-agent" and driver["version"] == "9.9.9"
    rules = {r["id"]: r for r in driver["rules"]}
    assert set(rules) == {"aws.s3.bucket_no_public_policy", "aws.iam.console_user_mfa"}
    s3 = rules["aws.s3.bucket_no_public_policy"]
    info = CHECKS["aws.s3.bucket_no_public_policy"]
    assert s3["name"] == "BucketNoPublicPolicy"
    assert s3["shortDescription"]["text"] == info.title and s3["fullDescription"]["text"] == info.rationale
    assert s3["helpUri"] == info.docs and info.cli in s3["help"]["text"] and info.cli in s3["help"]["markdown"]
    assert s3["defaultConfiguration"]["level"] == "error"
    assert s3["properties"]["severity"] == "critical" and s3["properties"]["security-severity"] == "9.5"
    assert s3["properties"]["requirements"] == ["ISO27001:A.8.3", "SOC2:CC6.1"]
    assert "helpUri" not in rules["aws.iam.console_user_mfa"]  # that check names no docs link


def test_results_for_failing_excepted_and_error_findings_only() -> None:
    log = valid_sarif(render("sarif", sample_report()))
    results = {r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"]: r for r in log["runs"][0]["results"]}
    assert set(results) == {
        "arn:aws:s3:::public-assets",
        "arn:aws:s3:::accepted",
        "arn:aws:iam::123456789012:user/eve",
        "scope:aws/123456789012/global/aws.iam.user",
    }
    public = results["arn:aws:s3:::public-assets"]
    assert (public["kind"], public["level"]) == ("fail", "error")
    assert public["partialFingerprints"] == {FINGERPRINT: "0f" * 16}
    assert "bucket policy allows anyone" in public["message"]["text"]
    assert "arn:aws:s3:::public-assets" in public["message"]["text"]  # named when the message does not
    uri = public["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == "posture-agent/aws/123456789012/us-east-1/aws.s3.bucket"
    assert results["arn:aws:s3:::accepted"]["suppressions"][0]["status"] == "accepted"
    error = results["scope:aws/123456789012/global/aws.iam.user"]
    assert (error["kind"], error["level"]) == ("open", "none")
    assert error["message"]["text"].startswith("could not be evaluated: ")
    assert results["arn:aws:iam::123456789012:user/eve"]["level"] == "error"  # high


def test_failed_source_makes_the_invocation_unsuccessful() -> None:
    log = valid_sarif(render("sarif", sample_report()))
    (invocation,) = log["runs"][0]["invocations"]
    assert invocation["executionSuccessful"] is False
    (note,) = invocation["toolExecutionNotifications"]
    assert note["level"] == "error" and "source prod: collection failed" in note["message"]["text"]
    ok = replace(sample_report(), sources=())
    assert valid_sarif(render("sarif", ok))["runs"][0]["invocations"][0]["executionSuccessful"] is True


def test_odd_location_parts_are_percent_encoded() -> None:
    odd = finding(account="a b/c?#", region="", resource_type="aws.s3.bucket")
    log = valid_sarif(render("sarif", replace(sample_report(), findings=(odd,))))
    uri = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == "posture-agent/aws/a%20b%2Fc%3F%23/-/aws.s3.bucket"


def test_same_report_same_bytes_and_no_results_when_all_pass() -> None:
    report = sample_report()
    assert render("sarif", report) == render("sarif", report)
    passing = replace(report, findings=(finding(status="pass"),))
    log = valid_sarif(render("sarif", passing))
    assert log["runs"][0]["results"] == [] and len(log["runs"][0]["tool"]["driver"]["rules"]) == 1

"""scan/findings --format junit: JUnit XML, validated against the Jenkins JUnit XSD (tests/fixtures)."""

from __future__ import annotations

from dataclasses import replace

from agent.outputs import render
from agent.outputs.junit import SOURCES_SUITE
from tests.unit.outputs_kit import finding, sample_report, valid_junit


def test_a_suite_per_check_a_case_per_resource() -> None:
    root = valid_junit(render("junit", sample_report()))
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    assert set(suites) == {"aws.iam.console_user_mfa", "aws.s3.bucket_no_public_policy", SOURCES_SUITE}
    s3 = suites["aws.s3.bucket_no_public_policy"]
    assert (s3.get("tests"), s3.get("failures"), s3.get("errors"), s3.get("skipped")) == ("4", "1", "0", "2")
    cases = {c.get("name"): c for c in s3.findall("testcase")}
    assert all(c.get("classname") == "aws.s3.bucket_no_public_policy" for c in cases.values())
    failure = cases["arn:aws:s3:::public-assets"].find("failure")
    assert failure is not None and failure.get("message") == "bucket policy allows anyone: s3:GetObject"
    assert failure.get("type") == "critical" and "SOC2:CC6.1" in (failure.text or "")
    assert "Remove Principal *" in (failure.text or "")
    skipped = cases["arn:aws:s3:::accepted"].find("skipped")
    assert skipped is not None and skipped.get("message") == "excepted: accepted risk"
    assert cases["arn:aws:s3:::other"].find("skipped") is not None
    assert len(cases["arn:aws:s3:::private"]) == 0  # a pass is a bare testcase
    props = {p.get("name"): p.get("value") for p in s3.iter("property")}
    assert props["severity"] == "critical" and props["requirements"] == "ISO27001:A.8.3 SOC2:CC6.1"
    iam = suites["aws.iam.console_user_mfa"]
    assert (iam.get("tests"), iam.get("failures"), iam.get("errors")) == ("2", "1", "1")
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("8", "2", "2")


def test_a_failed_source_is_an_error() -> None:
    root = valid_junit(render("junit", sample_report()))
    (suite,) = [s for s in root.findall("testsuite") if s.get("name") == SOURCES_SUITE]
    cases = {c.get("name"): c for c in suite.findall("testcase")}
    assert set(cases) == {"aws 123456789012", "prod -"}
    err = cases["prod -"].find("error")
    assert err is not None and "no credentials" in (err.get("message") or "")
    assert len(cases["aws 123456789012"]) == 0


def test_markup_and_control_characters_stay_text() -> None:
    nasty = finding(message='<x a="1">&amp; ]]> \x00\x1b\ufffe end', resource_id="arn:aws:s3:::a<b>&\"'")
    root = valid_junit(render("junit", replace(sample_report(), findings=(nasty,), sources=())))
    (case,) = root.iter("testcase")
    assert case.get("name") == "arn:aws:s3:::a<b>&\"'"
    failure = case.find("failure")
    assert failure is not None
    assert failure.get("message") == '<x a="1">&amp; ]]> \ufffd\ufffd\ufffd end'


def test_empty_report_is_an_empty_testsuites() -> None:
    root = valid_junit(render("junit", replace(sample_report(), findings=(), sources=())))
    assert root.tag == "testsuites" and root.get("tests") == "0" and list(root) == []

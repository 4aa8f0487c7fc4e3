"""scan/findings --format csv: RFC 4180 rows under a fixed header, with no formula a spreadsheet runs."""

from __future__ import annotations

from dataclasses import replace

import pytest

from agent.outputs import render
from agent.outputs.csvfile import HEADER, safe_cell
from tests.unit.outputs_kit import finding, sample_report, valid_csv


def test_one_row_per_finding_under_the_header() -> None:
    report = sample_report()
    text = render("csv", report)
    rows = valid_csv(text)
    assert len(rows) == len(report.findings)
    assert text.endswith("\r\n")  # records end in CRLF (newlines inside a quoted cell stay as they are)
    public = next(r for r in rows if r["resource_id"] == "arn:aws:s3:::public-assets")
    assert public["status"] == "fail" and public["severity"] == "critical"
    assert public["requirements"] == "ISO27001:A.8.3;SOC2:CC6.1"
    assert public["check_title"] == "S3 bucket policies do not grant access to everyone"
    assert public["time"] == "2026-03-01T12:00:00Z" and public["first_seen"] == ""
    assert public["remediation_url"].startswith("https://") and "CLI: aws s3api" in public["remediation"]


@pytest.mark.parametrize("lead", ["=", "+", "-", "@", "\t", "\r", "\uff1d"])
def test_formula_triggers_get_a_leading_quote(lead: str) -> None:
    evil = lead + 'HYPERLINK("http://x","y")'
    assert safe_cell(evil) == "'" + evil
    report = replace(sample_report(), findings=(finding(message=evil, resource_id=evil, account=evil),))
    (row,) = valid_csv(render("csv", report))
    assert row["message"] == row["resource_id"] == row["account"] == "'" + evil


def test_separators_quotes_and_newlines_round_trip() -> None:
    message = 'a, "quoted" value\nover two lines; and a \r carriage return'
    (row,) = valid_csv(render("csv", replace(sample_report(), findings=(finding(message=message),))))
    assert row["message"] == message
    assert safe_cell("plain") == "plain" and safe_cell("a=b") == "a=b" and safe_cell("") == ""


def test_header_is_stable() -> None:
    assert HEADER[:3] == ("time", "finding_uid", "provider") and len(set(HEADER)) == len(HEADER)
    assert render("csv", replace(sample_report(), findings=())) == ",".join(HEADER) + "\r\n"


def test_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown output format"):
        render("xlsx", sample_report())

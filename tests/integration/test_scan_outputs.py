"""`scan aws --output-format ocsf|sarif|junit|csv` and `findings --format ...` through the real CLI
against moto: each output validates against its schema and carries the seeded failures."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import boto3
import pytest

from tests.unit.outputs_kit import valid_csv, valid_junit, valid_ocsf, valid_sarif

PUBLIC = "arn:aws:s3:::public-assets"


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The command's outcome, its output decoded as UTF-8 byte for byte (CSV's CRLFs kept)."""
    proc = subprocess.run(
        [sys.executable, "-m", "agent.cli.main", *args], capture_output=True, timeout=300, cwd=cwd, env=dict(os.environ)
    )
    return subprocess.CompletedProcess(proc.args, proc.returncode, proc.stdout.decode(), proc.stderr.decode())


@pytest.fixture
def seeded(aws: str) -> str:
    s3 = boto3.client("s3", endpoint_url=aws)
    s3.create_bucket(Bucket="public-assets")
    policy = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"{PUBLIC}/*"}],
    }
    s3.put_bucket_policy(Bucket="public-assets", Policy=json.dumps(policy))
    return aws


def test_scan_and_findings_in_every_output_format(seeded: str, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'p.db'}"
    sarif_file = tmp_path / "scan.sarif"
    proc = cli(
        "scan", "aws", "-r", "us-east-1", "--db", db, "--output-format", "sarif", "-o", str(sarif_file), cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""  # the file gets the SARIF, stdout nothing
    log = valid_sarif(sarif_file.read_text(encoding="utf-8"))
    results = log["runs"][0]["results"]
    public = [r for r in results if r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] == PUBLIC]
    assert any(r["ruleId"] == "aws.s3.bucket_no_public_policy" and r["level"] == "error" for r in public)
    rules = {r["id"]: r for r in log["runs"][0]["tool"]["driver"]["rules"]}
    assert any(req.startswith("SOC2:") for req in rules["aws.s3.bucket_no_public_policy"]["properties"]["requirements"])

    # JUnit on stdout, and the --fail-on gate works whatever the format
    gated = cli(
        "scan", "aws", "-r", "us-east-1", "--db", db, "--format", "junit", "--fail-on", "critical", cwd=tmp_path
    )
    assert gated.returncode == 1, gated.stderr
    root = valid_junit(gated.stdout)
    (suite,) = [s for s in root.findall("testsuite") if s.get("name") == "aws.s3.bucket_no_public_policy"]
    (case,) = [c for c in suite.findall("testcase") if c.get("name") == PUBLIC]
    assert case.find("failure") is not None and int(suite.get("failures", "0")) >= 1

    # the daemon store's current findings: the same formats
    ocsf = cli("findings", "--db", db, "--format", "ocsf", cwd=tmp_path)
    assert ocsf.returncode == 0, ocsf.stderr
    events = valid_ocsf(ocsf.stdout)
    (bucket,) = [
        e
        for e in events
        if e["resources"][0]["uid"] == PUBLIC and e["metadata"]["event_code"] == "aws.s3.bucket_no_public_policy"
    ]
    assert bucket["status_code"] == "FAIL" and bucket["severity"] == "Critical"
    assert bucket["cloud"]["account"]["uid"] == "123456789012"
    assert "first_seen_time" in bucket["finding_info"]

    csv_out = cli("findings", "--db", db, "--output-format", "csv", "--status", "fail", cwd=tmp_path)
    assert csv_out.returncode == 0, csv_out.stderr
    rows = valid_csv(csv_out.stdout)
    assert rows and all(r["status"] == "fail" for r in rows)
    assert any(r["resource_id"] == PUBLIC and r["check_id"] == "aws.s3.bucket_no_public_policy" for r in rows)
    sarif_out = tmp_path / "findings.sarif"
    to_file = cli("findings", "--db", db, "--format", "sarif", "--output", str(sarif_out), cwd=tmp_path)
    assert to_file.returncode == 0 and to_file.stdout == "", to_file.stderr
    assert valid_sarif(sarif_out.read_text(encoding="utf-8"))["runs"][0]["results"]
    json_out = tmp_path / "findings.json"
    table = cli("findings", "--db", db, "--status", "fail", "-o", str(json_out), cwd=tmp_path)
    assert table.returncode == 0 and "aws.s3.bucket_no_public_policy" in table.stdout  # the table, and the file
    assert {r["status"] for r in json.loads(json_out.read_text(encoding="utf-8"))} == {"fail"}
    for out in (proc, gated, ocsf, csv_out, to_file, table):
        assert "Traceback" not in out.stderr and "testing" not in out.stdout  # no credential in any output

"""`posture-agent scan` against moto through AWS_ENDPOINT_URL: the JSON contract, table, exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import boto3
import jsonschema
import pytest

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "docs" / "scan-output.schema.json").read_text())


def scan(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "agent.cli.main", "scan", *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
        env=dict(os.environ),
    )


@pytest.fixture
def seeded(aws: str) -> str:
    s3 = boto3.client("s3", endpoint_url=aws)
    s3.create_bucket(Bucket="public-assets")
    s3.put_bucket_policy(
        Bucket="public-assets",
        Policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": "*",
                        "Action": "s3:GetObject",
                        "Resource": "arn:aws:s3:::public-assets/*",
                    }
                ],
            }
        ),
    )
    iam = boto3.client("iam", endpoint_url=aws)
    iam.create_user(UserName="eve")
    iam.create_login_profile(UserName="eve", Password="Passw0rd!Passw0rd!")
    return aws


def test_scan_json_contract_with_no_config(seeded: str, tmp_path: Path) -> None:
    out = tmp_path / "scan.json"
    proc = scan(
        "aws",
        "--region",
        "us-east-1",
        "--db",
        f"sqlite:///{tmp_path / 'p.db'}",
        "--format",
        "json",
        "--output",
        str(out),
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(out.read_text())
    jsonschema.validate(doc, SCHEMA)
    assert doc["run"]["sources"][0]["account"] == "123456789012"
    by_check = {(f["check_id"], f["resource_id"]): f for f in doc["findings"]}
    public = by_check[("aws.s3.bucket_no_public_policy", "arn:aws:s3:::public-assets")]
    assert public["status"] == "fail" and public["severity"] == "critical"
    assert "SOC2:CC6.1" in public["controls"] or any(c.startswith("SOC2:") for c in public["controls"])
    eve = by_check[("aws.iam.console_user_mfa", "arn:aws:iam::123456789012:user/eve")]
    assert eve["status"] == "fail" and "eve" in eve["message"]
    assert all(f["region"] in ("us-east-1", "global") for f in doc["findings"])


def test_scan_table_and_fail_on(seeded: str, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'p.db'}"
    proc = scan("aws", "-r", "us-east-1", "--db", db, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "aws.s3.bucket_no_public_policy" in proc.stdout and "public-assets" in proc.stdout
    gated = scan("aws", "-r", "us-east-1", "--db", db, "--fail-on", "critical", "--format", "json", cwd=tmp_path)
    assert gated.returncode == 1
    jsonschema.validate(json.loads(gated.stdout), SCHEMA)


def test_scan_bad_input_is_one_line(tmp_path: Path) -> None:
    for args, needle in (
        (("gcp",), "give a provider"),
        (("aws", "--region", "moon-1"), "--region"),
        (("--config", str(tmp_path / "missing.yaml")), "config file not found"),
    ):
        proc = scan(*args, cwd=tmp_path)
        assert proc.returncode == 2, (args, proc.stderr)
        assert "Traceback" not in proc.stderr and needle in proc.stderr, proc.stderr

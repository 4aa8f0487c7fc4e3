"""The store-reading commands over a real scan of moto: findings filters, checks list, db upgrade."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import boto3
import pytest

from tests.unit.checks.casekit import declared_check_ids


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "agent.cli.main", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env=dict(os.environ),
    )


@pytest.fixture
def scanned(aws: str, tmp_path: Path) -> str:
    s3 = boto3.client("s3", endpoint_url=aws)
    s3.create_bucket(Bucket="plain-bucket")
    boto3.client("iam", endpoint_url=aws).create_user(UserName="frank")
    db = f"sqlite:///{tmp_path / 'p.db'}"
    proc = cli("scan", "aws", "-r", "us-east-1", "--db", db, "--format", "json")
    assert proc.returncode == 0, proc.stderr
    return db


def test_findings_filters(scanned: str) -> None:
    every = json.loads(cli("findings", "--db", scanned, "--format", "json").stdout)
    assert {r["status"] for r in every} >= {"pass", "fail"}
    failing = json.loads(cli("findings", "--db", scanned, "--status", "fail", "--format", "json").stdout)
    assert failing and all(r["status"] == "fail" for r in failing)
    one = json.loads(cli("findings", "--db", scanned, "--check", "aws.s3.bucket_versioning", "--format", "json").stdout)
    assert [(r["resource_id"], r["status"]) for r in one] == [("arn:aws:s3:::plain-bucket", "fail")]
    cc61 = json.loads(cli("findings", "--db", scanned, "--control", "SOC2:CC6.1", "--format", "json").stdout)
    assert cc61 and all("SOC2:CC6.1" in r["controls"] for r in cc61)
    assert len(cc61) < len(every)
    other = json.loads(cli("findings", "--db", scanned, "--account", "999999999999", "--format", "json").stdout)
    assert other == []
    mine = json.loads(cli("findings", "--db", scanned, "--account", every[0]["account"], "--format", "json").stdout)
    assert len(mine) == len([r for r in every if r["account"] == every[0]["account"]]) > 0
    table = cli("findings", "--db", scanned, "--status", "fail")
    assert table.returncode == 0 and "aws.s3.bucket_versioning" in table.stdout


def test_checks_list_and_db_upgrade(tmp_path: Path) -> None:
    checks = json.loads(cli("checks", "list", "--provider", "aws", "--format", "json").stdout)
    assert {c["id"] for c in checks} == declared_check_ids("checks.aws")  # the whole AWS catalog
    assert all(c["remediation"]["console"] and c["rationale"] for c in checks)
    assert all(any(t.startswith("SOC2:") for t in c["controls"]) for c in checks)
    db = f"sqlite:///{tmp_path / 'new.db'}"
    first = cli("db", "upgrade", "--db", db)
    assert first.returncode == 0 and "at revision" in first.stdout
    assert cli("db", "upgrade", "--db", db).stdout == first.stdout  # idempotent
    bad = cli("db", "upgrade", "--db", "postgresql+psycopg://nobody@127.0.0.1:1/x")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr and "cannot reach database" in bad.stderr

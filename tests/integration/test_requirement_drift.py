"""Requirement state transitions are drift events: a bucket loses its TLS-only policy between
cycles (moto), and CIS AWS 2.1.1 goes pass -> fail, then back."""

from __future__ import annotations

import json

import boto3
import sqlalchemy as sa

from agent.config import parse_config
from agent.cycle import Pipeline
from agent.store import Store
from collectors.aws.config import AwsSource

TLS_ONLY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "TlsOnly",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": ["arn:aws:s3:::tls-bucket", "arn:aws:s3:::tls-bucket/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ],
    }
)


def requirement_events(store: Store) -> list[tuple[str, str, str | None, str | None]]:
    with store.engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT kind, resource_id, previous_status, status FROM drift_events "
                "WHERE resource_type = 'requirement' ORDER BY id"
            )
        ).all()
    return [tuple(r) for r in rows]


def test_requirement_regression_and_resolution_are_drift_events(aws: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    s3 = boto3.client("s3", endpoint_url=aws)
    s3.create_bucket(Bucket="tls-bucket")
    s3.put_bucket_policy(Bucket="tls-bucket", Policy=TLS_ONLY)
    store = Store(f"sqlite:///{tmp_path / 'p.db'}")
    store.upgrade()
    cfg = parse_config(f"database: sqlite:///{tmp_path / 'p.db'}\nscope: {{frameworks: [cis_aws]}}\n", env={})
    pipeline = Pipeline(cfg, store)
    source = AwsSource(name="t", provider="aws", regions=["us-east-1"], endpoint_url=aws, services=["s3"])
    pipeline.run_cycle(source)  # baseline
    assert requirement_events(store) == []
    s3.delete_bucket_policy(Bucket="tls-bucket")
    pipeline.run_cycle(source)
    assert ("requirement_regressed", "CIS-AWS:2.1.1", "pass", "fail") in requirement_events(store)
    pipeline.run_cycle(source)  # unchanged: nothing new
    count = len(requirement_events(store))
    s3.put_bucket_policy(Bucket="tls-bucket", Policy=TLS_ONLY)
    pipeline.run_cycle(source)
    events = requirement_events(store)
    assert len(events) > count and ("requirement_resolved", "CIS-AWS:2.1.1", "fail", "pass") in events
    store.close()

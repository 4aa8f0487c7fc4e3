"""A source limited by ``services`` never gives a verdict on data it did not look for."""

from __future__ import annotations

import boto3

from agent.config import parse_config
from agent.cycle import Pipeline
from agent.models import Status
from collectors.aws.config import AwsSource


def test_a_check_needing_a_service_left_out_reports_error(aws: str) -> None:
    ec2 = boto3.client("ec2", region_name="us-east-1", endpoint_url=aws)
    ec2.run_instances(ImageId="ami-12c6146b", MinCount=1, MaxCount=1)
    pipeline = Pipeline(parse_config("", env={}), None)
    ec2_only = AwsSource(name="ec2-only", provider="aws", regions=["us-east-1"], services=["ec2"])
    result = pipeline.run_cycle(ec2_only)
    managed = [f for f in result.findings if f.check_id == "aws.ec2.instance_ssm_managed"]
    assert managed, result.error
    assert {f.status for f in managed} == {Status.ERROR}  # not "fail: not managed by SSM"
    assert all("aws.ssm.managed_instance, which this source does not collect" in f.message for f in managed)
    # the same check with SSM in scope gives a verdict (or an error naming the failed call), never this one
    both = AwsSource(name="both", provider="aws", regions=["us-east-1"], services=["ec2", "ssm"])
    again = [f for f in pipeline.run_cycle(both).findings if f.check_id == "aws.ec2.instance_ssm_managed"]
    assert again and not any("does not collect" in f.message for f in again)

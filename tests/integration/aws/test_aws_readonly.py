"""Read-only enforcement: the before-call guard, the allowlist vs the table, the IAM policy and the
CloudFormation role template."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from awstest_helpers import Calls, make_source, seeder
from posture_demo.awsproxy import AwsProxy

from collectors.aws.allowlist import ALLOWED_ACTIONS, ReadOnlyViolation, iam_action
from collectors.aws.session import ClientFactory
from collectors.aws.table import all_operations

DEPLOY = Path(__file__).resolve().parents[3] / "deploy" / "aws"


def _statement_actions(document: dict[str, Any]) -> set[str]:
    actions: set[str] = set()
    for statement in document["Statement"]:
        assert statement["Effect"] == "Allow"
        value = statement["Action"]
        actions |= {value} if isinstance(value, str) else set(value)
    return actions


def test_the_guard_refuses_writes_before_they_leave_the_process(proxy: AwsProxy, aws: str) -> None:
    moto_s3, moto_ec2 = seeder(aws)("s3"), seeder(aws)("ec2")
    moto_s3.create_bucket(Bucket="keep-me")
    instance = moto_ec2.run_instances(ImageId="ami-12345678", MinCount=1, MaxCount=1)["Instances"][0]
    calls = Calls()
    factory = ClientFactory(make_source(), calls)
    s3 = factory.client(boto3.Session(), "s3", "us-east-1")
    ec2 = factory.client(boto3.Session(), "ec2", "us-east-1")
    seen = len(proxy.seen)
    with pytest.raises(ReadOnlyViolation, match="s3:DeleteBucket"):
        s3.delete_bucket(Bucket="keep-me")
    with pytest.raises(ReadOnlyViolation, match="ec2:TerminateInstances"):
        ec2.terminate_instances(InstanceIds=[instance["InstanceId"]])
    with pytest.raises(ReadOnlyViolation):
        s3.put_bucket_policy(Bucket="keep-me", Policy="{}")
    assert len(proxy.seen) == seen  # nothing reached the wire
    assert not calls.counts
    assert [b["Name"] for b in moto_s3.list_buckets()["Buckets"]] == ["keep-me"]
    state = moto_ec2.describe_instances()["Reservations"][0]["Instances"][0]["State"]["Name"]
    assert state == "running"
    # and reads pass
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["keep-me"]
    assert calls.count("s3", "ListBuckets") == 1


def test_every_table_operation_is_on_the_allowlist_and_nothing_else_is() -> None:
    from collectors.endpoints.ssm import OPERATIONS as SSM_DEVICE_OPERATIONS

    needed = {iam_action(service, op) for service, op in all_operations() | SSM_DEVICE_OPERATIONS}
    assert needed == ALLOWED_ACTIONS


@pytest.mark.parametrize(
    ("service", "operation", "action"),
    [
        ("s3", "ListBuckets", "s3:ListAllMyBuckets"),
        ("s3", "GetBucketEncryption", "s3:GetEncryptionConfiguration"),
        ("s3", "GetPublicAccessBlock", "s3:GetBucketPublicAccessBlock"),
        ("s3control", "GetPublicAccessBlock", "s3:GetAccountPublicAccessBlock"),
        ("s3control", "PutPublicAccessBlock", "-s3control-:PutPublicAccessBlock"),
        ("elbv2", "DescribeListeners", "elasticloadbalancing:DescribeListeners"),
        ("efs", "DescribeFileSystems", "elasticfilesystem:DescribeFileSystems"),
        ("accessanalyzer", "ListAnalyzers", "access-analyzer:ListAnalyzers"),
    ],
)
def test_boto3_operations_map_to_iam_actions(service: str, operation: str, action: str) -> None:
    assert iam_action(service, operation) == action


def test_the_iam_policy_grants_exactly_the_allowlist() -> None:
    policy = json.loads((DEPLOY / "posture-agent-readonly-policy.json").read_text())
    assert _statement_actions(policy) == ALLOWED_ACTIONS
    assert all("*" not in a.split(":", 1)[1] for a in _statement_actions(policy))


def test_the_cloudformation_role_has_the_allowlist_and_an_external_id() -> None:
    template = yaml.safe_load((DEPLOY / "posture-agent-role.yaml").read_text())
    role = template["Resources"]["PostureAgentRole"]
    assert role["Type"] == "AWS::IAM::Role"
    (trust,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Condition"]["StringEquals"]["sts:ExternalId"] == {"Ref": "ExternalId"}
    assert template["Parameters"]["ExternalId"]["NoEcho"] is True
    (inline,) = role["Properties"]["Policies"]
    assert _statement_actions(inline["PolicyDocument"]) == ALLOWED_ACTIONS

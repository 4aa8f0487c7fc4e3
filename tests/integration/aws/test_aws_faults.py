"""Partial failure: denied listings, failed detail calls, throttling, pagination, cancellation."""

from __future__ import annotations

import pytest
from awstest_helpers import Calls, context, make_source, seeder
from posture_demo.awsproxy import AwsProxy, Fault

import checks.aws.ec2 as ec2_checks
from agent.evaluate import evaluate
from agent.models import Status
from collectors import Cancelled, CollectContext
from collectors.aws import collect
from collectors.aws.table import PAGE_SIZE

ACCOUNT = "123456789012"


def test_a_denied_region_is_a_collection_error_and_the_rest_is_complete(proxy: AwsProxy, aws: str) -> None:
    for region in ("us-east-1", "eu-west-1"):
        seeder(aws)("ec2", region).create_security_group(GroupName="web", Description="d")
        seeder(aws)("kms", region).create_key()
    proxy.add_fault(
        Fault(
            service="ec2",
            operation="DescribeSecurityGroups",
            region="eu-west-1",
            status=403,
            code="UnauthorizedOperation",
            message="not you",
        )
    )
    proxy.add_fault(Fault(service="kms", region="eu-west-1", status=400, code="AccessDeniedException"))
    (snap,) = collect(make_source(services=["ec2", "kms"]), context())
    errors = {(e.resource_type, e.region): e for e in snap.errors}
    assert set(errors) == {("aws.ec2.security_group", "eu-west-1"), ("aws.kms.key", "eu-west-1")}
    sg_error = errors[("aws.ec2.security_group", "eu-west-1")]
    assert (sg_error.service, sg_error.operation, sg_error.code, sg_error.message) == (
        "ec2",
        "DescribeSecurityGroups",
        "UnauthorizedOperation",
        "not you",
    )
    assert errors[("aws.kms.key", "eu-west-1")].operation == "ListKeys"
    assert snap.status == "partial"
    assert snap.of_type("aws.ec2.security_group", region="eu-west-1") == []
    assert any(r.name == "web" for r in snap.of_type("aws.ec2.security_group", region="us-east-1"))
    assert len(snap.of_type("aws.kms.key", region="us-east-1")) == 1
    for region in ("us-east-1", "eu-west-1"):  # everything else in the denied region is there
        assert snap.of_type("aws.ec2.vpc", region=region)
        assert snap.of_type("aws.ec2.settings", region=region)


def test_a_failed_detail_call_is_a_resource_error(proxy: AwsProxy, aws: str) -> None:
    seeder(aws)("s3").create_bucket(Bucket="denied-encryption")
    proxy.add_fault(
        Fault(service="s3", operation="GetBucketEncryption", status=403, code="AccessDenied", message="Access Denied")
    )
    (snap,) = collect(make_source(services=["s3"]), context())
    assert snap.errors == ()
    bucket = snap.get("arn:aws:s3:::denied-encryption")
    assert bucket is not None
    assert bucket.errors == {"Encryption": "AccessDenied: Access Denied"}
    assert "Encryption" not in bucket.attributes
    assert bucket.attributes["PublicAccessBlock"] is None  # not configured: null, not an error


def test_denied_iam_sources_are_reported_where_they_starve(proxy: AwsProxy, aws: str) -> None:
    seeder(aws)("iam").create_user(UserName="bob")
    proxy.add_fault(
        Fault(service="iam", operation="GetAccountAuthorizationDetails", status=403, code="AccessDenied", message="no")
    )
    (snap,) = collect(make_source(services=["iam"]), context())
    bob = snap.get(f"arn:aws:iam::{ACCOUNT}:user/bob")
    assert bob is not None and bob.errors == {"AuthorizationDetails": "AccessDenied: no"}
    assert bob.attributes["Credentials"]["user"] == "bob"
    assert {(e.resource_type, e.operation) for e in snap.errors} == {
        ("aws.iam.policy", "GetAccountAuthorizationDetails"),
        ("aws.iam.group", "GetAccountAuthorizationDetails"),
    }


def test_ssm_management_is_an_error_where_ssm_could_not_be_listed(proxy: AwsProxy, aws: str) -> None:
    """aws.ec2.instance_ssm_managed over the wire: where DescribeInstanceInformation was denied the
    instances are errors (not failures, never passes); elsewhere the unmanaged one fails."""
    ids: dict[str, str] = {}
    for region, names in (("us-east-1", ("managed", "unmanaged")), ("eu-west-1", ("unseen",))):
        ec2 = seeder(aws)("ec2", region)
        ami = "ami-12c6146b" if region == "eu-west-1" else "ami-1234abcd"
        for name in names:
            iid = ec2.run_instances(ImageId=ami, MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
            ids[name] = f"arn:aws:ec2:{region}:{ACCOUNT}:instance/{iid}"
    tail = lambda arn: arn.rsplit("/", 1)[-1]  # noqa: E731
    proxy.inventory = {tail(ids["managed"]): [], tail(ids["unseen"]): []}  # both run an SSM agent
    proxy.add_fault(
        Fault(service="ssm", operation="DescribeInstanceInformation", region="eu-west-1", code="AccessDeniedException")
    )
    (snap,) = collect(make_source(services=["ec2", "ssm"]), context())
    assert {(e.resource_type, e.region) for e in snap.errors} == {("aws.ssm.managed_instance", "eu-west-1")}
    findings = evaluate(snap, [ec2_checks.instance_ssm_managed])
    assert {f.resource_id: f.status for f in findings} == {
        ids["managed"]: Status.PASS,
        ids["unmanaged"]: Status.FAIL,
        ids["unseen"]: Status.ERROR,
    }


def test_throttling_is_retried(proxy: AwsProxy, aws: str) -> None:
    proxy.add_fault(
        Fault(
            service="ec2",
            operation="GetEbsEncryptionByDefault",
            region="us-east-1",
            status=400,
            code="Throttling",
            times=2,
        )
    )
    (snap,) = collect(make_source(services=["ec2"], regions=["us-east-1"]), context())
    assert snap.errors == ()
    assert snap.of_type("aws.ec2.settings")
    assert [f.times for f in proxy.faults] == [0]


def test_unreachable_endpoint_is_a_collection_error(proxy: AwsProxy, aws: str) -> None:
    proxy.add_fault(Fault(service="logs", region="eu-west-1", drop=True))
    (snap,) = collect(make_source(services=["logs", "sqs"]), context())
    (error,) = snap.errors
    assert (error.resource_type, error.region, error.operation) == (
        "aws.logs.log_group",
        "eu-west-1",
        "DescribeLogGroups",
    )
    assert error.code in {"ConnectionClosedError", "EndpointConnectionError", "ReadTimeoutError"}


def test_listings_cross_page_boundaries(proxy: AwsProxy, aws: str) -> None:
    n = PAGE_SIZE + 10
    logs, sqs = seeder(aws)("logs"), seeder(aws)("sqs")
    for i in range(n):
        logs.create_log_group(logGroupName=f"group-{i:03d}")
        sqs.create_queue(QueueName=f"queue-{i:03d}")
    calls = Calls()
    (snap,) = collect(make_source(services=["logs", "sqs"], regions=["us-east-1"]), context(calls))
    assert snap.errors == ()
    assert len(snap.of_type("aws.logs.log_group")) == n
    assert len(snap.of_type("aws.sqs.queue")) == n
    assert calls.count("logs", "DescribeLogGroups") == 2
    assert calls.count("sqs", "ListQueues") == 2


def test_cancellation_stops_the_run(proxy: AwsProxy) -> None:
    ctx = CollectContext()
    ctx.cancel.set()
    with pytest.raises(Cancelled):
        collect(make_source(services=["ec2"]), ctx)


def test_unreachable_endpoint_is_one_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """No account can be identified: the run fails with a message naming the call, not a traceback."""
    import socket

    from agent.errors import AgentError
    from collectors.aws.config import AwsSource

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    with pytest.raises(
        AgentError,
        match=r"cannot identify the AWS account \(sts:GetCallerIdentity\): "
        r"EndpointConnectionError",
    ):
        collect(AwsSource(name="dead", provider="aws", regions=["us-east-1"], endpoint_url=dead), CollectContext())

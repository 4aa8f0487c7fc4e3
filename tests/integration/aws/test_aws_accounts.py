"""Accounts: organisation discovery, assumed-role sessions, unreachable accounts, credentials."""

from __future__ import annotations

from typing import Any

import pytest
from awstest_helpers import Calls, context, make_source, member_session, seeder
from posture_demo.awsproxy import AwsProxy, Fault

from agent.errors import AgentError
from collectors import CollectContext
from collectors.aws import collect
from collectors.aws.config import AwsAccount

MGMT = "123456789012"


def _organisation(moto: str) -> list[str]:
    org = seeder(moto)("organizations")
    org.create_organization(FeatureSet="ALL")
    ids = []
    for n in (1, 2):
        status = org.create_account(Email=f"m{n}@example.com", AccountName=f"member-{n}")
        ids.append(status["CreateAccountStatus"]["AccountId"])
    return ids


def _seed_accounts(moto: str, members: list[str]) -> None:
    seeder(moto)("sqs").create_queue(QueueName=f"q-{MGMT}")
    for account in members:
        c = seeder(moto, member_session(moto, account))
        c("sqs").create_queue(QueueName=f"q-{account}")
        c("sqs", "eu-west-1").create_queue(QueueName=f"eu-{account}")
        c("iam").create_user(UserName=f"user-{account}")


def test_organisation_discovery_scans_each_member_with_assumed_credentials(
    proxy: AwsProxy, aws: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    members = _organisation(aws)
    _seed_accounts(aws, members)
    monkeypatch.setenv("POSTURE_TEST_EXTERNAL_ID", "s3cret")
    calls = Calls()
    source = make_source(
        organization=True,
        role_name="OrganizationAccountAccessRole",
        external_id="env:POSTURE_TEST_EXTERNAL_ID",
        services=["sqs", "iam"],
    )
    snapshots = collect(source, context(calls))
    by_account = {s.account: s for s in snapshots}
    assert set(by_account) == {MGMT, *members}
    assert calls.count("sts", "AssumeRole") == 2  # the management account uses its own credentials
    assert calls.count("organizations", "ListAccounts") == 1
    for account, snap in by_account.items():
        assert snap.errors == (), [e.summary() for e in snap.errors]
        assert snap.source == "test-aws" and snap.provider == "aws"
        assert all(r.account == account for r in snap.resources)
        queues = {r.id for r in snap.of_type("aws.sqs.queue")}
        expected = {f"arn:aws:sqs:us-east-1:{account}:q-{account}"}
        if account != MGMT:
            expected.add(f"arn:aws:sqs:eu-west-1:{account}:eu-{account}")
            assert snap.get(f"arn:aws:iam::{account}:user/user-{account}") is not None
        assert queues == expected
        assert snap.get(f"arn:aws:iam::{account}:root") is not None


def test_explicit_accounts_and_an_unreachable_one(proxy: AwsProxy, aws: str) -> None:
    members = _organisation(aws)
    _seed_accounts(aws, members)
    # the first AssumeRole is refused: that account becomes an empty snapshot with one error
    proxy.add_fault(Fault(service="sts", operation="AssumeRole", status=403, code="AccessDenied", times=1))
    source = make_source(
        services=["sqs"],
        max_workers=1,
        accounts=[
            AwsAccount(role_arn=f"arn:aws:iam::{members[0]}:role/OrganizationAccountAccessRole"),
            AwsAccount(id=members[1], role_name="OrganizationAccountAccessRole", external_id="plain-id"),
        ],
    )
    first, second = collect(source, context())
    assert first.account == members[0] and first.resources == ()
    (error,) = first.errors
    assert (error.service, error.operation, error.code, error.resource_type) == (
        "sts",
        "AssumeRole",
        "AccessDenied",
        "",
    )
    assert second.account == members[1] and second.errors == ()
    assert {r.id for r in second.resources} >= {f"arn:aws:sqs:us-east-1:{members[1]}:q-{members[1]}"}


def test_default_is_the_callers_own_account(proxy: AwsProxy) -> None:
    (snap,) = collect(make_source(services=["iam"]), context())
    assert snap.account == MGMT and snap.errors == ()
    assert [r.type for r in snap.resources] == ["aws.account"]


def test_regions_default_to_every_enabled_region(proxy: AwsProxy) -> None:
    calls = Calls()
    (snap,) = collect(make_source(regions=None, services=["ec2"], max_workers=16), context(calls))
    assert calls.count("ec2", "DescribeRegions") == 1
    regions = {r.region for r in snap.of_type("aws.ec2.settings")}
    assert {"us-east-1", "eu-west-1", "ap-southeast-2"} <= regions


def test_no_credentials_at_all_is_an_agent_error(aws: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    with pytest.raises(AgentError, match="no AWS credentials"):
        collect(make_source(), context())


class _Progress:
    def __init__(self) -> None:
        self.total = 0
        self.done = 0

    def add_total(self, n: int) -> None:
        self.total += n

    def advance(self, n: int = 1, description: str = "") -> None:
        self.done += n


def test_source_endpoint_url_and_progress(proxy: AwsProxy, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without AWS_ENDPOINT_URL, the source's endpoint_url reaches every client (STS included)."""
    monkeypatch.delenv("AWS_ENDPOINT_URL")
    progress = _Progress()
    ctx = CollectContext(progress=progress)
    (snap,) = collect(make_source(services=["sqs", "s3"], endpoint_url=proxy.url), ctx)
    assert snap.errors == () and snap.get(f"arn:aws:s3::{MGMT}:account") is not None
    assert progress.total == progress.done == 4  # s3 + s3control (global), sqs x 2 regions
    assert {i.service for i in proxy.seen} >= {"sts", "s3", "sqs"}

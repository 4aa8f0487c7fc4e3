"""An AWS source's rate_limit, collected against moto with the real Redis: calls past the shared
bucket are not made and become collection errors (never a pass), and AssumeRole calls past the
organisation's budget leave those accounts unreachable with the reason."""

from __future__ import annotations

import uuid
from typing import Any

import boto3
import pytest

from agent.evaluate import evaluate
from agent.registry import load_checks
from collectors import CollectContext
from collectors.aws import collect
from collectors.aws.config import AwsRateLimit, AwsSource


def _source(redis_url: str, monkeypatch: pytest.MonkeyPatch, **limits: Any) -> AwsSource:
    monkeypatch.setenv("POSTURE_TEST_LIMITS_REDIS", redis_url)
    spec = AwsRateLimit(redis="env:POSTURE_TEST_LIMITS_REDIS", prefix=f"t{uuid.uuid4().hex[:12]}", **limits)
    return AwsSource(name="limited", provider="aws", regions=["us-east-1"], services=["iam"], rate_limit=spec)


def test_calls_past_the_shared_bucket_are_errors_not_passes(
    aws: str, redis_base: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    iam = boto3.client("iam", region_name="us-east-1")
    iam.create_user(UserName="someone")
    source = _source(redis_base, monkeypatch, per_second={"default": 0.0001}, burst=2, wait="0s")
    (snap,) = collect(source, CollectContext())
    limited = [e for e in snap.errors if "rate-limit token" in e.message]
    assert limited and all(e.service == "iam" for e in limited)
    findings = evaluate(snap, load_checks().values())
    starved = {e.resource_type for e in limited}
    assert not [f for f in findings if f.resource_type in starved and f.status.value == "pass"]


def test_an_unlimited_run_of_the_same_source_has_no_such_error(
    aws: str, redis_base: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = _source(redis_base, monkeypatch, per_second={"default": 1000}, burst=1000)
    (snap,) = collect(source, CollectContext())
    assert not [e for e in snap.errors if "rate-limit" in e.message]


def test_assume_role_past_the_organisation_budget_leaves_accounts_unreachable(
    aws: str, redis_base: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    org = boto3.client("organizations", region_name="us-east-1")
    org.create_organization(FeatureSet="ALL")
    for n in range(3):
        org.create_account(Email=f"m{n}@example.com", AccountName=f"member-{n}")
    source = _source(redis_base, monkeypatch, sts_per_hour=1).model_copy(
        update={"organization": True, "role_name": "OrganizationAccountAccessRole"}
    )
    snaps = collect(source, CollectContext())
    spent = [s for s in snaps if any("AssumeRole budget" in e.message for e in s.errors)]
    reached = [s for s in snaps if s.account != "123456789012" and s not in spent]
    assert len(reached) == 1 and len(spent) == 2


def test_an_unreachable_redis_fails_closed(aws: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Not even the caller's identity is asked unthrottled: the collection fails, naming Redis."""
    from agent.errors import AgentError

    source = _source("redis://127.0.0.1:1/0", monkeypatch)
    with pytest.raises(AgentError, match=r"rate limits unavailable \(cannot reach Redis at redis://127\.0\.0\.1:1/0"):
        collect(source, CollectContext())

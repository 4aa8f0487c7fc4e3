"""The configuration of an ``aws`` source, owned by the AWS collector.

``PROVIDER`` is what the ``aws`` entry point of ``posture_agent.collectors`` exposes: the config
validates each ``sources:`` item with ``provider: aws`` into ``AwsSource``, and the collect function
is imported only when a cycle first runs one. ``AwsAccount`` is shared with the endpoints provider's
SSM inventory, which reaches accounts the same way.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Literal

from pydantic import Field, field_validator, model_validator

from agent.config_base import AWS_REGION, IAM_ROLE_ARN, ConfigModel, Duration, SecretRef, SourceBase
from agent.registry import Provider

__all__ = ["PROVIDER", "AwsAccount", "AwsRateLimit", "AwsSource"]


class AwsAccount(ConfigModel):
    id: str | None = Field(default=None, description="12-digit account id")
    role_arn: str | None = None
    role_name: str | None = None
    external_id: SecretRef | str | None = None
    session_name: str = "posture-agent"

    @field_validator("id")
    @classmethod
    def _id(cls, v: str | None) -> str | None:
        if v is not None and not re.fullmatch(r"\d{12}", str(v)):
            raise ValueError(f"account id must be 12 digits, got {v!r}")
        return v

    @field_validator("role_arn")
    @classmethod
    def _arn(cls, v: str | None) -> str | None:
        if v is not None and not IAM_ROLE_ARN.match(v):
            raise ValueError(f"not an IAM role ARN: {v!r} (arn:aws:iam::123456789012:role/NAME)")
        return v

    @model_validator(mode="after")
    def _target(self) -> AwsAccount:
        if (
            self.role_arn is None
            and (self.id is None or self.role_name is None)
            and not (self.id is None and self.role_name is None)
        ):
            raise ValueError("give role_arn, or both id and role_name, or neither (the default credentials)")
        return self


class AwsRateLimit(ConfigModel):
    """Limits shared through Redis by every process collecting this source (agent/scale/ratelimit.py):
    a token bucket per (account, region, service), and an AssumeRole budget per organisation."""

    redis: SecretRef = Field(description="redis://HOST:6379/DB (a secret reference); default: scale.redis")
    per_second: dict[str, float] = Field(
        default_factory=lambda: {"default": 10.0},
        description="Calls a second per (account, region, service), by service; 'default' for the others",
    )
    burst: int = Field(default=20, ge=1, le=10_000, description="Calls at once before the rate applies")
    sts_per_hour: int | None = Field(
        default=None, ge=1, le=100_000, description="AssumeRole calls per organisation in any rolling hour"
    )
    wait: Duration = Field(
        default=timedelta(seconds=60),
        description="Longest a call waits for its token; past it the call is a collection error, never skipped",
    )
    prefix: str = Field(
        default="posture-agent",
        pattern=r"^[A-Za-z0-9._-]{1,64}$",
        description="Redis key prefix: deployments sharing one Redis give different ones",
    )

    @field_validator("per_second")
    @classmethod
    def _rates(cls, v: dict[str, float]) -> dict[str, float]:
        bad = [k for k, r in v.items() if not (0 < r <= 10_000) or not re.fullmatch(r"[a-z0-9-]{1,64}", k)]
        if bad:
            raise ValueError(f"per_second: {bad[0]!r} needs a service name and a rate above 0, at most 10000")
        return v


_CLIENT_OF = {"aws.s3.account": "s3control"}  # types whose boto3 client is not their family


class AwsSource(SourceBase):
    provider: Literal["aws"]
    regions: list[str] | None = Field(default=None, description="Regions to scan; default: every enabled region")
    accounts: list[AwsAccount] = Field(default_factory=list)
    organization: bool = Field(default=False, description="Discover every active member account")
    role_name: str = Field(default="PostureAgentReadOnly", description="Role assumed in member accounts")
    external_id: SecretRef | str | None = None
    profile: str | None = None
    endpoint_url: str | None = Field(default=None, description="Override the AWS endpoint (emulators)")
    max_workers: int = Field(default=8, ge=1, le=64)
    rate_limit: AwsRateLimit | None = Field(
        default=None, description="Rate limits shared through Redis with every other process (workers)"
    )
    services: list[str] | None = Field(default=None, description="Limit collection to these services")
    unit_timeout: Duration = Field(
        default=timedelta(minutes=10),
        description="Longest one (account, region, service) may take; calls past it are not made and what is "
        "left is a collection error",
    )

    def collects(self, resource_type: str) -> bool:
        """What ``collectors.aws.collection.rows_for`` selects, without importing the table (and boto3):
        a type is collected when its family (``aws.<family>.*``) or its boto3 client is listed.
        tests/unit/test_aws_source_scope.py checks the two agree on every row."""
        if not self.services or not resource_type.startswith("aws."):
            return True
        family = "iam" if resource_type == "aws.account" else resource_type.split(".")[1]
        wanted = set(self.services)
        return family in wanted or _CLIENT_OF.get(resource_type) in wanted

    @field_validator("unit_timeout")
    @classmethod
    def _unit_timeout(cls, v: timedelta) -> timedelta:
        if not 10 <= v.total_seconds() <= 6 * 3600:
            raise ValueError("unit_timeout must be between 10s and 6h")
        return v

    @field_validator("regions")
    @classmethod
    def _regions(cls, v: list[str] | None) -> list[str] | None:
        if v is None:
            return v
        bad = [r for r in v if not AWS_REGION.match(r)]
        if bad:
            raise ValueError(f"not an AWS region name: {', '.join(map(repr, bad))}")
        return v


PROVIDER = Provider(name="aws", source_model=AwsSource, collect="collectors.aws.collection:collect")

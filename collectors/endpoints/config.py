"""The configuration of an ``endpoints`` source, owned by the endpoint collectors.

``PROVIDER`` is what the ``endpoints`` entry point of ``posture_agent.collectors`` exposes: the
config validates each ``sources:`` item with ``provider: endpoints`` into ``EndpointSource``, whose
``kind`` picks Intune (reached like an Azure source), Fleet, SSM inventory (reached like an AWS
source) or the push endpoint.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from pydantic import Field, field_validator, model_validator

from agent.config_base import AWS_REGION, ConfigModel, Duration, SecretRef, SourceBase
from agent.registry import Provider
from collectors.aws.config import AwsAccount
from collectors.azure.config import AzureCredentials

__all__ = ["PROVIDER", "EndpointSource", "FleetOptions", "PushOptions", "SsmOptions"]


class FleetOptions(ConfigModel):
    """Fleet (fleetdm.com) REST API: hosts, host details and policy results."""

    url: str = Field(pattern=r"^https?://", description="Fleet server base URL, e.g. https://fleet.example.com")
    token: SecretRef = Field(description="API-only user token (env:NAME or file:/path)")
    ca_bundle: str | None = Field(default=None, description="PEM file to verify the server with")
    per_page: int = Field(default=100, ge=1, le=500)
    timeout: Duration = Field(default=timedelta(seconds=30))
    max_retries: int = Field(default=5, ge=0, le=20, description="Retries after 429/5xx (Retry-After honoured)")
    policies: dict[
        Literal[
            "antivirus",
            "firewall",
            "disk_encryption",
            "os_supported",
            "os_patched",
            "password_required",
            "edr",
            "tamper_protection",
        ],
        str,
    ] = Field(default_factory=dict, description="Fleet policy name whose result answers each device attribute")


class SsmOptions(ConfigModel):
    """AWS Systems Manager inventory for servers; reaches accounts like an AWS source does."""

    regions: list[str] = Field(min_length=1, description="Regions whose managed instances are read")
    accounts: list[AwsAccount] = Field(default_factory=list)
    organization: bool = False
    role_name: str = "PostureAgentReadOnly"
    external_id: SecretRef | str | None = None
    profile: str | None = None
    endpoint_url: str | None = None
    max_workers: int = Field(default=4, ge=1, le=32)

    @field_validator("regions")
    @classmethod
    def _regions(cls, v: list[str]) -> list[str]:
        bad = [r for r in v if not AWS_REGION.match(r)]
        if bad:
            raise ValueError(f"not an AWS region name: {', '.join(map(repr, bad))}")
        return v


class PushOptions(ConfigModel):
    """Devices report themselves to POST /v1/devices on the agent's HTTP port (HMAC-signed)."""

    realm: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$",
        description="Account name the devices are filed under; default: the source name",
    )
    device_keys: SecretRef | None = Field(
        default=None, description="JSON file (or variable) mapping device id -> that device's own key"
    )
    shared_key: SecretRef | None = Field(default=None, description="One HMAC key every device signs with")
    max_report_bytes: int = Field(default=65536, ge=1024, le=1048576)
    replay_window: Duration = Field(default=timedelta(minutes=5), description="Allowed clock skew")
    forget_after: Duration = Field(
        default=timedelta(days=90), description="Devices silent for longer drop out of the snapshot"
    )

    @model_validator(mode="after")
    def _a_key(self) -> PushOptions:
        if self.device_keys is None and self.shared_key is None:
            raise ValueError("give device_keys (one key per device) or shared_key")
        return self


class EndpointSource(SourceBase):
    """Laptops and servers: Intune, Fleet, SSM inventory or the push endpoint (collectors/endpoints)."""

    provider: Literal["endpoints"]
    kind: Literal["intune", "fleet", "ssm", "push"]
    azure: AzureCredentials | None = None
    fleet: FleetOptions | None = None
    ssm: SsmOptions | None = None
    push: PushOptions | None = None

    @model_validator(mode="after")
    def _options_for_kind(self) -> EndpointSource:
        for kind in ("fleet", "ssm", "push"):
            given = getattr(self, kind) is not None
            if kind == self.kind and not given:
                raise ValueError(f"kind {kind} needs a {kind}: section")
            if kind != self.kind and given:
                raise ValueError(f"{kind}: options given but kind is {self.kind}")
        return self

    def reads_agent_store(self) -> bool:
        return self.kind == "push"  # the reports devices pushed to the agent


PROVIDER = Provider(name="endpoints", source_model=EndpointSource, collect="collectors.endpoints:collect")

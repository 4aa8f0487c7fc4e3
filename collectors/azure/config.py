"""The configuration of an ``azure`` source, owned by the Azure collector.

``PROVIDER`` is what the ``azure`` entry point of ``posture_agent.collectors`` exposes: the config
validates each ``sources:`` item with ``provider: azure`` into ``AzureSource``. ``AzureCredentials``
is shared with the endpoints provider's Intune source, which reaches a tenant the same way.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from agent.config_base import ConfigModel, Duration, SecretRef, SourceBase
from agent.registry import Provider

__all__ = ["PROVIDER", "AzureCredentials", "AzureSource"]

_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_TENANT = re.compile(
    r"^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
    r"|[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+)$"
)


def _https_base(value: str | None, key: str) -> str | None:
    if value is None:
        return None
    if not re.match(r"^https://[^/\s]+(/[^\s]*)?$", value):
        raise ValueError(f"{key} must be an https:// URL, got {value!r}")
    return value.rstrip("/")


class AzureCredentials(ConfigModel):
    """How to reach one Microsoft Entra tenant (Graph) and Azure Resource Manager, read-only."""

    tenant_id: str = Field(description="Directory (tenant) id, a GUID or a verified domain")
    auth: Literal["client_secret", "certificate", "workload_identity", "managed_identity", "default"] = Field(
        default="client_secret", description="How the agent gets tokens (azure-identity credential type)"
    )
    client_id: str | None = Field(default=None, description="Application (client) id of the agent's app")
    client_secret: SecretRef | None = Field(default=None, description="For auth: client_secret (env:/file:)")
    certificate_path: str | None = Field(default=None, description="For auth: certificate: PEM with key")
    certificate_password: SecretRef | None = None
    federated_token_file: str | None = Field(
        default=None, description="For auth: workload_identity; default: $AZURE_FEDERATED_TOKEN_FILE"
    )
    authority: str | None = Field(default=None, description="Login host; default https://login.microsoftonline.com")
    graph_url: str = Field(default="https://graph.microsoft.com", description="Microsoft Graph base URL")
    arm_url: str = Field(default="https://management.azure.com", description="Azure Resource Manager base URL")
    ca_bundle: str | None = Field(default=None, description="PEM CA bundle to verify TLS (private clouds, tests)")
    protection_state_path: str = Field(
        default="/beta/deviceManagement/managedDevices/{id}/windowsProtectionState",
        description="Graph path of a device's Windows protection state (beta in Graph today)",
    )
    timeout: Duration = Field(default=timedelta(seconds=30), description="Per-request timeout")

    @field_validator("tenant_id")
    @classmethod
    def _tenant(cls, v: str) -> str:
        if not _TENANT.match(v):
            raise ValueError(f"tenant_id must be a GUID or a domain such as contoso.onmicrosoft.com, got {v!r}")
        return v

    @field_validator("client_id")
    @classmethod
    def _client(cls, v: str | None) -> str | None:
        if v is not None and not _GUID.match(v):
            raise ValueError(f"client_id must be the application (client) id, a GUID, got {v!r}")
        return v

    @field_validator("authority", "graph_url", "arm_url")
    @classmethod
    def _urls(cls, v: str | None, info: Any) -> str | None:
        return _https_base(v, info.field_name)

    @field_validator("protection_state_path")
    @classmethod
    def _path(cls, v: str) -> str:
        if not v.startswith("/") or "{id}" not in v:
            raise ValueError("protection_state_path must start with / and contain {id}")
        return v

    @model_validator(mode="after")
    def _auth_inputs(self) -> AzureCredentials:
        needs: dict[str, tuple[str, ...]] = {
            "client_secret": ("client_id", "client_secret"),
            "certificate": ("client_id", "certificate_path"),
            "workload_identity": ("client_id",),
        }
        missing = [k for k in needs.get(self.auth, ()) if getattr(self, k) is None]
        if missing:
            raise ValueError(f"auth: {self.auth} needs {' and '.join(missing)}")
        if self.auth != "client_secret" and self.client_secret is not None:
            raise ValueError(f"client_secret is only used with auth: client_secret (auth is {self.auth})")
        return self


class AzureSource(SourceBase, AzureCredentials):
    """Microsoft Entra ID (Graph) and Azure Resource Manager (fields owned by collectors/azure)."""

    provider: Literal["azure"]
    subscriptions: list[str] | None = Field(
        default=None, description="Subscription ids or names to scan; default: every one the agent can read"
    )
    entra: bool = Field(default=True, description="Collect Entra ID users, roles and policies (Graph)")
    per_user_mfa: bool = Field(
        default=True,
        description="Read each enabled user's per-user MFA state (Graph beta; one request per enabled user)",
    )
    arm: bool = Field(default=True, description="Collect Azure resources (Resource Manager)")
    max_retries: int = Field(default=4, ge=0, le=10, description="Retries on 429/503 honouring Retry-After")

    def credentials(self) -> AzureCredentials:
        return AzureCredentials(**{k: getattr(self, k) for k in AzureCredentials.model_fields})


PROVIDER = Provider(name="azure", source_model=AzureSource, collect="collectors.azure.collection:collect")

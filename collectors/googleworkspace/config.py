"""The configuration of a ``googleworkspace`` source, owned by the Google Workspace collector.

``PROVIDER`` is what the ``googleworkspace`` entry point of ``posture_agent.collectors`` exposes: the
config validates each ``sources:`` item with ``provider: googleworkspace`` into ``WorkspaceSource``.
The agent reads the Admin SDK Directory API as ``admin_email`` through a service account with
domain-wide delegation (docs/googleworkspace-permissions.md).
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any, Literal

from pydantic import Field, field_validator

from agent.config_base import Duration, SecretRef, SourceBase
from agent.registry import Provider

__all__ = ["DEFAULT_DIRECTORY_URL", "DEFAULT_TOKEN_URL", "PROVIDER", "WorkspaceSource"]

DEFAULT_DIRECTORY_URL = "https://admin.googleapis.com"
DEFAULT_TOKEN_URL = "https://oauth2.googleapis.com/token"
MY_CUSTOMER = "my_customer"  # the API's alias for the customer of the impersonated administrator

_EMAIL = re.compile(r"^[^@\s]+@([A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+)$")
_DOMAIN = re.compile(r"^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
_CUSTOMER = re.compile(r"^(my_customer|C[0-9A-Za-z]{4,20})$")
_HTTPS = re.compile(r"^https://[^/\s?#]+(/[^\s?#]*)?$")


class WorkspaceSource(SourceBase):
    """Google Workspace users and administrators through the Admin SDK Directory API (collectors/googleworkspace)."""

    provider: Literal["googleworkspace"]
    customer_id: str = Field(
        default=MY_CUSTOMER,
        description="Customer id (C0...), or my_customer: the customer of admin_email",
    )
    domain: str | None = Field(
        default=None, description="List only the users of this domain; default: every domain of the customer"
    )
    admin_email: str = Field(
        description="Administrator the service account impersonates (domain-wide delegation); it needs the "
        "privilege to read users"
    )
    credentials: SecretRef = Field(description="The service account's JSON key (file:/path or env:NAME)")
    inactive_days: int = Field(
        default=90, ge=1, le=3650, description="An active user without a sign-in for this many days is inactive"
    )
    max_super_admins: int = Field(default=4, ge=1, le=100, description="More active super administrators fail")
    directory_url: str = Field(default=DEFAULT_DIRECTORY_URL, description="Admin SDK base URL (tests, proxies)")
    token_url: str = Field(default=DEFAULT_TOKEN_URL, description="OAuth 2.0 token endpoint (tests, proxies)")
    ca_bundle: str | None = Field(default=None, description="PEM CA bundle to verify TLS (proxies, tests)")
    page_size: int = Field(default=500, ge=1, le=500, description="Users asked for per page (maxResults)")
    timeout: Duration = Field(default=timedelta(seconds=30), description="Per-request timeout")
    max_retries: int = Field(default=4, ge=0, le=10, description="Retries on 429/5xx and rate-limit 403s")

    @field_validator("customer_id")
    @classmethod
    def _customer(cls, v: str) -> str:
        if not _CUSTOMER.match(v):
            raise ValueError(f"customer_id must be my_customer or a customer id such as C03az79cb, got {v!r}")
        return v

    @field_validator("domain")
    @classmethod
    def _domain(cls, v: str | None) -> str | None:
        if v is not None and not _DOMAIN.match(v):
            raise ValueError(f"domain must be a domain name such as example.com, got {v!r}")
        return v.lower() if v else v

    @field_validator("admin_email")
    @classmethod
    def _admin(cls, v: str) -> str:
        if not _EMAIL.match(v):
            raise ValueError(f"admin_email must be an email address such as admin@example.com, got {v!r}")
        return v

    @field_validator("directory_url", "token_url")
    @classmethod
    def _urls(cls, v: str, info: Any) -> str:
        if not _HTTPS.match(v):
            raise ValueError(f"{info.field_name} must be an https:// URL without query, got {v!r}")
        return v.rstrip("/")

    @property
    def account(self) -> str:
        """The snapshots' account: the customer id, or (for my_customer) the administrator's domain.
        Stable whatever the API answers, so a failed listing stays in the same account's history."""
        if self.customer_id != MY_CUSTOMER:
            return self.customer_id
        return self.admin_email.rsplit("@", 1)[1].lower()


PROVIDER = Provider(
    name="googleworkspace", source_model=WorkspaceSource, collect="collectors.googleworkspace.collection:collect"
)

"""The configuration of an ``okta`` source, owned by the Okta collector.

``PROVIDER`` is what the ``okta`` entry point of ``posture_agent.collectors`` exposes: each
``sources:`` item with ``provider: okta`` validates into ``OktaSource``. Two ways in, both read-only:

- ``auth: api_token``: an API token (``Authorization: SSWS <token>``); it acts with the permissions of
  the administrator who created it, so create it as a Read-Only Administrator;
- ``auth: oauth``: an API Services app with ``private_key_jwt`` client authentication; the agent signs a
  client assertion with the app's private key and asks the org authorization server for an access token
  with the read-only ``okta.*`` scopes it uses (docs/okta-permissions.md).
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator

from agent.config_base import Duration, SecretRef, SourceBase
from agent.registry import Provider

__all__ = ["PROVIDER", "OktaSource"]

_HOST = re.compile(
    r"^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$"
)
_CLIENT_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


def org_url(value: str) -> str:
    """``https://<org>.okta.com`` (or oktapreview.com, okta-emea.com, a custom domain): scheme and host
    only, as the API paths are appended to it. The ``-admin`` host is the Admin Console, not the API."""
    text = value.strip()
    parts = urlsplit(text)
    example = "e.g. https://acme.okta.com"
    if parts.scheme != "https":
        raise ValueError(f"org_url must start with https:// ({example}), got {text!r}")
    if parts.username or parts.password or parts.query or parts.fragment or parts.path not in ("", "/"):
        raise ValueError(
            f"org_url must be the org's base URL with no path, query or credentials ({example}), got {text!r}"
        )
    host = parts.hostname or ""
    try:
        port = parts.port
    except ValueError:
        raise ValueError(f"org_url has an invalid port: {text!r}") from None
    if not _HOST.match(host):
        raise ValueError(f"org_url has no valid host name ({example}), got {text!r}")
    first, _, rest = host.partition(".")
    if first.endswith("-admin"):
        raise ValueError(
            f"org_url is the Admin Console's address ({host}); use the org URL without -admin, "
            f"e.g. https://{first.removesuffix('-admin')}.{rest or 'okta.com'}"
        )
    return f"https://{host.lower()}" + (f":{port}" if port else "")


class OktaSource(SourceBase):
    """An Okta organisation: users, their factors and admin roles, password and sign-on policies."""

    provider: Literal["okta"]
    org_url: str = Field(description="The org's URL, https://<org>.okta.com (not the -admin console URL)")
    auth: Literal["api_token", "oauth"] = Field(
        default="api_token", description="api_token (SSWS header) or oauth (API Services app, private_key_jwt)"
    )
    token: SecretRef | None = Field(default=None, description="For auth: api_token: the API token (env:/file:)")
    client_id: str | None = Field(default=None, description="For auth: oauth: the API Services app's client id")
    private_key: SecretRef | None = Field(
        default=None, description="For auth: oauth: the app's private key, PEM (RSA or EC), by env:/file: reference"
    )
    key_id: str | None = Field(default=None, description="For auth: oauth: the kid of the app's public key, if set")
    inactive_days: int = Field(
        default=90, ge=1, le=3650, description="A user with no sign-in for this many days is inactive"
    )
    max_workers: int = Field(default=4, ge=1, le=16, description="Parallel per-user requests (factors, roles)")
    timeout: Duration = Field(default=timedelta(seconds=30), description="Per-request timeout")
    rate_limit_wait: Duration = Field(
        default=timedelta(seconds=60), description="Longest wait for a rate-limit window to reset before giving up"
    )
    max_retries: int = Field(default=4, ge=0, le=10, description="Retries on 429 and 5xx")
    ca_bundle: str | None = Field(default=None, description="PEM CA bundle to verify TLS (proxies, tests)")

    @field_validator("org_url")
    @classmethod
    def _org_url(cls, v: str) -> str:
        return org_url(v)

    @field_validator("client_id")
    @classmethod
    def _client_id(cls, v: str | None) -> str | None:
        if v is not None and not _CLIENT_ID.match(v):
            raise ValueError(f"client_id must be the app's client id (letters, digits, - and _), got {v!r}")
        return v

    @field_validator("timeout", "rate_limit_wait")
    @classmethod
    def _positive(cls, v: timedelta) -> timedelta:
        if v.total_seconds() <= 0:
            raise ValueError("must be longer than 0s")
        return v

    @model_validator(mode="after")
    def _auth_inputs(self) -> OktaSource:
        if self.auth == "api_token":
            if self.token is None:
                raise ValueError("auth: api_token needs token (env:NAME or file:/path)")
            extra = [k for k in ("client_id", "private_key", "key_id") if getattr(self, k) is not None]
            if extra:
                raise ValueError(f"{', '.join(extra)}: only used with auth: oauth (auth is api_token)")
        else:
            missing = [k for k in ("client_id", "private_key") if getattr(self, k) is None]
            if missing:
                raise ValueError(f"auth: oauth needs {' and '.join(missing)}")
            if self.token is not None:
                raise ValueError("token is only used with auth: api_token (auth is oauth)")
        return self

    @property
    def org_host(self) -> str:
        """The account name of the snapshots: the org's host (``acme.okta.com``)."""
        return urlsplit(self.org_url).netloc


PROVIDER = Provider(name="okta", source_model=OktaSource, collect="collectors.okta.collection:collect")

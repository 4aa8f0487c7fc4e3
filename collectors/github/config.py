"""The configuration of a ``github`` source, owned by the GitHub collector.

``PROVIDER`` is what the ``github`` entry point of ``posture_agent.collectors`` exposes: each
``sources:`` item with ``provider: github`` validates into ``GitHubSource``. One source is one
organisation, reached with a read-only token or as a GitHub App installation.
"""

from __future__ import annotations

import ipaddress
import re
from datetime import timedelta
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator

from agent.config_base import Duration, SecretRef, SourceBase
from agent.registry import Provider

__all__ = ["PROVIDER", "GitHubSource"]

# GitHub's own rules: a login is alphanumeric with single hyphens inside, at most 39 characters
_LOGIN = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$")
_REPO = re.compile(r"^[A-Za-z0-9._-]{1,100}$")
_LOOPBACK_NAMES = {"localhost"}


def _loopback(host: str) -> bool:
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class GitHubSource(SourceBase):
    """A GitHub organisation (github.com or GitHub Enterprise Server), read through the REST API v3."""

    provider: Literal["github"]
    organization: str = Field(description="Organisation login, e.g. acme-corp")
    api_url: str = Field(
        default="https://api.github.com",
        description="REST API base URL; GitHub Enterprise Server: https://HOST/api/v3",
    )
    token: SecretRef | None = Field(
        default=None, description="Fine-grained (or classic) personal access token, read-only: env:NAME or file:/path"
    )
    app_id: str | None = Field(default=None, description="GitHub App id (or client id) for App authentication")
    installation_id: int | None = Field(default=None, ge=1, description="The App's installation id on the organisation")
    private_key: SecretRef | None = Field(
        default=None, description="The App's private key (PEM): env:NAME or file:/path"
    )
    repositories: list[str] | None = Field(
        default=None, description="Repository names to assess; default: every non-archived repository"
    )
    ca_bundle: str | None = Field(default=None, description="PEM CA bundle to verify TLS (GitHub Enterprise Server)")
    timeout: Duration = Field(default=timedelta(seconds=30), description="Per-request timeout")
    max_retries: int = Field(default=4, ge=0, le=10, description="Retries on 5xx and transport errors")
    max_rate_wait: Duration = Field(
        default=timedelta(minutes=2),
        description="Longest wait for a rate limit to reset (X-RateLimit-Reset, Retry-After); beyond it: error",
    )

    @field_validator("organization")
    @classmethod
    def _org(cls, v: str) -> str:
        if not _LOGIN.match(v):
            raise ValueError(
                f"organization must be an organisation login (letters, digits, single hyphens, at most 39), got {v!r}"
            )
        return v

    @field_validator("api_url")
    @classmethod
    def _api_url(cls, v: str) -> str:
        parts = urlsplit(v)
        if parts.scheme not in ("https", "http") or not parts.hostname or parts.query or parts.fragment:
            raise ValueError(f"api_url must be an https:// URL such as https://api.github.com, got {v!r}")
        if parts.scheme == "http" and not _loopback(parts.hostname):
            # a token must never cross a network in clear; plain http is for a local test server only
            raise ValueError(f"api_url must use https:// (http:// only on loopback), got {v!r}")
        return v.rstrip("/")

    @field_validator("app_id")
    @classmethod
    def _app_id(cls, v: str | None) -> str | None:
        if v is not None and not re.match(r"^([0-9]{1,12}|Iv[0-9A-Za-z.]{4,40})$", v):
            raise ValueError(f"app_id must be the App's numeric id or its client id (Iv...), got {v!r}")
        return v

    @field_validator("repositories")
    @classmethod
    def _repos(cls, v: list[str] | None) -> list[str] | None:
        if v is None:
            return v
        bad = [r for r in v if not _REPO.match(r) or r in (".", "..")]
        if bad:
            raise ValueError(f"repositories are repository names without the owner, e.g. api-server; not {bad[0]!r}")
        if not v:
            raise ValueError("repositories is empty: leave it out to assess every non-archived repository")
        return v

    @field_validator("max_rate_wait")
    @classmethod
    def _wait(cls, v: timedelta) -> timedelta:
        if not timedelta(0) <= v <= timedelta(hours=1):
            raise ValueError("max_rate_wait must be between 0s and 1h")
        return v

    @model_validator(mode="after")
    def _auth(self) -> GitHubSource:
        app = {"app_id": self.app_id, "installation_id": self.installation_id, "private_key": self.private_key}
        given = [k for k, val in app.items() if val is not None]
        if self.token is not None and given:
            raise ValueError(
                f"give either token or the App's app_id, installation_id and private_key, not both ({given[0]})"
            )
        if self.token is None and len(given) != len(app):
            if not given:
                raise ValueError("authentication missing: give token, or app_id, installation_id and private_key")
            missing = [k for k in app if k not in given]
            raise ValueError(f"GitHub App authentication needs {' and '.join(missing)} too")
        return self

    @property
    def auth_method(self) -> Literal["token", "app"]:
        return "token" if self.token is not None else "app"


PROVIDER = Provider(name="github", source_model=GitHubSource, collect="collectors.github.collection:collect")

"""The configuration of a ``people`` source, owned by the people ledger (collectors/people).

``PROVIDER`` is what the ``people`` entry point of ``posture_agent.collectors`` exposes. The source
reads a roster file and, optionally, an identity map, and joins them with the identities the agent
already stored for its identity sources (Okta, Google Workspace, GitHub, Entra ID, AWS IAM users): it
calls no cloud API (docs/people.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator

from agent.config_base import Duration, SourceBase
from agent.registry import Provider

__all__ = ["IDENTITY_PROVIDERS", "PROVIDER", "PeopleSource", "identity_sources"]

# provider -> the identity resource type its sources collect (agent/identity.py reads each)
IDENTITY_PROVIDERS = {
    "okta": "okta.user",
    "googleworkspace": "googleworkspace.user",
    "github": "github.member",
    "azure": "azure.entra.user",
    "aws": "aws.iam.user",
}
_ROSTER_SUFFIXES = (".csv", ".json")
_MAP_SUFFIXES = (".csv", ".yaml", ".yml")


def holds_identities(source: SourceBase) -> bool:
    """Does this configured source collect identities (an Azure source without Entra ID, an AWS source
    whose services leave IAM out, do not)."""
    rtype = IDENTITY_PROVIDERS.get(source.provider)
    if rtype is None or not source.enabled:
        return False
    if source.provider == "azure" and getattr(source, "entra", True) is False:
        return False
    return source.collects(rtype)


def identity_sources(configured: Sequence[SourceBase]) -> list[str]:
    """The names of the configured sources that collect identities, in config order."""
    return [s.name for s in configured if holds_identities(s)]


class PeopleSource(SourceBase):
    """The people ledger: a staff roster joined with every identity source's accounts (collectors/people)."""

    provider: Literal["people"]
    roster: Path = Field(
        description="Staff roster, CSV or JSON by its extension (.csv, .json): one person a row (docs/people.md)"
    )
    identity_map: Path | None = Field(
        default=None,
        description="CSV (identity,person) or YAML (identity: person): provider:login, an identity email or "
        "*@domain -> the person's roster email (or service:<owner> for an account that is no person's)",
    )
    offboarding_grace: Duration = Field(
        default=timedelta(days=1), description="How long after a person's end date an active identity is tolerated"
    )
    onboarding_window: Duration = Field(
        default=timedelta(days=30),
        description="How long after a person's start date the background check and security training may wait",
    )
    max_identity_age: Duration = Field(
        default=timedelta(days=2),
        description="An identity source's latest stored snapshot older than this is stale: error, never a pass",
    )
    sources: list[str] | None = Field(
        default=None,
        description="Names of the identity sources to join; default: every configured source that collects "
        "identities (okta, googleworkspace, github, azure with Entra ID, aws with IAM)",
    )

    @field_validator("roster")
    @classmethod
    def _roster(cls, v: Path) -> Path:
        if v.suffix.lower() not in _ROSTER_SUFFIXES:
            raise ValueError(f"roster must be a .csv or .json file, got {str(v)[:80]!r}")
        return v

    @field_validator("identity_map")
    @classmethod
    def _map(cls, v: Path | None) -> Path | None:
        if v is not None and v.suffix.lower() not in _MAP_SUFFIXES:
            raise ValueError(f"identity_map must be a .csv, .yaml or .yml file, got {str(v)[:80]!r}")
        return v

    @field_validator("max_identity_age")
    @classmethod
    def _age(cls, v: timedelta) -> timedelta:
        if v < timedelta(minutes=1):
            raise ValueError("max_identity_age must be at least 1m")
        return v

    @field_validator("sources")
    @classmethod
    def _sources(cls, v: list[str] | None) -> list[str] | None:
        if v is None:
            return v
        if not v:
            raise ValueError("sources is empty: name at least one identity source, or leave it out to join them all")
        if len(set(v)) != len(v):
            raise ValueError("sources names a source twice")
        return v

    def reads_agent_store(self) -> bool:
        return True  # the identity sources' snapshots, from the agent's own store

    def reads_sources(self, configured: Sequence[SourceBase]) -> list[str]:
        if self.sources is not None:
            return list(self.sources)
        return identity_sources(configured)


PROVIDER = Provider(name="people", source_model=PeopleSource, collect="collectors.people.ledger:collect")

"""The configuration of a ``gcp`` source, owned by the GCP collector.

``PROVIDER`` is what the ``gcp`` entry point of ``posture_agent.collectors`` exposes: the config
validates each ``sources:`` item with ``provider: gcp`` into ``GcpSource``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from pydantic import Field, PrivateAttr

from agent.config_base import Duration, SecretRef, SourceBase
from agent.registry import Provider

__all__ = ["PROVIDER", "GcpSource"]


class GcpSource(SourceBase):
    """Google Cloud through Cloud Asset Inventory (collectors/gcp)."""

    provider: Literal["gcp"]
    scope: str = Field(
        pattern=r"^(organizations|folders|projects)/[A-Za-z0-9_.:-]+$",
        description="organizations/ID, folders/ID or projects/ID",
    )
    credentials: SecretRef | None = Field(
        default=None, description="Service-account key (file:/path); default: Application Default Credentials"
    )
    endpoint: str | None = Field(default=None, description="Override the Cloud Asset API endpoint (tests)")
    asset_types: list[str] | None = Field(
        default=None, description="Limit collection to these Cloud Asset types; default: every type checked"
    )
    page_size: int = Field(default=500, ge=1, le=1000, description="Items asked for per API page")
    timeout: Duration = Field(default=timedelta(seconds=60), description="Per-request timeout")
    cloud_identity_admin: str | None = Field(
        default=None,
        pattern=r"^[^@\s]+@[^@\s]+$",
        description="Super administrator the service account impersonates (domain-wide delegation) to read "
        "2-Step Verification enforcement from the Cloud Identity Policy API; unset: not read",
    )
    # Not config keys: set only on the parts of a split source (collectors/gcp/collection.py parts()).
    _above_projects: bool = PrivateAttr(default=False)
    _split_from: str = PrivateAttr(default="")

    @property
    def above_projects(self) -> bool:
        """Whether this collects only the organization's and folders' own snapshots, no project."""
        return self._above_projects

    @property
    def split_from(self) -> str:
        """The scope of the source this project part was split from ("" for a configured source)."""
        return self._split_from

    def only_above_projects(self) -> GcpSource:
        """This source narrowed to what is set above its projects (a scaled deployment's part)."""
        part = self.model_copy()
        part._above_projects = True
        return part

    def project_part(self, project: str) -> GcpSource:
        """This source narrowed to one of its projects, by id: a project scope, without the Cloud
        Identity customer (the part above the projects reads it)."""
        part = self.model_copy(update={"scope": f"projects/{project}", "cloud_identity_admin": None})
        part._split_from = self.scope
        return part


PROVIDER = Provider(name="gcp", source_model=GcpSource, collect="collectors.gcp.collection:collect")

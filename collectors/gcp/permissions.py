"""What the GCP collector may call, with the IAM permissions and OAuth scope each call needs.

Two APIs, every call a read:

- Cloud Asset Inventory, always, through the AssetServiceClient (collectors/gcp/collection.py);
- the Cloud Identity Policy API, only with ``cloud_identity_admin`` (collectors/gcp/identity.py).

``make permissions`` (``python -m collectors.permissions --write``) writes the table of
docs/gcp-permissions.md from ``CALLS``; a test fails while it is stale. The collector enforces the
same list: its Cloud Asset client exposes only the methods named here (``ASSET_METHODS``) and the
Cloud Identity reader sends only the requests named here (``IDENTITY_REQUESTS``). After adding a call,
declare it here and run ``make permissions``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from agent.errors import AgentError

__all__ = [
    "ASSET_METHODS",
    "CALLS",
    "CLOUD_ASSET",
    "CLOUD_IDENTITY",
    "CLOUD_PLATFORM_SCOPE",
    "IDENTITY_REQUESTS",
    "POLICIES_SCOPE",
    "Call",
    "ReadOnlyAssets",
    "ReadOnlyViolation",
]

CLOUD_ASSET = "cloudasset.googleapis.com"
CLOUD_IDENTITY = "cloudidentity.googleapis.com"
CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform"
POLICIES_SCOPE = "https://www.googleapis.com/auth/cloud-identity.policies.readonly"


@dataclass(frozen=True)
class Call:
    """One read the GCP collector sends."""

    api: str  # the service that answers it
    method: str  # Cloud Asset: the AssetServiceClient method; Cloud Identity: "GET <path>"
    operation: str  # the name the collector reports it under (API-call metrics, collection errors)
    permissions: tuple[str, ...]  # IAM permissions on the scope ("" for Cloud Identity: an admin role)
    scope: str  # the OAuth scope of the credentials that send it
    purpose: str  # one line for docs/gcp-permissions.md


CALLS: tuple[Call, ...] = (
    Call(
        CLOUD_ASSET,
        "search_all_resources",
        "SearchAllResources",
        ("cloudasset.assets.searchAllResources",),
        CLOUD_PLATFORM_SCOPE,
        "the projects in the scope",
    ),
    Call(
        CLOUD_ASSET,
        "list_assets",
        "ListAssets",
        # one per content type: RESOURCE, IAM_POLICY, ORG_POLICY
        ("cloudasset.assets.listResource", "cloudasset.assets.listIamPolicy", "cloudasset.assets.listOrgPolicy"),
        CLOUD_PLATFORM_SCOPE,
        "assets, IAM policies and organization policies in the scope, and what projects inherit from the "
        "organization above a folder or project scope",
    ),
    Call(
        CLOUD_ASSET,
        "search_all_iam_policies",
        "SearchAllIamPolicies",
        ("cloudasset.assets.searchAllIamPolicies",),
        CLOUD_PLATFORM_SCOPE,
        "every IAM policy in the scope, organizations and folders included",
    ),
    Call(
        CLOUD_IDENTITY,
        "GET /v1/policies",
        "ListPolicies",
        (),
        POLICIES_SCOPE,
        "2-Step Verification enforcement, only with cloud_identity_admin: a super administrator "
        "impersonated through domain-wide delegation",
    ),
)

#: The AssetServiceClient methods the collector may call; any other is refused before it is sent.
ASSET_METHODS: frozenset[str] = frozenset(c.method for c in CALLS if c.api == CLOUD_ASSET)
#: The (method, path) requests the Cloud Identity reader may send.
IDENTITY_REQUESTS: frozenset[tuple[str, str]] = frozenset(
    (verb, path) for c in CALLS if c.api == CLOUD_IDENTITY for verb, path in [c.method.split(" ", 1)]
)


class ReadOnlyViolation(AgentError):
    """A call outside the declared reads was about to be made: a bug, never data."""


class ReadOnlyAssets:
    """The Cloud Asset client as the collector sees it: the methods of ``ASSET_METHODS``, nothing else
    (create_feed, export_assets, ... raise ReadOnlyViolation before anything is sent)."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def __getattr__(self, name: str) -> Any:
        if name not in ASSET_METHODS:
            raise ReadOnlyViolation(f"refused cloudasset {name}: not a declared read (collectors/gcp/permissions.py)")
        return getattr(self._client, name)

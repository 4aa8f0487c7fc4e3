"""Which Cloud Asset types are collected and the resource type each becomes (one row per type).

Adding a type is a row here plus a line in docs/gcp-resources.md.
"""

from __future__ import annotations

import re

__all__ = ["ASSET_TYPES", "IAM_POLICY_TYPES", "PROJECT_ASSET", "POLICY_TYPE", "resource_type"]

PROJECT_ASSET = "cloudresourcemanager.googleapis.com/Project"
POLICY_TYPE = "gcp.iam.policy"

# Cloud Asset type -> our resource type
ASSET_TYPES: dict[str, str] = {
    PROJECT_ASSET: "gcp.project",
    "storage.googleapis.com/Bucket": "gcp.storage.bucket",
    "compute.googleapis.com/Firewall": "gcp.compute.firewall",
    "compute.googleapis.com/Instance": "gcp.compute.instance",
    "compute.googleapis.com/Network": "gcp.compute.network",
    "compute.googleapis.com/Project": "gcp.compute.project",
    "sqladmin.googleapis.com/Instance": "gcp.sqladmin.instance",
    "iam.googleapis.com/ServiceAccount": "gcp.iam.service_account",
    "iam.googleapis.com/ServiceAccountKey": "gcp.iam.service_account_key",
    "cloudkms.googleapis.com/CryptoKey": "gcp.cloudkms.crypto_key",
}

# Types whose own IAM policy (list_assets IAM_POLICY) is attached as the ``iamPolicy`` attribute.
IAM_POLICY_TYPES = (
    PROJECT_ASSET,
    "storage.googleapis.com/Bucket",
    "iam.googleapis.com/ServiceAccount",
    "cloudkms.googleapis.com/CryptoKey",
)


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def resource_type(asset_type: str) -> str:
    """gcp.<service>.<kind> for any Cloud Asset type (known ones from the table)."""
    if asset_type in ASSET_TYPES:
        return ASSET_TYPES[asset_type]
    service, _, kind = asset_type.partition("/")
    return f"gcp.{service.split('.', 1)[0]}.{_snake(kind)}"

"""Which Cloud Asset types are collected and the resource type each becomes (one row per type).

Adding a type is a row here plus a line in docs/gcp-resources.md.
"""

from __future__ import annotations

import re

__all__ = [
    "ABOVE_PROJECT_TYPES",
    "ANCESTOR_RESOURCE_TYPES",
    "ASSET_TYPES",
    "CONTACT_ASSET",
    "CUSTOMER_TYPE",
    "FOLDER_ASSET",
    "HIERARCHY_TYPES",
    "IAM_POLICY_TYPES",
    "LOG_BUCKET_ASSET",
    "LOG_SINK_ASSET",
    "OBSERVATIONS",
    "ORGANIZATION_ASSET",
    "ORG_POLICY_TYPES",
    "PROJECT_ASSET",
    "POLICY_TYPE",
    "SINK_DESTINATION_TYPES",
    "resource_type",
]

PROJECT_ASSET = "cloudresourcemanager.googleapis.com/Project"
FOLDER_ASSET = "cloudresourcemanager.googleapis.com/Folder"
ORGANIZATION_ASSET = "cloudresourcemanager.googleapis.com/Organization"
POLICY_TYPE = "gcp.iam.policy"
CUSTOMER_TYPE = "gcp.cloudidentity.customer"  # from the Cloud Identity Policy API, not Cloud Asset
LOG_SINK_ASSET = "logging.googleapis.com/LogSink"
CONTACT_ASSET = "essentialcontacts.googleapis.com/Contact"
LOG_BUCKET_ASSET = "logging.googleapis.com/LogBucket"

# Cloud Asset type -> our resource type
ASSET_TYPES: dict[str, str] = {
    PROJECT_ASSET: "gcp.project",
    "storage.googleapis.com/Bucket": "gcp.storage.bucket",
    "compute.googleapis.com/Firewall": "gcp.compute.firewall",
    "compute.googleapis.com/Instance": "gcp.compute.instance",
    "compute.googleapis.com/Network": "gcp.compute.network",
    "compute.googleapis.com/Subnetwork": "gcp.compute.subnetwork",
    "compute.googleapis.com/Project": "gcp.compute.project",
    "sqladmin.googleapis.com/Instance": "gcp.sqladmin.instance",
    "iam.googleapis.com/ServiceAccount": "gcp.iam.service_account",
    "iam.googleapis.com/ServiceAccountKey": "gcp.iam.service_account_key",
    "cloudkms.googleapis.com/CryptoKey": "gcp.cloudkms.crypto_key",
    LOG_SINK_ASSET: "gcp.logging.log_sink",
    LOG_BUCKET_ASSET: "gcp.logging.log_bucket",
    "logging.googleapis.com/LogMetric": "gcp.logging.log_metric",
    "monitoring.googleapis.com/AlertPolicy": "gcp.monitoring.alert_policy",
    "apikeys.googleapis.com/Key": "gcp.apikeys.key",
    CONTACT_ASSET: "gcp.essentialcontacts.contact",
}

# Attribute paths that tick with time rather than configuration (agent.observations), per type:
# an instance's start, stop and suspend times move with every restart of the machine.
OBSERVATIONS: dict[str, tuple[str, ...]] = {
    "gcp.compute.instance": ("lastStartTimestamp", "lastStopTimestamp", "lastSuspendedTimestamp"),
}

# Types whose own IAM policy (list_assets IAM_POLICY) is attached as the ``iamPolicy`` attribute.
IAM_POLICY_TYPES = (
    PROJECT_ASSET,
    "storage.googleapis.com/Bucket",
    "iam.googleapis.com/ServiceAccount",
    "cloudkms.googleapis.com/CryptoKey",
)

# The resource hierarchy above projects: their IAM policies (audit configs) and organization policies
# are inherited by every project below them.
HIERARCHY_TYPES = (ORGANIZATION_ASSET, FOLDER_ASSET)
ORG_POLICY_TYPES = (ORGANIZATION_ASSET, FOLDER_ASSET, PROJECT_ASSET)

# Types that, set on an organization or folder, apply to the projects below it (log sinks with
# includeChildren, essential contacts): they are attached to each project as inherited settings.
ANCESTOR_RESOURCE_TYPES = (LOG_SINK_ASSET, CONTACT_ASSET)

# The listed types that can also be set on an organization or folder (not only in a project), and the
# types a log sink's destination is looked up in: what the part of a split source above its projects
# lists (collectors/gcp/collection.py parts()).
ABOVE_PROJECT_TYPES = (LOG_SINK_ASSET, LOG_BUCKET_ASSET, CONTACT_ASSET)
SINK_DESTINATION_TYPES = ("storage.googleapis.com/Bucket", LOG_BUCKET_ASSET)


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def resource_type(asset_type: str) -> str:
    """gcp.<service>.<kind> for any Cloud Asset type (known ones from the table)."""
    if asset_type in ASSET_TYPES:
        return ASSET_TYPES[asset_type]
    service, _, kind = asset_type.partition("/")
    return f"gcp.{service.split('.', 1)[0]}.{_snake(kind)}"

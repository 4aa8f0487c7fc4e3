"""What the GCP checks read and need, as the catalog (docs/checks.md) shows it; shared strings only.
The registry skips this module (leading underscore)."""

from __future__ import annotations

ASSET_VIEWER = "roles/cloudasset.viewer (Cloud Asset Viewer) on the scope"
NEEDS = ASSET_VIEWER
IAM_DOCS = "https://cloud.google.com/iam/docs/"
CE_DOCS = "https://cloud.google.com/compute/docs/"
SEARCH_POLICIES = (
    "POST /v1/{scope}:searchAllIamPolicies (Cloud Asset): policy.bindings[].role, policy.bindings[].members, assetType"
)
_ASSETS = "GET /v1/{scope}/assets?contentType=RESOURCE&assetTypes=compute.googleapis.com/%s (Cloud Asset)"
INSTANCES = _ASSETS % "Instance"
FIREWALLS = _ASSETS % "Firewall" + ": direction, disabled, sourceRanges, allowed[].IPProtocol, allowed[].ports"
NETWORKS = _ASSETS % "Network"
COMPUTE_PROJECTS = _ASSETS % "Project"
ORG_POLICIES = (
    "GET /v1/{parent}/assets?contentType=ORG_POLICY&assetTypes=cloudresourcemanager.googleapis.com/"
    "Project,Folder,Organization (Cloud Asset)"
)

"""Cloud Storage: public buckets and uniform bucket-level access."""

from __future__ import annotations

from agent.models import Resource
from checks.base import Context, Remediation, Severity, Verdict, check, failed, need, passed
from checks.gcp._util import PUBLIC_MEMBERS, bindings, label

GCS_DOCS = "https://cloud.google.com/storage/docs/"
BUCKETS = "GET /v1/{scope}/assets?contentType=%s&assetTypes=storage.googleapis.com/Bucket (Cloud Asset)"
NEEDS = "roles/cloudasset.viewer (Cloud Asset Viewer) on the scope"


@check(
    id="gcp.storage.bucket_not_public",
    title="Cloud Storage buckets are not readable or writable by the public",
    severity=Severity.CRITICAL,
    resource_type="gcp.storage.bucket",
    rationale=(
        "A bucket binding for allUsers or allAuthenticatedUsers exposes its objects to the internet. "
        "Public access prevention set to enforced rules that out whatever the bindings say."
    ),
    remediation=Remediation(
        console=(
            "1. Open Cloud Storage > Buckets and choose the bucket.\n"
            "2. On Permissions, remove allUsers and allAuthenticatedUsers.\n"
            "3. Under Public access, choose Prevent public access."
        ),
        cli="gcloud storage buckets update gs://<bucket> --public-access-prevention",
        docs=GCS_DOCS + "public-access-prevention",
    ),
    reads=(
        BUCKETS % "RESOURCE" + ": iamConfiguration.publicAccessPrevention",
        BUCKETS % "IAM_POLICY" + ": iamPolicy.bindings[].members",
    ),
    needs=NEEDS,
)
def bucket_not_public(bucket: Resource, ctx: Context) -> Verdict:
    config = bucket.attributes.get("iamConfiguration") or {}
    if str(config.get("publicAccessPrevention", "")).lower() == "enforced":
        return passed(f"bucket {label(bucket)} enforces public access prevention")
    public = sorted({f"{m}:{r}" for r, m in bindings(need(bucket, "iamPolicy")) if m in PUBLIC_MEMBERS})
    if public:
        return failed(f"bucket {label(bucket)} is public: {', '.join(public)}")
    return passed(f"bucket {label(bucket)} has no public IAM bindings")


@check(
    id="gcp.storage.bucket_uniform_access",
    title="Cloud Storage buckets use uniform bucket-level access",
    severity=Severity.MEDIUM,
    resource_type="gcp.storage.bucket",
    rationale=(
        "With uniform bucket-level access only IAM decides who reads objects; per-object ACLs, which "
        "are easy to get wrong and hard to audit, are switched off."
    ),
    remediation=Remediation(
        console=(
            "1. Open Cloud Storage > Buckets and choose the bucket.\n"
            "2. On Permissions, under Access control, choose Switch to uniform."
        ),
        cli="gcloud storage buckets update gs://<bucket> --uniform-bucket-level-access",
        docs=GCS_DOCS + "uniform-bucket-level-access",
    ),
    reads=(BUCKETS % "RESOURCE" + ": iamConfiguration.uniformBucketLevelAccess.enabled",),
    needs=NEEDS,
)
def bucket_uniform_access(bucket: Resource, ctx: Context) -> Verdict:
    config = need(bucket, "iamConfiguration") or {}
    ubla = config.get("uniformBucketLevelAccess") or config.get("bucketPolicyOnly") or {}
    if ubla.get("enabled") is True:
        return passed(f"bucket {label(bucket)} uses uniform bucket-level access")
    return failed(f"bucket {label(bucket)} still allows per-object ACLs")

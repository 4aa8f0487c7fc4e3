"""Cloud KMS: automatic key rotation."""

from __future__ import annotations

from agent.models import Resource
from checks.base import Context, Remediation, Severity, Verdict, check, failed, not_applicable, passed
from checks.gcp._util import label, parse_duration_s


@check(
    id="gcp.cloudkms.key_rotation_90d",
    title="Cloud KMS symmetric keys rotate automatically at least every 90 days",
    severity=Severity.MEDIUM,
    resource_type="gcp.cloudkms.crypto_key",
    rationale=(
        "Regular rotation limits how much data one key version protects and how long a leaked version stays useful."
    ),
    remediation=Remediation(
        console=(
            "1. Open Security > Key Management, choose the key ring and the key.\n"
            "2. Choose Edit rotation period, pick 90 days or less and save."
        ),
        cli="gcloud kms keys update <key> --keyring=<ring> --location=<loc> --rotation-period=90d "
        "--next-rotation-time=<time>",
        docs="https://cloud.google.com/kms/docs/rotate-key",
    ),
    params={"max_days": 90},
    reads=(
        "GET /v1/{scope}/assets?contentType=RESOURCE&assetTypes=cloudkms.googleapis.com/CryptoKey (Cloud Asset): "
        "purpose, rotationPeriod",
    ),
    needs="roles/cloudasset.viewer (Cloud Asset Viewer) on the scope",
)
def key_rotation_90d(key: Resource, ctx: Context) -> Verdict:
    purpose = str(key.attributes.get("purpose") or "ENCRYPT_DECRYPT")
    if purpose != "ENCRYPT_DECRYPT":
        return not_applicable(f"key {label(key)} is {purpose}: asymmetric keys are rotated by hand")
    period = key.attributes.get("rotationPeriod")
    if not period:
        return failed(f"key {label(key)} has no automatic rotation")
    days = parse_duration_s(period) / 86400
    limit = int(ctx.params.get("max_days", 90))
    if days > limit:
        return failed(f"key {label(key)} rotates every {days:g} days (limit {limit})")
    return passed(f"key {label(key)} rotates every {days:g} days")

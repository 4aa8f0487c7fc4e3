"""KMS customer managed keys: automatic rotation."""

from __future__ import annotations

from agent.models import Resource
from checks.aws._util import described
from checks.base import (
    Context,
    Remediation,
    Severity,
    Verdict,
    check,
    failed,
    need,
    not_applicable,
    passed,
)


@check(
    id="aws.kms.key_rotation",
    title="Symmetric customer managed KMS keys rotate automatically",
    severity=Severity.MEDIUM,
    resource_type="aws.kms.key",
    rationale=(
        "Automatic rotation replaces the key material on a schedule while old ciphertext stays "
        "readable, which limits how much data depends on any single piece of key material."
    ),
    remediation=Remediation(
        console=(
            "1. Open the KMS console and choose Customer managed keys, then the key.\n"
            "2. On Key rotation select Automatically rotate this KMS key.\n"
            "3. Choose the rotation period and save."
        ),
        cli="aws kms enable-key-rotation --key-id <key-id>",
        docs="https://docs.aws.amazon.com/kms/latest/developerguide/rotate-keys.html",
    ),
    reads=(
        "kms:ListKeys: KeyId",
        "kms:DescribeKey: KeyMetadata.KeyManager, KeyState, KeySpec, KeyUsage, Origin",
        "kms:GetKeyRotationStatus: KeyRotationEnabled",
    ),
    needs="kms:ListKeys, kms:DescribeKey, kms:GetKeyRotationStatus",
)
def key_rotation(key: Resource, ctx: Context) -> Verdict:
    described(key, "KeyMetadata")
    a = key.attributes
    kid = a.get("KeyId") or key.id.rsplit("/", 1)[-1]
    spec = a.get("KeySpec") or a.get("CustomerMasterKeySpec")
    if a.get("KeyManager", "CUSTOMER") != "CUSTOMER":
        return not_applicable(f"key {kid} is AWS managed")
    if need(key, "KeyState") != "Enabled":
        return not_applicable(f"key {kid} is {a.get('KeyState')}")
    if spec != "SYMMETRIC_DEFAULT" or a.get("KeyUsage", "ENCRYPT_DECRYPT") != "ENCRYPT_DECRYPT":
        return not_applicable(f"key {kid} is {spec}/{a.get('KeyUsage')}; automatic rotation does not apply")
    if a.get("Origin", "AWS_KMS") != "AWS_KMS":
        return not_applicable(f"key {kid} has origin {a.get('Origin')}; its material cannot rotate automatically")
    if need(key, "KeyRotationEnabled") is True:
        return passed(f"key {kid} rotates automatically")
    return failed(f"key {kid} has automatic rotation off")

"""Secrets Manager: secrets rotate automatically."""

from __future__ import annotations

from agent.models import Resource
from checks.base import Context, Remediation, Severity, Verdict, check, failed, need, passed


@check(
    id="aws.secretsmanager.rotation_enabled",
    title="Secrets Manager secrets have automatic rotation enabled",
    severity=Severity.MEDIUM,
    resource_type="aws.secretsmanager.secret",
    rationale=(
        "Secrets that never change stay valid wherever they were copied. Automatic rotation bounds "
        "how long a leaked database password or API key keeps working."
    ),
    remediation=Remediation(
        console=(
            "1. Open the Secrets Manager console and choose the secret.\n"
            "2. On Rotation configuration choose Edit rotation.\n"
            "3. Enable automatic rotation, set a schedule and a rotation function, and save."
        ),
        cli="aws secretsmanager rotate-secret --secret-id <secret-id> --rotation-lambda-arn <lambda-arn> "
        "--rotation-rules AutomaticallyAfterDays=30",
        docs="https://docs.aws.amazon.com/secretsmanager/latest/userguide/rotating-secrets.html",
    ),
    reads=("secretsmanager:ListSecrets: Name, RotationEnabled, LastRotatedDate",),
    needs="secretsmanager:ListSecrets",
)
def rotation_enabled(secret: Resource, ctx: Context) -> Verdict:
    name = secret.attributes.get("Name") or secret.name or secret.id.rsplit(":", 1)[-1]
    # ListSecrets leaves RotationEnabled out for secrets that never had rotation configured.
    enabled = (
        need(secret, "RotationEnabled")
        if "RotationEnabled" in secret.errors
        else (secret.attributes.get("RotationEnabled", False))
    )
    if enabled is True:
        last = secret.attributes.get("LastRotatedDate")
        return passed(f"secret {name} rotates automatically" + (f" (last {last})" if last else ""))
    return failed(f"secret {name} has no automatic rotation")

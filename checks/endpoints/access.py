"""Device access: a password or passcode is required to unlock, with a minimum length where the
source knows it (SOC 2 CC6.1; ISO 27001 A.8.1, A.8.5; NIST 800-53 AC-11, IA-5)."""

from __future__ import annotations

from agent.models import Resource, Status
from checks.base import Context, Remediation, Severity, Verdict, check, failed, passed
from checks.endpoints._policy import by_bound
from checks.endpoints._sources import NEEDS_COMPLIANCE, reads
from checks.endpoints._util import DOCS, MOBILE, STALE, host, known, server_not_applicable, settle


@check(
    id="endpoint.device.password_required",
    title="Devices require a password or passcode to unlock",
    severity=Severity.HIGH,
    resource_type="endpoint.device",
    rationale=(
        "Disk encryption and a screen lock protect nothing if the device opens without a password. "
        "A short or simple passcode falls to guessing, so the minimum length is checked where known."
    ),
    remediation=Remediation(
        console="1. Require a password in the MDM compliance and configuration policies (Intune: Password > "
        "Require a password to unlock, Minimum password length).\n2. Set the minimum length to at least "
        "8 characters on computers and 6 digits on phones.",
        cli="net accounts /minpwlen:8   # Windows; macOS: pwpolicy -setglobalpolicy minChars=8",
        docs=DOCS + "#password",
    ),
    params={**STALE, "min_length": 8, "min_length_mobile": 6},
    reads=reads("password"),
    needs=NEEDS_COMPLIANCE,
)
def password_required(device: Resource, ctx: Context) -> Verdict:
    skip = server_not_applicable(device, "an interactive unlock password")
    if skip:
        return skip
    name = host(device)
    mobile = device.attributes.get("platform") in MOBILE
    limit = int(ctx.params.get("min_length_mobile" if mobile else "min_length", 6 if mobile else 8))
    if known(device, "password_required", "whether a password is required") is not True:
        return settle(device, ctx, failed(f"device {name} does not require a password to unlock"), "password_required")
    length = device.attributes.get("password_min_length")
    if isinstance(length, int):
        verdict = (
            failed(f"device {name} allows passwords of {length} characters (minimum {limit})")
            if length < limit
            else passed(f"device {name} requires a password of at least {length} characters")
        )
        return settle(device, ctx, verdict, "password_required")
    by_policy = by_bound(
        device,
        "password_length",
        at_most=False,
        limit=limit,
        scale=1,
        show=lambda n: f"{n:g}-character",
        what="minimum password length",
    )
    if by_policy is not None and by_policy.status != Status.ERROR:
        return settle(device, ctx, by_policy, "password_required")
    return settle(
        device, ctx, passed(f"device {name} requires a password (minimum length not reported)"), "password_required"
    )

"""Device management: laptops and phones enrolled in MDM, compliant with its policies, and phones not
jailbroken or rooted (SOC 2 CC6.1, CC6.8; ISO 27001 A.8.1; NIST 800-53 CM-8)."""

from __future__ import annotations

from agent.models import Resource, Status
from checks.base import Context, Remediation, Severity, Verdict, check, failed, need, not_applicable, passed
from checks.endpoints._policy import NONCOMPLIANT
from checks.endpoints._sources import NEEDS, NEEDS_COMPLIANCE, reads
from checks.endpoints._util import DOCS, MOBILE, STALE, host, known, parse_time, server_not_applicable, settle

# Intune complianceState values that say nothing about the device's settings.
_UNKNOWN_STATES = {
    "unknown": "Intune has not evaluated it",
    "error": "Intune's evaluation failed",
    "conflict": "its compliance policies conflict",
    "configManager": "compliance is evaluated by Configuration Manager, not visible here",
}


@check(
    id="endpoint.device.mdm_enrolled",
    title="Laptops and phones are enrolled in mobile device management",
    severity=Severity.MEDIUM,
    resource_type="endpoint.device",
    rationale=(
        "A device outside MDM gets no enforced settings, cannot be wiped when lost, and its state is "
        "whatever its user made it. Servers are not applicable."
    ),
    remediation=Remediation(
        console="1. Enrol the device in the company MDM (Intune Company Portal, Fleet or Apple Business Manager).\n"
        "2. For macOS fleets, use automated device enrolment so a user cannot remove the profile.",
        cli="sudo profiles renew -type enrollment   # macOS; Windows: Settings > Accounts > Access work or school",
        docs=DOCS + "#mdm",
    ),
    params=STALE,
    reads=reads("mdm_enrolled"),
    needs=NEEDS,
)
def mdm_enrolled(device: Resource, ctx: Context) -> Verdict:
    skip = server_not_applicable(device, "MDM enrolment")
    if skip:
        return skip
    enrolled = need(device, "mdm_enrolled")
    if enrolled is None and device.attributes.get("platform") == "linux":
        return not_applicable(f"device {host(device)} runs Linux, which has no MDM enrolment; its agent manages it")
    if known(device, "mdm_enrolled", "MDM enrolment") is True:
        return settle(device, ctx, passed(f"device {host(device)} is enrolled in MDM"), "mdm_enrolled")
    how = (device.attributes.get("extra") or {}).get("mdm_status")
    detail = f" ({how})" if how else ""
    return settle(device, ctx, failed(f"device {host(device)} is not enrolled in MDM{detail}"), "mdm_enrolled")


def _failing(device: Resource) -> str:
    """What the source says is failing, for the message."""
    settings = device.attributes.get("compliance_settings") or []
    names = [str(s.get("setting")) for s in settings if isinstance(s, dict) and s.get("state") in NONCOMPLIANT]
    names += [str(p) for p in (device.attributes.get("extra") or {}).get("failing_policies") or []]
    return f": failing {', '.join(dict.fromkeys(names))}" if names else ""


@check(
    id="endpoint.device.mdm_compliant",
    title="Devices are compliant with their management policies",
    severity=Severity.MEDIUM,
    resource_type="endpoint.device",
    rationale=(
        "The management tool's own verdict (Intune compliance state, Fleet policies) is the "
        "organisation's definition of a healthy device. A device in its grace period is already "
        "non-compliant; the grace period only delays the consequence."
    ),
    remediation=Remediation(
        console="1. Open the device in Intune (Devices > All devices > Device compliance) or Fleet (Host > "
        "Policies) and fix each failing setting.\n2. Sync the device so it is evaluated again.",
        cli="# Intune: Company Portal > Check status; Fleet: fleetctl get host <id>",
        docs=DOCS + "#mdm",
    ),
    params=STALE,
    reads=reads("mdm_compliance"),
    needs=NEEDS_COMPLIANCE,
)
def mdm_compliant(device: Resource, ctx: Context) -> Verdict:
    skip = server_not_applicable(device, "MDM compliance")
    if skip:
        return skip
    name = host(device)
    state = need(device, "mdm_compliance")
    if state is None and device.attributes.get("mdm_enrolled") is False:
        return not_applicable(
            f"device {name} is not enrolled in MDM, so it has no compliance state "
            "(endpoint.device.mdm_enrolled reports it)"
        )
    state = str(known(device, "mdm_compliance", "a compliance verdict"))
    if state == "compliant":
        return settle(device, ctx, passed(f"device {name} is compliant with its policies"), "mdm_compliance")
    if state == "noncompliant":
        return settle(device, ctx, failed(f"device {name} is not compliant{_failing(device)}"), "mdm_compliance")
    if state == "inGracePeriod":
        until = (device.attributes.get("extra") or {}).get("complianceGracePeriodExpirationDateTime")
        when = f" until {parse_time(until).date().isoformat()}" if until else ""
        return settle(
            device,
            ctx,
            failed(
                f"device {name} is not compliant{_failing(device)} (in its grace period{when}, access not yet blocked)"
            ),
            "mdm_compliance",
        )
    why = _UNKNOWN_STATES.get(state, "the source gave an unrecognised state")
    return Verdict(Status.ERROR, f"device {name}: compliance state '{state}': {why}")


@check(
    id="endpoint.device.not_jailbroken",
    title="Phones and tablets are not jailbroken or rooted",
    severity=Severity.HIGH,
    resource_type="endpoint.device",
    rationale=(
        "A jailbroken or rooted phone has its operating system's sandbox and code signing switched "
        "off, so company data and tokens on it are open to any installed app."
    ),
    remediation=Remediation(
        console="1. Block jailbroken devices in the compliance policy (Intune: Device Health > Jailbroken "
        "devices: Block).\n2. Restore the device to factory firmware before it may access company data.",
        cli="# Intune: set securityBlockJailbrokenDevices in the iOS/Android compliance policy",
        docs=DOCS + "#mdm",
    ),
    params=STALE,
    reads=reads("jailbroken"),
    needs=NEEDS,
)
def not_jailbroken(device: Resource, ctx: Context) -> Verdict:
    if device.attributes.get("platform") not in MOBILE:
        return not_applicable(f"device {host(device)} is not a phone or tablet")
    if known(device, "jailbroken", "whether it is jailbroken") is True:
        return settle(device, ctx, failed(f"device {host(device)} is jailbroken or rooted"), "jailbroken")
    return settle(device, ctx, passed(f"device {host(device)} is not jailbroken"), "jailbroken")

"""Endpoint detection and response sensors that run and report in, and antivirus settings protected
against tampering (SOC 2 CC6.8, CC7.2; ISO 27001 A.8.7; NIST 800-53 SI-3, SI-4)."""

from __future__ import annotations

from typing import Any

from agent.models import Resource, Status
from checks.base import Context, Remediation, Severity, Verdict, check, failed, not_applicable, passed
from checks.endpoints._sources import NEEDS, reads
from checks.endpoints._util import DOCS, STALE, age_days, day, host, known, mobile_not_applicable, settle


def _names(items: list[dict[str, Any]]) -> str:
    return ", ".join(str(e.get("product")) for e in items)


@check(
    id="endpoint.device.edr_healthy",
    title="An EDR sensor is installed, running and connected",
    severity=Severity.HIGH,
    resource_type="endpoint.device",
    rationale=(
        "An endpoint detection and response sensor only detects what it sees while it runs and "
        "reports to its console. An installed sensor that is stopped, or has not reached its cloud "
        "for days, leaves the device unwatched."
    ),
    remediation=Remediation(
        console="1. Install the company's EDR sensor (CrowdStrike Falcon, SentinelOne, Microsoft Defender for "
        "Endpoint...) through MDM.\n2. Check in its console that the host is online; restart or "
        "reinstall the sensor if it is not.",
        cli="sudo /opt/CrowdStrike/falconctl -g --rfm-state   # Windows: sc query CSFalconService",
        docs=DOCS + "#edr",
    ),
    # required: every device must run an EDR sensor (naming products implies it). Off by default:
    # malware protection itself is antivirus_running; this check judges the sensors that are installed.
    params={**STALE, "max_disconnected_days": 3, "products": [], "required": False},
    reads=reads("edr"),
    needs=NEEDS,
)
def edr_healthy(device: Resource, ctx: Context) -> Verdict:
    skip = mobile_not_applicable(device, "an EDR sensor")
    if skip:
        return skip
    name = host(device)
    wanted = [str(p).lower() for p in ctx.params.get("products") or []]
    sensors = [
        e
        for e in known(device, "edr", "EDR sensors")
        if isinstance(e, dict) and (not wanted or any(w in str(e.get("product", "")).lower() for w in wanted))
    ]
    if not sensors:
        which = f" ({', '.join(wanted)})" if wanted else ""
        if not wanted and not ctx.params.get("required"):
            return not_applicable(
                f"device {name} has no EDR sensor installed and this check's 'required' "
                "parameter is off (antivirus_running judges malware protection)"
            )
        return settle(device, ctx, failed(f"device {name} has no EDR sensor{which} installed"), "edr")
    limit = float(ctx.params.get("max_disconnected_days", 3))
    healthy, bad, unknown = [], [], []
    for e in sensors:
        seen = e.get("last_connected")
        if e.get("running") is False:
            bad.append(f"{e.get('product')} is not running")
        elif seen and age_days(seen, ctx.now) > limit:
            bad.append(f"{e.get('product')} last connected on {day(seen)}")
        elif e.get("running") is True:
            healthy.append(e)
        else:
            unknown.append(e)
    if healthy:
        return settle(device, ctx, passed(f"device {name}: EDR sensor {_names(healthy)} is running"), "edr")
    if unknown:
        source = device.attributes.get("source") or "its source"
        return Verdict(
            Status.ERROR, f"device {name}: {_names(unknown)} is installed but {source} does not report whether it runs"
        )
    return settle(device, ctx, failed(f"device {name}: {'; '.join(bad)} (limit {limit:g} days)"), "edr")


@check(
    id="endpoint.device.tamper_protection",
    title="Antivirus settings are protected against tampering",
    severity=Severity.MEDIUM,
    resource_type="endpoint.device",
    rationale=(
        "Malware and users with local admin rights switch antivirus off before anything else. Tamper "
        "protection keeps real-time protection and its settings from being changed on the device."
    ),
    remediation=Remediation(
        console="1. Turn on tamper protection centrally (Microsoft Defender portal > Settings > Endpoints > "
        "Advanced features, or Intune > Endpoint security > Antivirus).",
        cli="# macOS: sudo mdatp config tamper-protection enforcement-level --value block",
        docs=DOCS + "#antivirus",
    ),
    params=STALE,
    reads=reads("tamper_protection"),
    needs=NEEDS,
)
def tamper_protection(device: Resource, ctx: Context) -> Verdict:
    skip = mobile_not_applicable(device, "antivirus tamper protection")
    if skip:
        return skip
    if known(device, "tamper_protection", "tamper protection") is True:
        verdict = passed(f"device {host(device)} has tamper protection on")
    else:
        verdict = failed(f"device {host(device)} has tamper protection off")
    return settle(device, ctx, verdict, "tamper_protection")

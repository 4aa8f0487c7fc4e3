"""Workstation and server hygiene: antivirus, disk encryption, OS support and patches, screen lock,
firewall and regular check-in (SOC 2 CC6.8, CC6.1, CC7.1)."""

from __future__ import annotations

from typing import Any

from agent.models import Resource, Status
from checks.base import Context, MissingInput, Remediation, Severity, Verdict, check, failed, need, passed
from checks.endpoints._policy import by_bound
from checks.endpoints._sources import NEEDS, NEEDS_COMPLIANCE, reads
from checks.endpoints._util import (
    DOCS,
    STALE,
    age_days,
    day,
    host,
    is_server,
    known,
    mobile_not_applicable,
    settle,
    stale_limit,
    unknown,
)

_SCRIPT = "# re-run deploy/endpoint/posture-report.sh (or .ps1) on the device after fixing"


def _products(device: Resource) -> list[dict[str, Any]]:
    return [p for p in known(device, "antivirus", "antivirus/EDR state") if isinstance(p, dict)]


def _names(products: list[dict[str, Any]]) -> str:
    return ", ".join(str(p.get("product")) for p in products)


@check(
    id="endpoint.device.antivirus_running",
    title="Devices run an antivirus or EDR product with protection on",
    severity=Severity.HIGH,
    resource_type="endpoint.device",
    rationale=(
        "Malware protection on every workstation and server is what SOC 2 CC6.8 asks for. An "
        "installed product whose real-time protection is off protects nothing."
    ),
    remediation=Remediation(
        console=(
            "1. Install the company's antivirus/EDR (Microsoft Defender, CrowdStrike, SentinelOne...).\n"
            "2. Make sure real-time protection is on and cannot be switched off by the user (MDM policy)."
        ),
        cli="powershell Set-MpPreference -DisableRealtimeMonitoring $false",
        docs=DOCS + "#antivirus",
    ),
    params=STALE,
    reads=reads("antivirus"),
    needs=NEEDS,
)
def antivirus_running(device: Resource, ctx: Context) -> Verdict:
    skip = mobile_not_applicable(device, "a desktop antivirus")
    if skip:
        return skip
    products = _products(device)
    name = host(device)
    if not products:
        return settle(device, ctx, failed(f"device {name} has no antivirus or EDR product"), "antivirus")
    on = [p for p in products if p.get("enabled") is True]
    if on:
        return settle(device, ctx, passed(f"device {name} is protected by {_names(on)}"), "antivirus")
    passive = [p for p in products if p.get("passive") is True]
    unknown = [p for p in products if p.get("enabled") is None and p.get("passive") is not True]
    if unknown:
        behind = f"; {_names(passive)} is in passive mode behind it" if passive else ""
        return Verdict(Status.ERROR, f"device {name}: protection state of {_names(unknown)} is unknown{behind}")
    if passive:
        others = [p for p in products if p.get("passive") is not True]
        reason = f"{_names(others)} installed with protection off" if others else "no other product reported"
        return settle(
            device, ctx, failed(f"device {name}: {_names(passive)} is in passive mode and {reason}"), "antivirus"
        )
    return settle(
        device, ctx, failed(f"device {name}: {_names(products)} installed but protection is off"), "antivirus"
    )


@check(
    id="endpoint.device.antivirus_up_to_date",
    title="Antivirus definitions (or EDR sensors) are up to date",
    severity=Severity.MEDIUM,
    resource_type="endpoint.device",
    rationale=(
        "Signature-based protection with old definitions misses recent malware. Definitions older "
        "than a few days mean updates are failing."
    ),
    remediation=Remediation(
        console="1. Check that the device can reach its update source and trigger a definition update.",
        cli="powershell Update-MpSignature",
        docs=DOCS + "#antivirus",
    ),
    params={**STALE, "max_definition_age_days": 7},
    reads=reads("antivirus"),
    needs=NEEDS,
)
def antivirus_up_to_date(device: Resource, ctx: Context) -> Verdict:
    skip = mobile_not_applicable(device, "a desktop antivirus")
    if skip:
        return skip
    products = [p for p in _products(device) if p.get("enabled") is not False and p.get("passive") is not True]
    if not products:
        return settle(
            device,
            ctx,
            failed(f"device {host(device)} has no active antivirus product to keep up to date"),
            "antivirus",
        )
    limit = float(ctx.params.get("max_definition_age_days", 7))
    current, unknown = [], []
    for p in products:
        name = str(p.get("product"))
        stamp = p.get("definitions_updated")
        if stamp:
            if age_days(stamp, ctx.now) <= limit:
                current.append(name)
            continue
        if p.get("up_to_date") is True:
            current.append(name)
        elif p.get("up_to_date") is None:
            unknown.append(name)
    if current:
        return settle(device, ctx, passed(f"device {host(device)}: {', '.join(current)} up to date"), "antivirus")
    if unknown and len(unknown) == len(products):
        return Verdict(Status.ERROR, f"device {host(device)}: definition state of {', '.join(unknown)} unknown")
    return settle(
        device,
        ctx,
        failed(f"device {host(device)}: antivirus definitions are out of date (limit {limit:g} days)"),
        "antivirus",
    )


@check(
    id="endpoint.device.disk_encryption",
    title="Device disks are encrypted",
    severity=Severity.HIGH,
    resource_type="endpoint.device",
    rationale=(
        "A lost or stolen laptop without full-disk encryption (FileVault, BitLocker, LUKS) hands "
        "its data and cached credentials to whoever finds it."
    ),
    remediation=Remediation(
        console="1. Turn on FileVault (macOS), BitLocker (Windows) or LUKS (Linux) and escrow the key.",
        cli="sudo fdesetup enable   # macOS; Windows: manage-bde -on C:",
        docs=DOCS + "#disk-encryption",
    ),
    params=STALE,
    reads=reads("disk_encryption"),
    needs=NEEDS_COMPLIANCE,
)
def disk_encryption(device: Resource, ctx: Context) -> Verdict:
    if known(device, "disk_encryption", "disk encryption") is True:
        verdict = passed(f"device {host(device)} has disk encryption on")
    else:
        verdict = failed(f"device {host(device)} has an unencrypted system disk")
    return settle(device, ctx, verdict, "disk_encryption")


@check(
    id="endpoint.device.os_supported",
    title="Devices run an operating system version that still gets security updates",
    severity=Severity.HIGH,
    resource_type="endpoint.device",
    rationale=(
        "An operating system past its vendor's end of support (or below the organisation's minimum "
        "version) gets no more security fixes, so every new vulnerability stays open for good."
    ),
    remediation=Remediation(
        console="1. Upgrade the device to a supported OS release, or replace it.",
        cli="softwareupdate --list   # macOS; Windows: winver",
        docs=DOCS + "#os-updates",
    ),
    params=STALE,
    reads=reads("os_supported"),
    needs=NEEDS_COMPLIANCE,
)
def os_supported(device: Resource, ctx: Context) -> Verdict:
    version = device.attributes.get("os_version") or "unknown version"
    if known(device, "os_supported", "whether the OS is supported") is True:
        verdict = passed(f"device {host(device)} runs supported {version}")
    else:
        verdict = failed(
            f"device {host(device)} runs {version}, which no longer gets security updates or is "
            "below the required minimum version"
        )
    return settle(device, ctx, verdict, "os_supported")


@check(
    id="endpoint.device.os_patched",
    title="Devices installed OS security updates recently",
    severity=Severity.MEDIUM,
    resource_type="endpoint.device",
    rationale=(
        "Most compromises use known, already-patched vulnerabilities. A device that has not "
        "installed updates for over a month is exposed to them."
    ),
    remediation=Remediation(
        console="1. Install pending OS updates and enforce automatic updates with your MDM.",
        cli="sudo softwareupdate -ia   # macOS; Debian/Ubuntu: sudo apt-get update && sudo apt-get upgrade",
        docs=DOCS + "#os-updates",
    ),
    params={**STALE, "max_days": 30},
    reads=reads("os_updated_at"),
    needs=NEEDS,
)
def os_patched(device: Resource, ctx: Context) -> Verdict:
    stamp = known(device, "os_updated_at", "when updates were last installed")
    age = age_days(stamp, ctx.now)
    limit = float(ctx.params.get("max_days", 30))
    if age > limit:
        verdict = failed(
            f"device {host(device)} last installed OS updates on {day(stamp)}, more than {limit:g} days ago"
        )
    else:
        verdict = passed(
            f"device {host(device)} installed OS updates in the last {limit:g} days", f"updates installed {stamp}"
        )
    return settle(device, ctx, verdict, "os_updated_at")


@check(
    id="endpoint.device.screen_lock",
    title="Device screens lock after at most 15 minutes idle",
    severity=Severity.MEDIUM,
    resource_type="endpoint.device",
    rationale=(
        "An unattended unlocked screen gives anyone nearby the user's sessions. A lock after a short "
        "idle time is a standard workstation control."
    ),
    remediation=Remediation(
        console="1. Set the idle screen lock to 15 minutes or less, enforced by MDM policy.",
        cli="gsettings set org.gnome.desktop.session idle-delay 600   # GNOME",
        docs=DOCS + "#screen-lock",
    ),
    params={**STALE, "max_seconds": 900},
    reads=reads("screen_lock"),
    needs=NEEDS_COMPLIANCE,
)
def screen_lock(device: Resource, ctx: Context) -> Verdict:
    seconds = need(device, "screen_lock_seconds")
    if is_server(device) and seconds is None:
        return Verdict(Status.NOT_APPLICABLE, f"device {host(device)} is a server with no interactive screen")
    limit = int(ctx.params.get("max_seconds", 900))
    if seconds is None:
        by_policy = by_bound(
            device,
            "screen_lock",
            at_most=True,
            limit=limit,
            scale=60,
            show=lambda s: f"{s / 60:g} min",
            what="screen lock",
        )
        if by_policy is None:
            raise unknown(device, "the screen lock timeout")
        return settle(device, ctx, by_policy, "screen_lock_seconds")
    seconds = int(seconds)
    if seconds <= 0:
        verdict = failed(f"device {host(device)} never locks its screen")
    elif seconds > limit:
        verdict = failed(f"device {host(device)} locks its screen after {seconds // 60} min (limit {limit // 60})")
    else:
        verdict = passed(f"device {host(device)} locks its screen after {seconds // 60} min")
    return settle(device, ctx, verdict, "screen_lock_seconds")


@check(
    id="endpoint.device.firewall",
    title="The host firewall is on",
    severity=Severity.MEDIUM,
    resource_type="endpoint.device",
    rationale=(
        "The host firewall keeps services on a laptop from being reached on hostile networks such as cafés and hotels."
    ),
    remediation=Remediation(
        console="1. Turn on the OS firewall (macOS: System Settings > Network > Firewall; Windows: "
        "Windows Security > Firewall) and enforce it by MDM.",
        cli="sudo ufw enable   # Ubuntu; Windows: Set-NetFirewallProfile -All -Enabled True",
        docs=DOCS + "#firewall",
    ),
    params=STALE,
    reads=reads("firewall"),
    needs=NEEDS_COMPLIANCE,
)
def firewall(device: Resource, ctx: Context) -> Verdict:
    skip = mobile_not_applicable(device, "a host firewall")
    if skip:
        return skip
    if known(device, "firewall", "the firewall state") is True:
        verdict = passed(f"device {host(device)} has its firewall on")
    else:
        verdict = failed(f"device {host(device)} has its firewall off")
    return settle(device, ctx, verdict, "firewall")


@check(
    id="endpoint.device.checked_in",
    title="Devices checked in within the last 7 days",
    severity=Severity.MEDIUM,
    resource_type="endpoint.device",
    rationale=(
        "A device that stops reporting (lost, stolen, or its agent removed) can no longer be shown to "
        "be compliant. It fails until it checks in again or is retired from the inventory."
    ),
    remediation=Remediation(
        console="1. Find the device's owner; reconnect it, or retire it in the inventory if it is gone.",
        cli=_SCRIPT,
        docs=DOCS + "#check-in",
    ),
    params=STALE,
    reads=reads(),
    needs=NEEDS,
)
def checked_in(device: Resource, ctx: Context) -> Verdict:
    seen = need(device, "last_seen")
    if seen is None:
        raise MissingInput(f"device {host(device)} has never reported a check-in time")
    age = age_days(seen, ctx.now)
    limit = stale_limit(ctx)
    if age > limit:
        return failed(f"device {host(device)} last checked in on {day(seen)}, more than {limit:g} days ago")
    return passed(f"device {host(device)} checked in within {limit:g} days", f"last check-in {seen}")

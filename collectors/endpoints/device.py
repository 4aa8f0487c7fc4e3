"""One device model whatever the source (Intune, Fleet, SSM, push): `endpoint.device` resources.

Every endpoint collector builds its resources with ``device_resource`` so that one set of checks
(checks/endpoints) serves every source. A value that the source does not report is ``None``
(unknown): checks turn unknown into ``error``, never ``pass``.

Some sources time-stamp a part of what they report separately from the device's check-in (Intune's
protection report, Fleet's policy results, SSM's patch scan). ``observed_at`` names those parts:
attribute -> when the source last measured it (``None``: the source gave no time, so the value
cannot be shown to be current). Attributes not named there are as old as ``last_seen``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from agent.models import Resource

__all__ = ["DEVICE_TYPE", "OBSERVATIONS", "Antivirus", "Edr", "PatchState", "device_resource"]

DEVICE_TYPE = "endpoint.device"
# what changes with each check-in rather than with the device's configuration (agent.observations):
# the check-in itself, the per-attribute report times, antivirus definition updates (several a day)
# the EDR sensor's last contact with its cloud and Intune's protection report time
OBSERVATIONS = (
    "antivirus[].definitions_updated",
    "edr[].last_connected",
    "extra.windowsProtectionState.lastReportedDateTime",
    "last_seen",
    "observed_at",
)
PLATFORMS = ("macos", "windows", "linux", "ios", "android", "other")


@dataclass(frozen=True, kw_only=True)
class Antivirus:
    product: str
    enabled: bool | None = None  # real-time protection / agent running
    up_to_date: bool | None = None  # definitions or sensor current
    definitions_updated: str | None = None  # ISO-8601 Z
    passive: bool | None = None  # installed but deferring to another product (Defender passive mode)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "product": self.product,
            "enabled": self.enabled,
            "up_to_date": self.up_to_date,
            "definitions_updated": self.definitions_updated,
        }
        if self.passive is not None:  # only sources that can tell; keeps older bodies unchanged
            out["passive"] = self.passive
        return out


@dataclass(frozen=True, kw_only=True)
class Edr:
    """An endpoint detection and response sensor: installed, and whether it runs and reports in."""

    product: str
    running: bool | None = None  # sensor service running / healthy; None: only installation is known
    last_connected: str | None = None  # when the sensor last reached its cloud, ISO-8601 Z

    def to_dict(self) -> dict[str, Any]:
        return {"product": self.product, "running": self.running, "last_connected": self.last_connected}


@dataclass(frozen=True, kw_only=True)
class PatchState:
    """OS patch compliance as a patch manager sees it (counts; None where the source cannot tell)."""

    missing: int | None = None  # applicable patches not installed
    failed: int | None = None  # patches whose last installation failed
    pending_reboot: int | None = None  # installed, but not in effect until a reboot
    compliant: bool | None = None  # the source's own verdict, when it gives no counts (a Fleet policy)

    def to_dict(self) -> dict[str, Any]:
        return {
            "missing": self.missing,
            "failed": self.failed,
            "pending_reboot": self.pending_reboot,
            "compliant": self.compliant,
        }


def device_resource(
    *,
    source_kind: str,  # intune | fleet | ssm | push
    account: str,  # the tenant, Fleet server, AWS account or push realm the device belongs to
    device_id: str,  # stable id in that source
    hostname: str,
    platform: str,
    owner: str | None = None,
    os_version: str | None = None,
    os_build: str | None = None,
    serial: str | None = None,
    last_seen: str | None = None,  # ISO-8601 Z
    antivirus: Sequence[Antivirus] | None = None,  # None: the source does not report it
    disk_encryption: bool | None = None,
    firewall: bool | None = None,
    screen_lock_seconds: int | None = None,  # idle time before the screen locks; None unknown
    os_updated_at: str | None = None,  # when the latest OS/security update was installed, ISO Z
    os_supported: bool | None = None,  # vendor (or the organisation's minimum version) still supported
    mdm_enrolled: bool | None = None,  # enrolled in a mobile device management service
    mdm_compliance: str | None = None,  # the management tool's verdict: Intune complianceState, Fleet policies
    password_required: bool | None = None,  # a password/passcode is required to unlock
    password_min_length: int | None = None,  # enforced minimum length, where known
    jailbroken: bool | None = None,  # mobile: jailbroken / rooted
    tamper_protection: bool | None = None,  # the antivirus/EDR settings are protected against change
    edr: Sequence[Edr] | None = None,  # None: the source does not report EDR sensors
    patches: PatchState | None = None,  # None: no patch manager reports on the device
    compliance_settings: Sequence[Mapping[str, Any]] | None = None,  # per-setting policy evidence
    observed_at: Mapping[str, str | None] | None = None,  # attribute -> its own report time
    extra: Mapping[str, Any] | None = None,  # source-specific raw fields worth keeping
    errors: Mapping[str, str] | None = None,  # attribute -> why it could not be read
) -> Resource:
    if platform not in PLATFORMS:
        platform = "other"
    attrs: dict[str, Any] = {
        "source": source_kind,
        "device_id": device_id,
        "hostname": hostname,
        "platform": platform,
        "owner": owner,
        "os_version": os_version,
        "os_build": os_build,
        "serial": serial,
        "last_seen": last_seen,
        "antivirus": None if antivirus is None else [a.to_dict() for a in antivirus],
        "disk_encryption": disk_encryption,
        "firewall": firewall,
        "screen_lock_seconds": screen_lock_seconds,
        "os_updated_at": os_updated_at,
        "os_supported": os_supported,
        "mdm_enrolled": mdm_enrolled,
        "mdm_compliance": mdm_compliance,
        "password_required": password_required,
        "password_min_length": password_min_length,
        "jailbroken": jailbroken,
        "tamper_protection": tamper_protection,
        "edr": None if edr is None else [e.to_dict() for e in edr],
        "patches": None if patches is None else patches.to_dict(),
        "compliance_settings": None if compliance_settings is None else [dict(s) for s in compliance_settings],
        "observed_at": dict(observed_at or {}),
        "extra": dict(extra or {}),
    }
    return Resource(
        provider="endpoints",
        account=account,
        region="global",
        type=DEVICE_TYPE,
        id=f"device:{source_kind}:{account}:{device_id}",
        name=hostname,
        attributes=attrs,
        errors=dict(errors or {}),
        observations=OBSERVATIONS,
    )

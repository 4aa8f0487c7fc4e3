"""One device model whatever the source (Intune, Fleet, SSM, push): `endpoint.device` resources.

Every endpoint collector builds its resources with ``device_resource`` so that one set of checks
(checks/endpoints) serves every source. A value that the source does not report is ``None``
(unknown): checks turn unknown into ``error``, never ``pass``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from agent.models import Resource

__all__ = ["DEVICE_TYPE", "Antivirus", "device_resource"]

DEVICE_TYPE = "endpoint.device"
PLATFORMS = ("macos", "windows", "linux", "ios", "android", "other")


@dataclass(frozen=True, kw_only=True)
class Antivirus:
    product: str
    enabled: bool | None = None  # real-time protection / agent running
    up_to_date: bool | None = None  # definitions or sensor current
    definitions_updated: str | None = None  # ISO-8601 Z

    def to_dict(self) -> dict[str, Any]:
        return {"product": self.product, "enabled": self.enabled, "up_to_date": self.up_to_date,
                "definitions_updated": self.definitions_updated}


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
    os_supported: bool | None = None,  # vendor still ships security updates for this version
    extra: Mapping[str, Any] | None = None,  # source-specific raw fields worth keeping
    errors: Mapping[str, str] | None = None,  # attribute -> why it could not be read
) -> Resource:
    if platform not in PLATFORMS:
        platform = "other"
    attrs: dict[str, Any] = {
        "source": source_kind, "device_id": device_id, "hostname": hostname, "platform": platform,
        "owner": owner, "os_version": os_version, "os_build": os_build, "serial": serial,
        "last_seen": last_seen,
        "antivirus": None if antivirus is None else [a.to_dict() for a in antivirus],
        "disk_encryption": disk_encryption, "firewall": firewall,
        "screen_lock_seconds": screen_lock_seconds, "os_updated_at": os_updated_at,
        "os_supported": os_supported, "extra": dict(extra or {}),
    }
    return Resource(provider="endpoints", account=account, region="global", type=DEVICE_TYPE,
                    id=f"device:{source_kind}:{account}:{device_id}", name=hostname, attributes=attrs,
                    errors=dict(errors or {}))

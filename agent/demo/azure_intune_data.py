"""The demo tenant's Intune managed devices and their Defender state, as Graph serves them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from agent.demo.azure_ids import iso as _iso

__all__ = ["intune_graph"]


def intune_graph(now: datetime | None = None) -> dict[str, Any]:
    """Graph paths of Intune: managed devices (one laptop without Defender running)."""
    now = now or datetime.now(UTC)
    return {
        "/v1.0/deviceManagement/managedDevices": [
            {
                "id": "dev-1",
                "deviceName": "LAPTOP-ALICE",
                "operatingSystem": "Windows",
                "osVersion": "10.0.22631.3880",
                "serialNumber": "SN-A1",
                "userPrincipalName": "alice@contoso.example",
                "lastSyncDateTime": _iso(now - timedelta(hours=3)),
                "isEncrypted": True,
                "complianceState": "compliant",
                "managedDeviceOwnerType": "company",
            },
            {
                "id": "dev-2",
                "deviceName": "LAPTOP-BOB",
                "operatingSystem": "Windows",
                "osVersion": "10.0.19045.4529",
                "serialNumber": "SN-B2",
                "userPrincipalName": "bob@contoso.example",
                "lastSyncDateTime": _iso(now - timedelta(days=2)),
                "isEncrypted": False,
                "complianceState": "noncompliant",
                "managedDeviceOwnerType": "company",
            },
        ],
        "/beta/deviceManagement/managedDevices/dev-1/windowsProtectionState": {
            "malwareProtectionEnabled": True,
            "realTimeProtectionEnabled": True,
            "signatureUpdateOverdue": False,
            "antiMalwareVersion": "4.18.24050.7",
            "signatureVersion": "1.413.120.0",
            "lastReportedDateTime": _iso(now - timedelta(hours=3)),
            "tamperProtectionEnabled": True,
        },
        "/beta/deviceManagement/managedDevices/dev-2/windowsProtectionState": {
            "malwareProtectionEnabled": False,
            "realTimeProtectionEnabled": False,
            "signatureUpdateOverdue": True,
            "antiMalwareVersion": "4.18.23110.3",
            "signatureVersion": "1.401.2.0",
            "lastReportedDateTime": _iso(now - timedelta(days=2)),
            "tamperProtectionEnabled": False,
        },
    }

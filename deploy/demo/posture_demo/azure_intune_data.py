"""The demo tenant's Intune data as Graph serves it: managed devices, their Defender state, detected
apps, compliance policies and per-device policy/setting states.

One device per negative shape the endpoint checks must catch:

- LAPTOP-ALICE: healthy Windows laptop protected by Defender (no separate EDR sensor);
- LAPTOP-BOB: Defender off, disk not encrypted, firewall off per its compliance setting state, noncompliant;
- LAPTOP-CAROL: protection report with ``realTimeProtectionEnabled: null`` (unknown, not "off");
- LAPTOP-DAN: Defender in passive mode behind CrowdStrike (detected app), whose state Intune cannot see;
- LAPTOP-ERIN: protection report 20 days old while the laptop syncs every hour;
- IPHONE-FRANK: a jailbroken phone (``jailBroken: "True"``), noncompliant;
- MACBOOK-GINA: in its compliance grace period, screen lock longer than the policy's 15 minutes, no EDR.

Every device keeps syncing, so its sync and protection-report times tick (``Tick``: served relative to
each request, as Intune moves them); only LAPTOP-ERIN's stale report stays fixed, its age growing.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from posture_demo.azure_ids import iso as _iso
from posture_demo.fake_azure import Tick

__all__ = ["intune_graph"]

_DEV = "/v1.0/deviceManagement/managedDevices"
_BETA_DEV = "/beta/deviceManagement/managedDevices"

WINDOWS_POLICY = {
    "@odata.type": "#microsoft.graph.windows10CompliancePolicy",
    "id": "pol-win",
    "displayName": "Windows baseline",
    "version": 3,
    "passwordRequired": True,
    "passwordMinimumLength": 10,
    "passwordMinutesOfInactivityBeforeLock": 5,
    "osMinimumVersion": "10.0.19045",
    "activeFirewallRequired": True,
    "storageRequireEncryption": True,
    "bitLockerEnabled": False,
    "defenderEnabled": True,
    "rtpEnabled": True,
}
MAC_POLICY = {
    "@odata.type": "#microsoft.graph.macOSCompliancePolicy",
    "id": "pol-mac",
    "displayName": "macOS baseline",
    "version": 2,
    "passwordRequired": True,
    "passwordMinimumLength": 8,
    "passwordMinutesOfInactivityBeforeLock": 15,
    "osMinimumVersion": "14.0",
    "firewallEnabled": True,
    "storageRequireEncryption": True,
}
IOS_POLICY = {
    "@odata.type": "#microsoft.graph.iosCompliancePolicy",
    "id": "pol-ios",
    "displayName": "iOS baseline",
    "version": 1,
    "passcodeRequired": True,
    "passcodeMinimumLength": 6,
    "passcodeMinutesOfInactivityBeforeLock": 5,
    "osMinimumVersion": "17.0",
    "securityBlockJailbrokenDevices": True,
}
_WIN_SETTINGS = (
    "ActiveFirewallRequired",
    "PasswordRequired",
    "PasswordMinimumLength",
    "PasswordMinutesOfInactivityBeforeLock",
    "OsMinimumVersion",
    "StorageRequireEncryption",
)
_MAC_SETTINGS = (
    "FirewallEnabled",
    "PasswordRequired",
    "PasswordMinimumLength",
    "PasswordMinutesOfInactivityBeforeLock",
    "OsMinimumVersion",
    "StorageRequireEncryption",
)
_IOS_SETTINGS = (
    "PasscodeRequired",
    "PasscodeMinimumLength",
    "PasscodeMinutesOfInactivityBeforeLock",
    "OsMinimumVersion",
    "SecurityBlockJailbrokenDevices",
)


def _settings(policy_class: str, names: tuple[str, ...], failing: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """deviceCompliancePolicySettingState objects: every setting compliant except ``failing``."""
    return [
        {
            "setting": f"{policy_class}.{n}",
            "settingName": n,
            "instanceDisplayName": None,
            "state": "nonCompliant" if n in failing else "compliant",
            "errorCode": 0,
            "errorDescription": None,
            "currentValue": None,
            "sources": [],
        }
        for n in names
    ]


def _policy_state(policy: dict[str, Any], state: str, platform: str) -> dict[str, Any]:
    return {
        "id": policy["id"],
        "displayName": policy["displayName"],
        "version": policy["version"],
        "platformType": platform,
        "state": state,
        "settingCount": 6,
    }


def _device(
    ident: str,
    name: str,
    os_name: str,
    os_version: str,
    user: str,
    synced: timedelta,
    *,
    compliance: str = "compliant",
    encrypted: bool = True,
    owner: str = "company",
    jailbroken: str = "Unknown",
    **more: Any,
) -> dict[str, Any]:
    return {
        "id": ident,
        "deviceName": name,
        "operatingSystem": os_name,
        "osVersion": os_version,
        "serialNumber": f"SN-{ident.upper()}",
        "userPrincipalName": f"{user}@contoso.example",
        "lastSyncDateTime": Tick(-synced),
        "isEncrypted": encrypted,
        "complianceState": compliance,
        "managedDeviceOwnerType": owner,
        "managementAgent": "mdm",
        "jailBroken": jailbroken,
        **more,
    }


def _protection(
    reported: timedelta | str,
    *,
    rtp: bool | None = True,
    engine: bool | None = True,
    overdue: bool = False,
    tamper: bool = True,
    status: str = "noStatus",
) -> dict[str, Any]:
    """``reported``: how long before each request (a device still reporting), or a fixed time (a stale report)."""
    return {
        "malwareProtectionEnabled": engine,
        "realTimeProtectionEnabled": rtp,
        "signatureUpdateOverdue": overdue,
        "productStatus": status,
        "deviceState": "clean",
        "antiMalwareVersion": "4.18.24050.7",
        "signatureVersion": "1.413.120.0",
        "engineVersion": "1.1.24050.5",
        "isVirtualMachine": False,
        "lastReportedDateTime": Tick(-reported) if isinstance(reported, timedelta) else reported,
        "tamperProtectionEnabled": tamper,
    }


def _apps(*names: str) -> list[dict[str, Any]]:
    return [
        {
            "id": f"app-{i}",
            "displayName": n,
            "version": "1.0",
            "sizeInByte": 0,
            "deviceCount": 1,
            "publisher": "",
            "platform": "windows",
        }
        for i, n in enumerate(names)
    ]


def intune_graph(now: datetime | None = None) -> dict[str, Any]:
    """Graph paths of Intune, keyed as the fake serves them (lists are paged)."""
    now = now or datetime.now(UTC)
    hour = timedelta(hours=1)
    devices = [
        _device("dev-1", "LAPTOP-ALICE", "Windows", "10.0.22631.3880", "alice", 3 * hour),
        _device(
            "dev-2",
            "LAPTOP-BOB",
            "Windows",
            "10.0.19045.4529",
            "bob",
            timedelta(days=2),
            compliance="noncompliant",
            encrypted=False,
        ),
        _device("dev-3", "LAPTOP-CAROL", "Windows", "10.0.22631.3880", "carol", hour),
        _device("dev-4", "LAPTOP-DAN", "Windows", "10.0.22631.3880", "dan", hour),
        _device("dev-5", "LAPTOP-ERIN", "Windows", "10.0.22631.3880", "erin", hour),
        _device(
            "dev-6",
            "IPHONE-FRANK",
            "iOS",
            "17.5.1",
            "frank",
            2 * hour,
            compliance="noncompliant",
            owner="personal",
            jailbroken="True",
        ),
        _device(
            "dev-7",
            "MACBOOK-GINA",
            "macOS",
            "14.5",
            "gina",
            hour,
            compliance="inGracePeriod",
            jailbroken="False",
            complianceGracePeriodExpirationDateTime=_iso(now + timedelta(days=3)),
        ),
    ]
    graph: dict[str, Any] = {
        _DEV: devices,
        "/v1.0/deviceManagement/deviceCompliancePolicies": [WINDOWS_POLICY, MAC_POLICY, IOS_POLICY],
        f"{_BETA_DEV}/dev-1/windowsProtectionState": _protection(3 * hour),
        f"{_BETA_DEV}/dev-2/windowsProtectionState": {
            **_protection(timedelta(days=2), rtp=False, engine=False, overdue=True, tamper=False),
            "antiMalwareVersion": "4.18.23110.3",
            "signatureVersion": "1.401.2.0",
        },
        f"{_BETA_DEV}/dev-3/windowsProtectionState": _protection(hour, rtp=None),
        f"{_BETA_DEV}/dev-4/windowsProtectionState": _protection(hour, rtp=False),
        f"{_BETA_DEV}/dev-5/windowsProtectionState": _protection(_iso(now - timedelta(days=20))),
    }
    apps = {
        "dev-1": _apps("Microsoft Edge", "Microsoft Teams"),
        "dev-2": _apps("Microsoft Edge"),
        "dev-3": _apps("Microsoft Edge"),
        "dev-4": _apps("Microsoft Edge", "CrowdStrike Windows Sensor"),
        "dev-5": _apps("Microsoft Edge", "CrowdStrike Windows Sensor"),
        "dev-7": [],
    }
    for ident, found in apps.items():
        graph[f"{_DEV}/{ident}/detectedApps"] = found
    win, mac, ios = "Windows10CompliancePolicy", "MacOSCompliancePolicy", "IosCompliancePolicy"
    states = {
        "dev-1": (WINDOWS_POLICY, "compliant", "windows10AndLater", _settings(win, _WIN_SETTINGS)),
        "dev-2": (
            WINDOWS_POLICY,
            "nonCompliant",
            "windows10AndLater",
            _settings(win, _WIN_SETTINGS, failing=("ActiveFirewallRequired", "StorageRequireEncryption")),
        ),
        "dev-4": (WINDOWS_POLICY, "compliant", "windows10AndLater", _settings(win, _WIN_SETTINGS)),
        "dev-5": (WINDOWS_POLICY, "compliant", "windows10AndLater", _settings(win, _WIN_SETTINGS)),
        "dev-6": (
            IOS_POLICY,
            "nonCompliant",
            "iOS",
            _settings(ios, _IOS_SETTINGS, failing=("SecurityBlockJailbrokenDevices",)),
        ),
        "dev-7": (
            MAC_POLICY,
            "nonCompliant",
            "macOS",
            _settings(mac, _MAC_SETTINGS, failing=("PasswordMinutesOfInactivityBeforeLock",)),
        ),
    }
    for ident, (policy, state, platform, settings) in states.items():
        graph[f"{_DEV}/{ident}/deviceCompliancePolicyStates"] = [_policy_state(policy, state, platform)]
        graph[f"{_BETA_DEV}/{ident}/deviceCompliancePolicyStates/{policy['id']}/settingStates"] = settings
    # Carol's policy state carries its setting states inline (no second call).
    graph[f"{_DEV}/dev-3/deviceCompliancePolicyStates"] = [
        {
            **_policy_state(WINDOWS_POLICY, "compliant", "windows10AndLater"),
            "settingStates": _settings(win, _WIN_SETTINGS),
        }
    ]
    return graph

"""Where each device attribute comes from, per source: the ``reads``/``needs`` of the endpoint checks.

One line per source and API call, so the generated catalog (docs/checks.md) tells an auditor which
call and field stands behind every verdict.
"""

from __future__ import annotations

__all__ = ["GRAPH", "NEEDS", "NEEDS_COMPLIANCE", "NEEDS_PATCHES", "reads"]

GRAPH = "GET /v1.0/deviceManagement/managedDevices"
_PROTECTION = "GET /beta/deviceManagement/managedDevices/{id}/windowsProtectionState (path configurable)"
_DETECTED = "GET /v1.0/deviceManagement/managedDevices/{id}/detectedApps: displayName"
_POLICY_STATES = (
    "GET /v1.0/deviceManagement/managedDevices/{id}/deviceCompliancePolicyStates: id, displayName, "
    "state; GET /beta/.../deviceCompliancePolicyStates/{policyId}/settingStates: setting, state; "
    "GET /v1.0/deviceManagement/deviceCompliancePolicies: "
)
_FLEET = "Fleet: GET /api/v1/fleet/hosts?populate_policies=true: "
_FLEET_POLICY = _FLEET + "policies[].response of the policy mapped to `{key}`, policy_updated_at"
_SSM_APPS = "SSM: ListInventoryEntries AWS:Application: Name"

# What each attribute is read from, per source ("" where the source cannot tell).
_SOURCES: dict[str, tuple[str, ...]] = {
    "antivirus": (
        f"Intune: {_PROTECTION}: malwareProtectionEnabled, realTimeProtectionEnabled, productStatus, "
        "signatureUpdateOverdue, lastReportedDateTime; " + _DETECTED,
        _FLEET_POLICY.format(key="antivirus"),
        _SSM_APPS + "; ListInventoryEntries AWS:Service (Windows): Name, Status",
        "push: antivirus[]: product, enabled, passive, up_to_date, definitions_updated",
    ),
    "disk_encryption": (
        f"Intune: {GRAPH}: isEncrypted; {_POLICY_STATES}storageRequireEncryption, bitLockerEnabled",
        "Fleet: GET /api/v1/fleet/hosts/{id}: disk_encryption_enabled, detail_updated_at (or the policy mapped "
        "to `disk_encryption`)",
        "push: disk_encryption",
    ),
    "firewall": (
        f"Intune: {_POLICY_STATES}activeFirewallRequired (Windows), firewallEnabled (macOS)",
        _FLEET_POLICY.format(key="firewall"),
        "push: firewall",
    ),
    "screen_lock": (
        f"Intune: {_POLICY_STATES}passwordMinutesOfInactivityBeforeLock, passcodeMinutesOfInactivityBeforeLock",
        "push: screen_lock_seconds",
    ),
    "password": (
        f"Intune: {_POLICY_STATES}passwordRequired, passcodeRequired, passwordMinimumLength, passcodeMinimumLength",
        _FLEET_POLICY.format(key="password_required"),
        "push: password.required, password.min_length",
    ),
    "os_supported": (
        f"Intune: {GRAPH}: osVersion; {_POLICY_STATES}osMinimumVersion",
        _FLEET_POLICY.format(key="os_supported"),
        "push: os.supported",
    ),
    "os_updated_at": (
        "SSM: ListInventoryEntries AWS:WindowsUpdate: InstalledTime; DescribeInstancePatchStates: Operation, "
        "OperationEndTime",
        "push: os.last_update",
    ),
    "patches": (
        "SSM: DescribeInstancePatchStates: MissingCount, FailedCount, InstalledPendingRebootCount, OperationEndTime",
        _FLEET_POLICY.format(key="os_patched"),
        "push: os.pending_updates",
    ),
    "mdm_enrolled": (
        f"Intune: {GRAPH}: managementAgent (every listed device is enrolled unless it is managed by EAS only)",
        _FLEET + "mdm.enrollment_status",
        "push: mdm.enrolled",
    ),
    "mdm_compliance": (
        f"Intune: {GRAPH}: complianceState, complianceGracePeriodExpirationDateTime",
        _FLEET + "issues.failing_policies_count, policies[].response, policy_updated_at",
    ),
    "jailbroken": (f"Intune: {GRAPH}: jailBroken",),
    "tamper_protection": (
        f"Intune: {_PROTECTION}: tamperProtectionEnabled, lastReportedDateTime",
        _FLEET_POLICY.format(key="tamper_protection"),
        "push: tamper_protection",
    ),
    "edr": (
        f"Intune: {_DETECTED} (installed only)",
        _FLEET_POLICY.format(key="edr"),
        "SSM: ListInventoryEntries AWS:Service (Windows): Name, Status; AWS:Application: Name (installed only)",
        "push: edr[]: product, running, last_connected",
    ),
    "last_seen": (
        f"Intune: {GRAPH}: lastSyncDateTime",
        _FLEET + "seen_time",
        "SSM: DescribeInstanceInformation: LastPingDateTime",
        "push: the time the agent accepted the device's latest signed report",
    ),
}

NEEDS = (
    "Intune: DeviceManagementManagedDevices.Read.All (Graph, application) and an Intune licence; Fleet: "
    "an API-only user with the Observer role; SSM: ssm:DescribeInstanceInformation, ssm:ListInventoryEntries; "
    "push: each device's signing key"
)
NEEDS_COMPLIANCE = (
    "Intune: DeviceManagementManagedDevices.Read.All and DeviceManagementConfiguration.Read.All "
    "(Graph, application) and an Intune licence; Fleet: an API-only user with the Observer role; "
    "push: each device's signing key"
)

NEEDS_PATCHES = (
    "SSM: ssm:DescribeInstancePatchStates and ssm:DescribeInstanceInformation, and a Patch Manager scan "
    "(AWS-RunPatchBaseline); Fleet: an API-only user with the Observer role; push: each device's "
    "signing key"
)


def reads(*attributes: str) -> tuple[str, ...]:
    """The read lines of ``attributes``, plus where the check-in time comes from (freshness)."""
    out: list[str] = []
    for attr in (*attributes, "last_seen"):
        out += [line for line in _SOURCES[attr] if line not in out]
    return tuple(out)

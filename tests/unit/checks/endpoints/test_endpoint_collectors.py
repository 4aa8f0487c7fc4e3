"""How each source's raw API shape becomes the device model, judged by the real checks.

Inputs are the APIs' own negative shapes: Graph's windowsProtectionState with a null field, Defender
in passive mode, an old protection report, Intune compliance setting states; Fleet hosts whose policy
results are older than their check-in; SSM's AWS:Service entries and Patch Manager states; a pushed
report with the new optional fields.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import jsonschema
from endpoint_check_fixtures import ERROR, FAIL, NA, NOW, PASS, ago, run

from agent.push import report_schema
from checks.endpoints import access, device, mdm, patching, protection
from collectors.endpoints.fleet import host_to_resource, needs_detail
from collectors.endpoints.intune import IntuneDetails, device_from_intune
from collectors.endpoints.push import report_to_resource
from collectors.endpoints.ssm import server_device

TENANT = "00000000-0000-0000-0000-000000000001"


def managed_device(**kw: Any) -> dict[str, Any]:
    """A managedDevice as GET /v1.0/deviceManagement/managedDevices returns it ($select'ed)."""
    return {
        "id": "0f1e2d3c",
        "deviceName": "LAPTOP-1",
        "operatingSystem": "Windows",
        "osVersion": "10.0.22631.3880",
        "serialNumber": "SN1",
        "userPrincipalName": "a@contoso.example",
        "lastSyncDateTime": ago(0.1),
        "isEncrypted": True,
        "complianceState": "compliant",
        "managedDeviceOwnerType": "company",
        "managementAgent": "mdm",
        "jailBroken": "Unknown",
        **kw,
    }


def protection_state(**kw: Any) -> dict[str, Any]:
    """windowsProtectionState as Graph returns it."""
    return {
        "@odata.type": "#microsoft.graph.windowsProtectionState",
        "id": "0f1e2d3c",
        "malwareProtectionEnabled": True,
        "deviceState": "clean",
        "realTimeProtectionEnabled": True,
        "networkInspectionSystemEnabled": True,
        "quickScanOverdue": False,
        "fullScanOverdue": False,
        "signatureUpdateOverdue": False,
        "rebootRequired": False,
        "fullScanRequired": False,
        "engineVersion": "1.1.24050.5",
        "signatureVersion": "1.413.120.0",
        "antiMalwareVersion": "4.18.24050.7",
        "lastReportedDateTime": ago(0.1),
        "productStatus": "noStatus",
        "isVirtualMachine": False,
        "tamperProtectionEnabled": True,
        **kw,
    }


def apps(*names: str) -> list[dict[str, Any]]:
    return [
        {"id": str(i), "displayName": n, "version": "7.1", "sizeInByte": 0, "deviceCount": 1}
        for i, n in enumerate(names)
    ]


WINDOWS_POLICY = {
    "@odata.type": "#microsoft.graph.windows10CompliancePolicy",
    "id": "pol-1",
    "displayName": "Windows baseline",
    "passwordRequired": True,
    "passwordMinimumLength": 10,
    "passwordMinutesOfInactivityBeforeLock": 5,
    "osMinimumVersion": "10.0.22000",
    "activeFirewallRequired": True,
    "storageRequireEncryption": True,
    "bitLockerEnabled": False,
}


def policy_state(state: str, failing: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    names = (
        "ActiveFirewallRequired",
        "PasswordRequired",
        "PasswordMinimumLength",
        "PasswordMinutesOfInactivityBeforeLock",
        "OsMinimumVersion",
        "StorageRequireEncryption",
        "BitLockerEnabled",
    )
    return [
        {
            "id": "pol-1",
            "displayName": "Windows baseline",
            "platformType": "windows10AndLater",
            "state": state,
            "settingCount": len(names),
            "version": 1,
            "settingStates": [
                {
                    "setting": f"Windows10CompliancePolicy.{n}",
                    "settingName": n,
                    "state": "nonCompliant" if n in failing else "compliant",
                    "errorCode": 0,
                    "currentValue": None,
                }
                for n in names
            ],
        }
    ]


def intune(dev: dict[str, Any] | None = None, **details: Any) -> Any:
    return device_from_intune(TENANT, dev or managed_device(), IntuneDetails(**details))


# -- Intune: defect 1 (antivirus) ---------------------------------------------------------------------


def test_defect_intune_null_realtime_protection_is_unknown_not_off() -> None:
    found = intune(protection=protection_state(realTimeProtectionEnabled=None), apps=apps("Microsoft Edge"))
    assert found.attributes["antivirus"][0]["enabled"] is None
    result = run(device.antivirus_running, found)
    assert result.status == ERROR and "unknown" in result.message  # the old code said "protection is off"


def test_defect_intune_passive_defender_behind_another_product_names_it() -> None:
    found = intune(
        protection=protection_state(realTimeProtectionEnabled=False),
        apps=apps("Microsoft Edge", "CrowdStrike Windows Sensor"),
    )
    av = found.attributes["antivirus"]
    assert av[0]["passive"] is True and av[1]["product"] == "CrowdStrike Falcon"
    result = run(device.antivirus_running, found)
    assert result.status == ERROR and "CrowdStrike Falcon" in result.message and "passive" in result.message


def test_defect_intune_stale_protection_report_is_unknown() -> None:
    found = intune(protection=protection_state(lastReportedDateTime=ago(20)), apps=[])
    assert run(device.antivirus_running, found).status == ERROR
    assert run(protection.tamper_protection, found).status == ERROR


def test_intune_realtime_off_with_no_other_product_on_a_corporate_device_fails() -> None:
    found = intune(protection=protection_state(realTimeProtectionEnabled=False), apps=apps("Microsoft Edge"))
    assert found.attributes["antivirus"][0] == {
        "product": "Microsoft Defender Antivirus",
        "enabled": False,
        "up_to_date": True,
        "definitions_updated": None,
        "passive": False,
    }
    assert run(device.antivirus_running, found).status == FAIL


def test_intune_realtime_off_on_a_personal_device_is_unknown() -> None:
    # Intune lists unmanaged apps only for corporate devices: another product may be invisible.
    found = intune(
        managed_device(managedDeviceOwnerType="personal"),
        protection=protection_state(realTimeProtectionEnabled=False),
        apps=[],
    )
    assert run(device.antivirus_running, found).status == ERROR
    assert found.attributes["edr"] is None


def test_intune_service_not_running_is_off_and_signatures_out_of_date() -> None:
    found = intune(protection=protection_state(productStatus="serviceNotRunning,avSignaturesOutOfDate"), apps=[])
    assert found.attributes["antivirus"][0]["enabled"] is False
    assert found.attributes["antivirus"][0]["up_to_date"] is False


def test_intune_protection_read_error_is_kept() -> None:
    found = intune(errors={"protection": "windowsProtectionState: Forbidden: no"})
    assert run(device.antivirus_running, found).status == ERROR
    assert "Forbidden" in run(protection.tamper_protection, found).message


# -- Intune: defect 3 (compliance mapping) -----------------------------------------------------------------


def test_defect_intune_compliance_setting_states_answer_firewall_lock_password_os() -> None:
    found = intune(
        managed_device(complianceState="noncompliant"),
        protection=protection_state(),
        apps=[],
        policy_states=policy_state("nonCompliant", failing=("ActiveFirewallRequired",)),
        policies={"pol-1": WINDOWS_POLICY},
    )
    attrs = found.attributes
    assert attrs["firewall"] is False and attrs["password_required"] is True and attrs["os_supported"] is True
    assert run(device.firewall, found).status == FAIL  # the old collector left firewall unknown: error
    assert run(device.screen_lock, found).status == PASS
    assert run(access.password_required, found).status == PASS
    assert run(device.os_supported, found).status == PASS
    compliance = run(mdm.mdm_compliant, found)
    assert compliance.status == FAIL and "ActiveFirewallRequired" in compliance.message


def test_intune_settings_a_policy_does_not_require_are_ignored() -> None:
    found = intune(
        policy_states=policy_state("compliant"), policies={"pol-1": {**WINDOWS_POLICY, "activeFirewallRequired": False}}
    )
    assert found.attributes["firewall"] is None  # compliant with "not required" says nothing


def test_intune_policies_that_do_not_apply_are_no_evidence() -> None:
    states = [{**policy_state("compliant")[0], "state": "notApplicable"}]
    found = intune(policy_states=states, policies={"pol-1": WINDOWS_POLICY})
    assert found.attributes["compliance_settings"] == [] and found.attributes["firewall"] is None
    assert run(device.screen_lock, found).status == ERROR


def test_intune_setting_states_without_the_policies_are_unknown() -> None:
    found = intune(
        policy_states=policy_state("compliant"),
        policies=None,
        errors={"compliance": "deviceCompliancePolicies: Forbidden: x (needs DeviceManagementConfiguration.Read.All)"},
    )
    result = run(device.firewall, found)
    assert result.status == ERROR and "DeviceManagementConfiguration.Read.All" in result.message


def test_intune_os_version_is_compared_with_the_policy_minimum_without_a_setting_state() -> None:
    states = [{**policy_state("nonCompliant")[0], "settingStates": []}]
    old = intune(managed_device(osVersion="10.0.19045.4529"), policy_states=states, policies={"pol-1": WINDOWS_POLICY})
    assert old.attributes["os_supported"] is False
    assert run(device.os_supported, old).status == FAIL


def test_intune_jailbreak_eas_and_grace_period() -> None:
    phone = intune(
        managed_device(operatingSystem="iOS", jailBroken="True", managementAgent="eas", complianceState="inGracePeriod")
    )
    assert phone.attributes["jailbroken"] is True and phone.attributes["mdm_enrolled"] is False
    assert run(mdm.not_jailbroken, phone).status == FAIL
    assert run(mdm.mdm_enrolled, phone).status == FAIL
    assert run(mdm.mdm_compliant, phone).status == FAIL
    unknown = intune(managed_device(operatingSystem="Android", jailBroken="Unknown"))
    assert run(mdm.not_jailbroken, unknown).status == ERROR


# -- Fleet: defect 4 ------------------------------------------------------------------------------------


def fleet_host(**kw: Any) -> dict[str, Any]:
    """A host as GET /api/v1/fleet/hosts?populate_policies=true lists it."""
    return {
        "id": 7,
        "hostname": "erin-mbp",
        "display_name": "erin-mbp",
        "platform": "darwin",
        "os_version": "macOS 14.5",
        "seen_time": ago(0.05),
        "policy_updated_at": ago(15),
        "status": "online",
        "issues": {"failing_policies_count": 0, "total_issues_count": 0},
        "mdm": {"enrollment_status": "On (automatic)", "name": "Fleet", "server_url": None},
        "policies": [
            {"id": 1, "name": "Antivirus running", "response": "pass"},
            {"id": 2, "name": "Firewall enabled", "response": "pass"},
        ],
        **kw,
    }


POLICIES = {"antivirus": "Antivirus running", "firewall": "Firewall enabled"}


def test_defect_fleet_policy_results_are_judged_by_their_own_time() -> None:
    found = host_to_resource("fleet.example.com", fleet_host(), None, POLICIES)
    assert run(device.checked_in, found).status == PASS
    for chk in (device.antivirus_running, device.firewall, mdm.mdm_compliant):
        result = run(chk, found)
        assert result.status == ERROR, (chk.id, result.message)
        # the policy results' own day (15 days ago), not the check-in an hour ago
        assert "as of 2025-05-17, but its " in result.message, (chk.id, result.message)
        assert "last check-in" not in result.message, (chk.id, result.message)
    fresh = host_to_resource("fleet.example.com", fleet_host(policy_updated_at=ago(0.1)), None, POLICIES)
    assert run(device.antivirus_running, fresh).status == PASS


def test_fleet_failing_policy_stays_a_failure_when_old() -> None:
    host = fleet_host(
        policies=[{"id": 2, "name": "Firewall enabled", "response": "fail"}], issues={"failing_policies_count": 1}
    )
    found = host_to_resource("fleet", host, None, POLICIES)
    result = run(device.firewall, found)
    assert result.status == FAIL and "as last reported on 2025-05-17" in result.message
    assert run(mdm.mdm_compliant, found).status == FAIL


def test_fleet_mdm_enrollment_status() -> None:
    expect = {
        "On (automatic)": True,
        "On (manual)": True,
        "On (personal)": True,
        "Pending": False,
        "Off": False,
        None: None,
    }
    for status, enrolled in expect.items():
        host = fleet_host(mdm={"enrollment_status": status})
        assert host_to_resource("fleet", host, None, {}).attributes["mdm_enrolled"] is enrolled, status


def test_fleet_detail_call_only_for_what_the_listing_lacks() -> None:
    assert needs_detail(fleet_host(), {})  # disk encryption is only in GET /hosts/{id}
    assert not needs_detail(fleet_host(), {"disk_encryption": "FileVault on"})
    assert needs_detail({k: v for k, v in fleet_host().items() if k != "policies"}, {"disk_encryption": "x"})
    detail = {**fleet_host(), "disk_encryption_enabled": True, "detail_updated_at": ago(0.1)}
    found = host_to_resource("fleet", fleet_host(), detail, {})
    assert found.attributes["disk_encryption"] is True
    assert run(device.disk_encryption, found).status == PASS  # judged by detail_updated_at, not policy time


def test_fleet_detail_error_marks_only_disk_encryption() -> None:
    found = host_to_resource("fleet", fleet_host(policy_updated_at=ago(0.1)), None, POLICIES, "GetHost: 500: x")
    assert set(found.errors) == {"disk_encryption"}
    assert run(device.antivirus_running, found).status == PASS


# -- SSM: defect 3 (antivirus state) and patch state -------------------------------------------------------

INFO = {
    "InstanceId": "i-0abc",
    "PingStatus": "Online",
    "LastPingDateTime": NOW - timedelta(hours=1),
    "AgentVersion": "3.3.0.0",
    "PlatformType": "Windows",
    "PlatformName": "Microsoft Windows Server 2022",
    "PlatformVersion": "10.0.20348",
    "ComputerName": "web-01",
}
FALCON_APP = [{"Name": "Falcon Sensor", "Version": "7.10", "Publisher": "CrowdStrike"}]


def service(name: str, status: str) -> dict[str, str]:
    """An AWS:Service inventory entry."""
    return {"Name": name, "DisplayName": name, "ServiceType": "OWN_PROCESS", "Status": status, "StartType": "Automatic"}


def server(*, apps: Any = FALCON_APP, services: Any = None, patch: Any = None, errors: Any = None) -> Any:
    return server_device(
        "111122223333",
        "eu-west-1",
        INFO,
        apps=apps,
        services=services,
        updates=[],
        patch=patch,
        errors=dict(errors or {}),
    )


def test_defect_ssm_service_state_answers_antivirus() -> None:
    running = server(services=[service("CSFalconService", "Running"), service("WinDefend", "Running")])
    assert run(device.antivirus_running, running).status == PASS  # the old collector said unknown: error
    assert run(protection.edr_healthy, running).status == PASS
    stopped = server(services=[service("CSFalconService", "Stopped"), service("WinDefend", "Stopped")])
    assert run(device.antivirus_running, stopped).status == FAIL
    assert run(protection.edr_healthy, stopped).status == FAIL


def test_ssm_windefend_running_alone_is_unknown() -> None:
    # WinDefend runs in passive mode too: a running service is not real-time protection.
    found = server(apps=[], services=[service("WinDefend", "Running")])
    assert run(device.antivirus_running, found).status == ERROR


def test_ssm_linux_inventory_says_installed_not_running() -> None:
    found = server(services=None)
    assert run(device.antivirus_running, found).status == ERROR
    assert run(protection.edr_healthy, found).status == ERROR
    assert run(access.password_required, found).status == NA and run(mdm.mdm_enrolled, found).status == NA


def test_ssm_patch_state() -> None:
    scan = {
        "InstanceId": "i-0abc",
        "BaselineId": "pb-1",
        "MissingCount": 7,
        "FailedCount": 1,
        "InstalledPendingRebootCount": 2,
        "InstalledCount": 300,
        "Operation": "Scan",
        "OperationStartTime": NOW - timedelta(hours=7),
        "OperationEndTime": NOW - timedelta(hours=6),
    }
    result = run(patching.patches_installed, server(patch=scan))
    assert result.status == FAIL and "7 missing" in result.message and "1 failed" in result.message
    clean = {**scan, "MissingCount": 0, "FailedCount": 0, "InstalledPendingRebootCount": 0, "Operation": "Install"}
    found = server(patch=clean)
    assert run(patching.patches_installed, found).status == PASS
    assert found.attributes["os_updated_at"] == "2025-06-01T06:00:00Z"  # an install operation is an update
    old = {**clean, "OperationEndTime": NOW - timedelta(days=20)}
    assert run(patching.patches_installed, server(patch=old)).status == ERROR
    never = run(patching.patches_installed, server(patch=None))
    assert never.status == ERROR and "NoPatchState" in never.message


# -- push ---------------------------------------------------------------------------------------------


def report(**kw: Any) -> dict[str, Any]:
    return {
        "schema_version": 1,
        "device_id": "win-1",
        "hostname": "WIN-1",
        "platform": "windows",
        "collected_at": ago(0),
        "os": {"name": "Windows 11", "version": "10.0.22631", "pending_updates": 3},
        "antivirus": [
            {"product": "Microsoft Defender", "enabled": False, "passive": True},
            {"product": "SentinelOne", "enabled": True},
        ],
        "edr": [{"product": "SentinelOne", "running": True, "last_connected": ago(0.1)}],
        "mdm": {"enrolled": True, "provider": "Microsoft Intune"},
        "password": {"required": True, "min_length": 12},
        "tamper_protection": True,
        **kw,
    }


def test_push_report_with_the_new_fields_is_valid_and_mapped() -> None:
    body = report()
    jsonschema.Draft202012Validator(report_schema()).validate(body)
    found = report_to_resource("realm", body, ago(0))
    assert run(device.antivirus_running, found).status == PASS
    assert run(protection.edr_healthy, found).status == PASS
    assert run(mdm.mdm_enrolled, found).status == PASS
    assert run(access.password_required, found).status == PASS
    assert run(protection.tamper_protection, found).status == PASS
    patches = run(patching.patches_installed, found)
    assert patches.status == FAIL and "3 missing" in patches.message


def test_push_reports_without_the_new_fields_stay_valid() -> None:
    old = {k: v for k, v in report().items() if k not in ("edr", "mdm", "password", "tamper_protection")}
    old["os"] = {"name": "Windows 11", "version": "10.0.22631"}
    old["antivirus"] = [{"product": "Microsoft Defender", "enabled": True}]
    jsonschema.Draft202012Validator(report_schema()).validate(old)
    found = report_to_resource("realm", old, ago(0))
    assert found.attributes["antivirus"][0] == {
        "product": "Microsoft Defender",
        "enabled": True,
        "up_to_date": None,
        "definitions_updated": None,
    }
    assert run(protection.edr_healthy, found).status == ERROR

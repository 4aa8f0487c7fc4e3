"""The Intune collector against the fake tenant over TLS (real azure-identity, real httpx), evaluated
with the real endpoint checks: the demo finds each negative shape of its Intune data."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from posture_demo.fake_azure import DEMO_TENANT, FakeAzure, demo_tenant

from agent.evaluate import evaluate
from agent.models import Finding, Snapshot, Status
from agent.registry import checks_in
from collectors import CollectContext
from collectors.endpoints.config import EndpointSource
from collectors.endpoints.intune import collect_intune

PASS, FAIL, ERROR, NA = Status.PASS, Status.FAIL, Status.ERROR, Status.NOT_APPLICABLE


@pytest.fixture
def fake() -> Iterator[FakeAzure]:
    server = FakeAzure(demo_tenant(), page_size=2).start()
    try:
        yield server
    finally:
        server.stop()


def collect(fake: FakeAzure) -> Snapshot:
    [snap] = collect_intune(EndpointSource.model_validate(fake.intune_config()), CollectContext())
    return snap


def verdicts(snap: Snapshot) -> dict[tuple[str, str], Finding]:
    names = {r.id: r.name for r in snap.resources}
    return {
        (names[f.resource_id], f.check_id.rsplit(".", 1)[-1]): f for f in evaluate(snap, checks_in("checks.endpoints"))
    }


def test_the_demo_tenant_shows_each_negative_shape(fake: FakeAzure) -> None:
    snap = collect(fake)
    assert snap.complete and snap.account == DEMO_TENANT
    by = verdicts(snap)

    def status(device: str, check: str) -> Status:
        return by[(device, check)].status

    def says(device: str, check: str, text: str) -> bool:
        return text in by[(device, check)].message

    # healthy laptop
    for check in (
        "antivirus_running",
        "firewall",
        "screen_lock",
        "password_required",
        "mdm_compliant",
        "os_supported",
        "tamper_protection",
        "disk_encryption",
    ):
        assert status("LAPTOP-ALICE", check) == PASS, (check, by[("LAPTOP-ALICE", check)].message)
    # Defender off, unencrypted, firewall off per its compliance setting state, noncompliant
    assert status("LAPTOP-BOB", "antivirus_running") == FAIL
    assert status("LAPTOP-BOB", "firewall") == FAIL
    assert status("LAPTOP-BOB", "disk_encryption") == FAIL
    assert status("LAPTOP-BOB", "mdm_compliant") == FAIL and says("LAPTOP-BOB", "mdm_compliant", "Firewall")
    # realTimeProtectionEnabled null: unknown, never "off"
    assert status("LAPTOP-CAROL", "antivirus_running") == ERROR and says("LAPTOP-CAROL", "antivirus_running", "unknown")
    # Defender passive behind CrowdStrike, whose state Intune cannot see: unknown, naming it
    assert status("LAPTOP-DAN", "antivirus_running") == ERROR
    assert says("LAPTOP-DAN", "antivirus_running", "CrowdStrike Falcon") and says(
        "LAPTOP-DAN", "antivirus_running", "passive"
    )
    assert status("LAPTOP-DAN", "edr_healthy") == ERROR
    # a protection report 20 days old while the laptop syncs hourly
    assert status("LAPTOP-ERIN", "checked_in") == PASS
    assert status("LAPTOP-ERIN", "antivirus_running") == ERROR and says(
        "LAPTOP-ERIN", "antivirus_running", "older than 7 days"
    )
    # a jailbroken phone
    assert status("IPHONE-FRANK", "not_jailbroken") == FAIL
    assert status("IPHONE-FRANK", "mdm_compliant") == FAIL
    # in the grace period, with a screen lock the policy's 15 minutes do not cover, and no EDR sensor
    assert status("MACBOOK-GINA", "mdm_compliant") == FAIL and says("MACBOOK-GINA", "mdm_compliant", "grace period")
    assert status("MACBOOK-GINA", "screen_lock") == FAIL
    assert status("MACBOOK-GINA", "edr_healthy") == NA  # no sensor, and the check's 'required' is off


def test_every_call_is_on_the_allowlist_and_setting_states_are_read_once_per_policy(fake: FakeAzure) -> None:
    collect(fake)
    calls = fake.calls("graph")
    assert calls and all(status == 200 for _, _, _, status in calls), [c for c in calls if c[3] != 200]
    policies = len(fake.tenant.graph["/v1.0/deviceManagement/deviceCompliancePolicies"])
    pages = -(-policies // fake.page_size)  # read once for the tenant, not once per device
    assert len([c for c in calls if c[2].endswith("/deviceCompliancePolicies")]) == pages
    # dev-3's policy state carries its setting states inline: no second call for it
    setting_calls = {c[2] for c in calls if c[2].endswith("/settingStates")}
    assert not any("/dev-3/" in path for path in setting_calls) and len(setting_calls) == 6


def test_without_the_configuration_permission_compliance_answers_are_errors_naming_it(fake: FakeAzure) -> None:
    fake.fail("graph", r"/deviceCompliancePolicies$", 403, times=-1)
    snap = collect(fake)
    by = verdicts(snap)
    firewall = by[("LAPTOP-ALICE", "firewall")]
    assert firewall.status == ERROR and "DeviceManagementConfiguration.Read.All" in firewall.message
    assert by[("LAPTOP-ALICE", "antivirus_running")].status == PASS  # the rest is still read
    assert by[("LAPTOP-ALICE", "mdm_compliant")].status == PASS  # complianceState comes with the device


def test_a_denied_detected_apps_call_leaves_passive_defender_unknown(fake: FakeAzure) -> None:
    fake.fail("graph", r"/dev-4/detectedApps$", 403, times=-1)
    by = verdicts(collect(fake))
    assert by[("LAPTOP-DAN", "antivirus_running")].status == ERROR
    assert "Authorization_RequestDenied" in by[("LAPTOP-DAN", "edr_healthy")].message

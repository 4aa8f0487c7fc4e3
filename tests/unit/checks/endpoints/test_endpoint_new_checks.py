"""MDM enrolment and compliance, jailbreak, password, EDR, tamper protection and patch checks over
hand-built devices (the shapes each source produces)."""

from __future__ import annotations

from typing import Any

import pytest
from endpoint_check_fixtures import ERROR, FAIL, NA, PASS, Case, ago, case, dev, run_case

from checks.endpoints import access, mdm, patching, protection
from collectors.endpoints.device import Edr, PatchState

SERVER = dict(platform="linux", extra={"headless": True})
PHONE = dict(platform="ios", antivirus=None, firewall=None)
FALCON = Edr(product="CrowdStrike Falcon", running=True, last_connected=ago(0.2))


def length_policy(state: str, length: int) -> list[dict[str, Any]]:
    return [
        {
            "topic": "password_length",
            "setting": "Windows10CompliancePolicy.PasswordMinimumLength",
            "policy": "Windows baseline",
            "state": state,
            "required": length,
        }
    ]


CASES = [
    # mdm_enrolled
    case(mdm.mdm_enrolled, dev(mdm_enrolled=True), PASS, "enrolled", id="pass"),
    case(mdm.mdm_enrolled, dev(mdm_enrolled=False, extra={"mdm_status": "Off"}), FAIL, "Off", id="off"),
    case(
        mdm.mdm_enrolled,
        dev(mdm_enrolled=False, extra={"mdm_status": "Pending"}),
        FAIL,
        "Pending",
        id="pending",
        looks_fine="Fleet shows an MDM enrolment status for the Mac, but it is Pending: the "
        "automated enrolment never completed",
    ),
    case(mdm.mdm_enrolled, dev(mdm_enrolled=None), ERROR, "does not report", id="unknown"),
    case(mdm.mdm_enrolled, dev(mdm_enrolled=None, **SERVER), NA, "server", id="server"),
    case(mdm.mdm_enrolled, dev(mdm_enrolled=None, platform="linux"), NA, "Linux", id="linux"),
    case(
        mdm.mdm_enrolled,
        dev(mdm_enrolled=True, last_seen=ago(12)),
        ERROR,
        "as of 2025-05-20, but its last check-in is older than 7 days",
        id="stale",
    ),
    # mdm_compliant
    case(mdm.mdm_compliant, dev(mdm_compliance="compliant"), PASS, "compliant", id="pass"),
    case(
        mdm.mdm_compliant,
        dev(
            mdm_compliance="noncompliant",
            compliance_settings=[
                {
                    "topic": "firewall",
                    "setting": "Windows10CompliancePolicy.ActiveFirewallRequired",
                    "policy": "Windows",
                    "state": "nonCompliant",
                    "required": True,
                }
            ],
        ),
        FAIL,
        "ActiveFirewallRequired",
        id="noncompliant",
    ),
    case(
        mdm.mdm_compliant,
        dev(mdm_compliance="noncompliant", extra={"failing_policies": ["Gatekeeper on"]}),
        FAIL,
        "Gatekeeper on",
        id="fleet-failing-policy",
    ),
    case(
        mdm.mdm_compliant,
        dev(mdm_compliance="inGracePeriod", extra={"complianceGracePeriodExpirationDateTime": "2025-06-04T12:00:00Z"}),
        FAIL,
        "grace period until 2025-06-04",
        id="in-grace-period",
        looks_fine="Intune still grants access during the grace period, but the device is already non-compliant",
    ),
    case(mdm.mdm_compliant, dev(mdm_compliance="unknown"), ERROR, "not evaluated", id="intune-unknown"),
    case(mdm.mdm_compliant, dev(mdm_compliance="configManager"), ERROR, "Configuration Manager", id="config-manager"),
    case(mdm.mdm_compliant, dev(mdm_compliance=None), ERROR, "does not report", id="not-reported"),
    case(mdm.mdm_compliant, dev(mdm_compliance=None, mdm_enrolled=False), NA, "not enrolled", id="not-enrolled"),
    case(mdm.mdm_compliant, dev(mdm_compliance=None, **SERVER), NA, "server", id="server"),
    case(
        mdm.mdm_compliant,
        dev(mdm_compliance="compliant", observed_at={"mdm_compliance": ago(15)}),
        ERROR,
        "as of 2025-05-17, but its compliance report is older than 7 days",
        id="stale-policy-results",
        looks_fine="the host passed every policy, but the results are 15 days old while it checks in daily",
    ),
    # not_jailbroken
    case(mdm.not_jailbroken, dev(jailbroken=False, **PHONE), PASS, id="pass"),
    case(mdm.not_jailbroken, dev(jailbroken=True, **PHONE), FAIL, "jailbroken", id="jailbroken"),
    case(mdm.not_jailbroken, dev(jailbroken=None, **PHONE), ERROR, "jailbroken", id="unknown"),
    case(
        mdm.not_jailbroken,
        dev(jailbroken=None, mdm_compliance="compliant", platform="android"),
        ERROR,
        "jailbroken",
        id="unknown-but-compliant",
        looks_fine="Intune reports jailBroken 'Unknown' on a compliant phone; Unknown is not 'False'",
    ),
    case(mdm.not_jailbroken, dev(jailbroken=None), NA, "not a phone", id="laptop"),
    # password_required
    case(access.password_required, dev(password_required=True, password_min_length=12), PASS, "12", id="pass"),
    case(access.password_required, dev(password_required=False), FAIL, "does not require", id="off"),
    case(access.password_required, dev(password_required=None), ERROR, "does not report", id="unknown"),
    case(
        access.password_required,
        dev(password_required=True, password_min_length=4),
        FAIL,
        "4 characters",
        id="short",
        looks_fine="a password is required, but four characters are enough",
    ),
    case(access.password_required, dev(password_required=True), PASS, "not reported", id="length-unknown"),
    case(
        access.password_required,
        dev(password_required=True, compliance_settings=length_policy("nonCompliant", 6)),
        FAIL,
        "Windows baseline",
        id="policy-length-failed",
    ),
    case(
        access.password_required,
        dev(password_required=True, compliance_settings=length_policy("compliant", 10)),
        PASS,
        "10-character",
        id="policy-length-met",
    ),
    case(
        access.password_required,
        dev(password_required=True, password_min_length=6, **PHONE),
        PASS,
        id="phone-six-digits",
    ),
    case(
        access.password_required,
        dev(password_required=True, password_min_length=6),
        FAIL,
        params={"min_length": 8},
        id="param",
    ),
    case(access.password_required, dev(password_required=None, **SERVER), NA, "server", id="server"),
    # edr_healthy
    case(protection.edr_healthy, dev(edr=[FALCON]), PASS, "CrowdStrike", id="pass"),
    case(protection.edr_healthy, dev(edr=[]), NA, "required", id="none-not-required"),
    case(protection.edr_healthy, dev(edr=[]), FAIL, "no EDR sensor", params={"required": True}, id="none"),
    case(
        protection.edr_healthy, dev(edr=[Edr(product="SentinelOne", running=False)]), FAIL, "not running", id="stopped"
    ),
    case(
        protection.edr_healthy,
        dev(edr=[Edr(product="SentinelOne", running=True, last_connected=ago(10))]),
        FAIL,
        "SentinelOne last connected on 2025-05-22 (limit 3 days)",
        id="disconnected",
        looks_fine="the sensor service runs, but it has not reached its cloud for 10 days",
    ),
    case(
        protection.edr_healthy,
        dev(edr=[Edr(product="CrowdStrike Falcon", running=None)]),
        ERROR,
        "does not report whether it runs",
        id="installed-only",
        looks_fine="the sensor is installed (detected app), but nothing says it runs",
    ),
    case(protection.edr_healthy, dev(edr=None), ERROR, "does not report", id="unknown"),
    case(
        protection.edr_healthy,
        dev(edr=[Edr(product="SentinelOne", running=True)]),
        FAIL,
        "crowdstrike",
        params={"products": ["CrowdStrike"]},
        id="not-the-required-product",
    ),
    case(protection.edr_healthy, dev(edr=None, **PHONE), NA, "phone", id="phone"),
    # tamper_protection
    case(protection.tamper_protection, dev(tamper_protection=True), PASS, id="pass"),
    case(protection.tamper_protection, dev(tamper_protection=False), FAIL, "off", id="off"),
    case(protection.tamper_protection, dev(tamper_protection=None), ERROR, "does not report", id="unknown"),
    case(
        protection.tamper_protection,
        dev(tamper_protection=True, observed_at={"tamper_protection": ago(20)}),
        ERROR,
        "as of 2025-05-12, but its protection report is older than 7 days",
        id="stale-report",
        looks_fine="Intune reports tamper protection on, but that protection report is 20 days old",
    ),
    case(protection.tamper_protection, dev(tamper_protection=None, **PHONE), NA, id="phone"),
    # patches_installed
    case(
        patching.patches_installed,
        dev(patches=PatchState(missing=0, failed=0, pending_reboot=0), observed_at={"patches": ago(1)}),
        PASS,
        id="pass",
    ),
    case(
        patching.patches_installed,
        dev(patches=PatchState(missing=7, failed=1, pending_reboot=0)),
        FAIL,
        "7 missing",
        id="missing",
    ),
    case(
        patching.patches_installed,
        dev(patches=PatchState(missing=0, failed=0, pending_reboot=2)),
        FAIL,
        "waiting for a reboot",
        id="pending-reboot",
        looks_fine="no patch is missing or failed, but two installed ones are not in effect until a reboot",
    ),
    case(
        patching.patches_installed,
        dev(patches=PatchState(missing=0, failed=0, pending_reboot=2)),
        PASS,
        params={"allow_pending_reboot": True},
        id="pending-reboot-allowed",
    ),
    case(patching.patches_installed, dev(patches=PatchState(compliant=False)), FAIL, "missing", id="policy-fails"),
    case(patching.patches_installed, dev(patches=PatchState(compliant=True)), PASS, id="policy-passes"),
    case(patching.patches_installed, dev(patches=None), ERROR, "does not report", id="unknown"),
    case(
        patching.patches_installed,
        dev(patches=None, errors={"patches": "NoPatchState: no scan"}),
        ERROR,
        "NoPatchState",
        id="never-scanned",
    ),
    case(
        patching.patches_installed,
        dev(patches=PatchState(missing=0, failed=0), observed_at={"patches": ago(20)}),
        ERROR,
        "as of 2025-05-12, but its last patch scan is older than 7 days",
        id="stale-scan",
        looks_fine="the last Patch Manager scan found nothing missing, but it ran 20 days ago",
    ),
]


@pytest.mark.parametrize("c", CASES)
def test_case(c: Case) -> None:
    run_case(c)


def test_every_new_check_declares_reads_and_needs() -> None:
    for module in (access, mdm, patching, protection):
        for chk in (v for v in vars(module).values() if hasattr(v, "meta")):
            assert chk.meta.reads and chk.meta.needs, chk.id

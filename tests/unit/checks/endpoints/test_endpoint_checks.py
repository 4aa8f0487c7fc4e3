"""The device hygiene checks (checks/endpoints/device.py) over hand-built devices, and freshness:
a stale report never passes, a failure it evidenced stays a failure, a silent device fails checked_in."""

from __future__ import annotations

from typing import Any

import pytest
from endpoint_check_fixtures import DEFENDER, ERROR, FAIL, NA, PASS, Case, ago, case, dev, run, run_case

from agent.evaluate import evaluate
from agent.models import Snapshot
from checks.base import Check
from checks.endpoints import device as d
from collectors.endpoints.device import Antivirus

STALE = dev(last_seen=ago(12))
UNSEEN = dev(last_seen=None)
CROWDSTRIKE = Antivirus(product="CrowdStrike Falcon", enabled=None)
PASSIVE_DEFENDER = Antivirus(product="Microsoft Defender Antivirus", enabled=False, passive=True)
PHONE = dev(platform="ios", antivirus=None, firewall=None)


def lock_policy(state: str, minutes: int) -> list[dict[str, Any]]:
    """Intune compliance evidence for the screen lock setting, as collectors/endpoints/intune.py builds it."""
    return [
        {
            "topic": "screen_lock",
            "setting": "MacOSCompliancePolicy.PasswordMinutesOfInactivityBeforeLock",
            "policy": "macOS baseline",
            "state": state,
            "required": minutes,
        }
    ]


CASES = [
    # antivirus_running
    case(d.antivirus_running, dev(), PASS, "Microsoft Defender", id="pass"),
    case(d.antivirus_running, dev(antivirus=[]), FAIL, "no antivirus", id="none"),
    case(d.antivirus_running, dev(antivirus=[Antivirus(product="ClamAV", enabled=False)]), FAIL, "off", id="off"),
    case(
        d.antivirus_running,
        dev(antivirus=[Antivirus(product="ClamAV")]),
        ERROR,
        "unknown",
        id="state-unknown",
        looks_fine="a product is installed, but nothing says its protection is on",
    ),
    case(d.antivirus_running, dev(antivirus=None), ERROR, "does not report", id="not-reported"),
    case(
        d.antivirus_running,
        dev(antivirus=[PASSIVE_DEFENDER, CROWDSTRIKE]),
        ERROR,
        "CrowdStrike Falcon",
        id="defect-passive-defender-names-the-other-product",
        looks_fine="Defender's engine runs (malwareProtectionEnabled true) in passive mode; the product it defers "
        "to has an unknown state",
    ),
    case(d.antivirus_running, dev(antivirus=[PASSIVE_DEFENDER]), FAIL, "passive mode", id="passive-alone"),
    case(
        d.antivirus_running,
        STALE,
        ERROR,
        "as of 2025-05-20, but its last check-in is older than 7 days",
        id="defect-stale-pass-is-error",
        looks_fine="the last report said protected, but it is 12 days old",
    ),
    case(
        d.antivirus_running,
        dev(last_seen=ago(12), antivirus=[]),
        FAIL,
        "as last reported on 2025-05-20",
        id="defect-stale-fail-stays-fail",
    ),
    case(
        d.antivirus_running,
        dev(observed_at={"antivirus": ago(20)}),
        ERROR,
        "protection report",
        id="stale-protection-report",
        looks_fine="the device checked in today, but its protection report is 20 days old",
    ),
    case(d.antivirus_running, dev(observed_at={"antivirus": None}), ERROR, "no date", id="undated-report"),
    case(d.antivirus_running, PHONE, NA, "phone", id="phone"),
    # antivirus_up_to_date
    case(d.antivirus_up_to_date, dev(), PASS, id="pass"),
    case(
        d.antivirus_up_to_date,
        dev(antivirus=[Antivirus(product="X", enabled=True, definitions_updated=ago(2))]),
        PASS,
        id="recent-defs",
    ),
    case(
        d.antivirus_up_to_date,
        dev(antivirus=[Antivirus(product="X", enabled=True, definitions_updated=ago(20))]),
        FAIL,
        "out of date",
        id="old-defs",
    ),
    case(
        d.antivirus_up_to_date,
        dev(antivirus=[Antivirus(product="X", enabled=True, up_to_date=True, definitions_updated=ago(20))]),
        FAIL,
        "out of date",
        id="flag-true-defs-old",
        looks_fine="the product flags itself up to date, but its definitions are 20 days old",
    ),
    case(
        d.antivirus_up_to_date,
        dev(antivirus=[Antivirus(product="X", enabled=True, up_to_date=False)]),
        FAIL,
        id="flag-false",
    ),
    case(d.antivirus_up_to_date, dev(antivirus=[Antivirus(product="X", enabled=True)]), ERROR, "unknown", id="unknown"),
    case(d.antivirus_up_to_date, dev(antivirus=[]), FAIL, id="none"),
    case(
        d.antivirus_up_to_date, STALE, ERROR, "as of 2025-05-20, but its last check-in is older than 7 days", id="stale"
    ),
    case(d.antivirus_up_to_date, PHONE, NA, id="phone"),
    # disk_encryption
    case(d.disk_encryption, dev(), PASS, id="pass"),
    case(d.disk_encryption, dev(disk_encryption=False), FAIL, "unencrypted", id="fail"),
    case(d.disk_encryption, dev(disk_encryption=None), ERROR, "does not report", id="unknown"),
    case(
        d.disk_encryption,
        STALE,
        ERROR,
        "as of 2025-05-20, but its last check-in is older than 7 days",
        id="stale-pass",
        looks_fine="the last report said encrypted, but the laptop has been silent for 12 days",
    ),
    case(
        d.disk_encryption,
        dev(last_seen=ago(12), disk_encryption=False),
        FAIL,
        "as last reported",
        id="defect-stale-unencrypted-stays-fail",
    ),
    # os_supported
    case(d.os_supported, dev(), PASS, id="pass"),
    case(d.os_supported, dev(os_supported=False, os_version="Windows 8.1"), FAIL, "Windows 8.1", id="fail"),
    case(
        d.os_supported,
        dev(os_supported=False, os_version="10.0.19044.1288"),
        FAIL,
        "minimum",
        id="below-policy-minimum",
        looks_fine="a Windows 10 build that Microsoft still patches, but below the organisation's minimum version",
    ),
    case(d.os_supported, dev(os_supported=None), ERROR, id="unknown"),
    # os_patched
    case(d.os_patched, dev(), PASS, "in the last 30 days (observed: updates installed 2025-05-29T12:00", id="pass"),
    case(
        d.os_patched,
        dev(os_updated_at=ago(45)),
        FAIL,
        "last installed OS updates on 2025-04-17, more than 30 days ago",
        id="fail",
    ),
    case(d.os_patched, dev(os_updated_at=ago(10)), FAIL, params={"max_days": 7}, id="param"),
    case(d.os_patched, dev(os_updated_at=None), ERROR, id="unknown"),
    case(
        d.os_patched,
        dev(last_seen=ago(12), os_updated_at=ago(13)),
        ERROR,
        "as of 2025-05-20, but its last check-in is older than 7 days",
        id="stale",
        looks_fine="13 days since the last update is within 30, but the device has been silent for 12 days",
    ),
    # screen_lock
    case(d.screen_lock, dev(), PASS, "5 min", id="pass"),
    case(d.screen_lock, dev(screen_lock_seconds=1800), FAIL, "30 min", id="long"),
    case(d.screen_lock, dev(screen_lock_seconds=0), FAIL, "never", id="never"),
    case(d.screen_lock, dev(screen_lock_seconds=None), ERROR, id="unknown"),
    case(d.screen_lock, dev(screen_lock_seconds=None, platform="linux", extra={"headless": True}), NA, id="server"),
    case(
        d.screen_lock,
        dev(screen_lock_seconds=None, compliance_settings=lock_policy("compliant", 5)),
        PASS,
        "5 min",
        id="policy-compliant",
    ),
    case(
        d.screen_lock,
        dev(screen_lock_seconds=None, compliance_settings=lock_policy("nonCompliant", 15)),
        FAIL,
        "macOS baseline",
        id="policy-noncompliant",
    ),
    case(
        d.screen_lock,
        dev(screen_lock_seconds=None, compliance_settings=lock_policy("compliant", 30)),
        ERROR,
        "do not decide",
        id="compliant-with-a-lax-policy",
        looks_fine="the device is compliant with its lock policy, but that policy allows 30 minutes",
    ),
    case(
        d.screen_lock,
        dev(screen_lock_seconds=None, compliance_settings=lock_policy("nonCompliant", 5)),
        ERROR,
        "do not decide",
        id="fails-a-strict-policy",
    ),
    # firewall
    case(d.firewall, dev(), PASS, id="pass"),
    case(d.firewall, dev(firewall=False), FAIL, "off", id="fail"),
    case(d.firewall, dev(firewall=None), ERROR, id="unknown"),
    case(
        d.firewall,
        dev(firewall=None, mdm_compliance="compliant"),
        ERROR,
        "firewall",
        id="compliant-but-unknown",
        looks_fine="the device is compliant with its MDM policies, but no policy says anything about its firewall",
    ),
    case(d.firewall, PHONE, NA, id="phone"),
    # checked_in
    case(d.checked_in, dev(), PASS, "checked in within 7 days (observed: last check-in 2025-06-01T00:00", id="pass"),
    case(
        d.checked_in,
        STALE,
        FAIL,
        "last checked in on 2025-05-20, more than 7 days ago",
        id="defect-silent-laptop-fails",
    ),
    case(
        d.checked_in,
        dev(last_seen=ago(12), extra={"fleet_status": "online"}),
        FAIL,
        "last checked in on 2025-05-20, more than 7 days ago",
        id="listed-online",
        looks_fine="the inventory lists the host as online, but its last check-in was 12 days ago",
    ),
    case(d.checked_in, UNSEEN, ERROR, "never", id="never"),
    case(d.checked_in, dev(last_seen=ago(3)), FAIL, params={"stale_after_days": 2}, id="param"),
    case(d.checked_in, dev(errors={"last_seen": "GetHost: 500"}), ERROR, "500", id="read-error"),
]


@pytest.mark.parametrize("c", CASES)
def test_case(c: Case) -> None:
    run_case(c)


DEVICE_CHECKS = [v for v in vars(d).values() if isinstance(v, Check)]


@pytest.mark.parametrize("chk", DEVICE_CHECKS, ids=lambda c: c.id)
def test_defect_stale_device_never_passes(chk: Check) -> None:
    assert run(chk, STALE).status != PASS


def test_defect_stale_device_keeps_its_failures_and_fails_checked_in() -> None:
    silent = dev(
        last_seen=ago(12),
        antivirus=[],
        disk_encryption=False,
        firewall=False,
        screen_lock_seconds=0,
        os_supported=False,
        os_updated_at=ago(60),
    )
    got = {chk.id: run(chk, silent) for chk in DEVICE_CHECKS}
    assert all(f.status == FAIL for f in got.values()), {k: (f.status, f.message) for k, f in got.items()}
    assert all("as last reported on 2025-05-20" in f.message for cid, f in got.items() if cid != d.checked_in.id)


def test_every_device_check_declares_reads_and_needs() -> None:
    for chk in DEVICE_CHECKS:
        assert chk.meta.reads and chk.meta.needs, chk.id
        assert any(line.startswith("push:") for line in chk.meta.reads), chk.id


def test_endpoint_checks_run_on_endpoint_snapshots_only() -> None:
    from endpoint_check_fixtures import NOW

    assert d.antivirus_running.meta.provider == "endpoints"
    snap = Snapshot(source="t", provider="aws", account="1", started_at=NOW, finished_at=NOW, resources=(dev(),))
    assert evaluate(snap, [d.antivirus_running]) == []


def test_defender_fixture_is_healthy() -> None:
    assert run(d.antivirus_running, dev(antivirus=[DEFENDER])).status == PASS

"""Endpoint checks over hand-built devices (built with the shared device model)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from agent.evaluate import evaluate
from agent.models import Resource, Snapshot, Status
from checks.base import Check
from checks.endpoints import device as d
from collectors.endpoints.device import Antivirus, device_resource

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
PASS, FAIL, ERROR, NA = Status.PASS, Status.FAIL, Status.ERROR, Status.NOT_APPLICABLE


def ago(days: float) -> str:
    return (NOW - timedelta(days=days)).isoformat().replace("+00:00", "Z")


DEFENDER = Antivirus(product="Microsoft Defender", enabled=True, up_to_date=True, definitions_updated=None)


def dev(**kw: Any) -> Resource:
    base: dict[str, Any] = dict(
        source_kind="push", account="realm", device_id="d1", hostname="alice-mbp", platform="macos",
        last_seen=ago(0.5), antivirus=[DEFENDER], disk_encryption=True, firewall=True, screen_lock_seconds=300,
        os_updated_at=ago(3), os_supported=True, os_version="14.5")
    return device_resource(**{**base, **kw})


def case(chk: Check, device: Resource, expect: Status, reason: str = "", *, id: str,
         params: dict[str, Any] | None = None) -> Any:
    return pytest.param(chk, device, expect, reason, params or {}, id=f"{chk.id}:{id}")


STALE = dev(last_seen=ago(12))
UNSEEN = dev(last_seen=None)

CASES = [
    case(d.antivirus_running, dev(), PASS, "Microsoft Defender", id="pass"),
    case(d.antivirus_running, dev(antivirus=[]), FAIL, "no antivirus", id="none"),
    case(d.antivirus_running, dev(antivirus=[Antivirus(product="ClamAV", enabled=False)]), FAIL, "off", id="off"),
    case(d.antivirus_running, dev(antivirus=[Antivirus(product="ClamAV")]), ERROR, "unknown", id="state-unknown"),
    case(d.antivirus_running, dev(antivirus=None), ERROR, "does not report", id="not-reported"),
    case(d.antivirus_running, STALE, ERROR, "12 days", id="stale"),
    case(d.antivirus_up_to_date, dev(), PASS, id="pass"),
    case(d.antivirus_up_to_date, dev(antivirus=[Antivirus(product="X", enabled=True, definitions_updated=ago(2))]),
         PASS, id="recent-defs"),
    case(d.antivirus_up_to_date, dev(antivirus=[Antivirus(product="X", enabled=True, definitions_updated=ago(20))]),
         FAIL, "out of date", id="old-defs"),
    case(d.antivirus_up_to_date, dev(antivirus=[Antivirus(product="X", enabled=True, up_to_date=False)]),
         FAIL, id="flag-false"),
    case(d.antivirus_up_to_date, dev(antivirus=[Antivirus(product="X", enabled=True)]), ERROR, "unknown",
         id="unknown"),
    case(d.antivirus_up_to_date, dev(antivirus=[]), FAIL, id="none"),
    case(d.antivirus_up_to_date, STALE, ERROR, id="stale"),
    case(d.disk_encryption, dev(), PASS, id="pass"),
    case(d.disk_encryption, dev(disk_encryption=False), FAIL, "unencrypted", id="fail"),
    case(d.disk_encryption, dev(disk_encryption=None), ERROR, "does not report", id="unknown"),
    case(d.os_supported, dev(), PASS, id="pass"),
    case(d.os_supported, dev(os_supported=False, os_version="Windows 8.1"), FAIL, "Windows 8.1", id="fail"),
    case(d.os_supported, dev(os_supported=None), ERROR, id="unknown"),
    case(d.os_patched, dev(), PASS, id="pass"),
    case(d.os_patched, dev(os_updated_at=ago(45)), FAIL, "45 days", id="fail"),
    case(d.os_patched, dev(os_updated_at=ago(10)), FAIL, params={"max_days": 7}, id="param"),
    case(d.os_patched, dev(os_updated_at=None), ERROR, id="unknown"),
    case(d.screen_lock, dev(), PASS, "5 min", id="pass"),
    case(d.screen_lock, dev(screen_lock_seconds=1800), FAIL, "30 min", id="long"),
    case(d.screen_lock, dev(screen_lock_seconds=0), FAIL, "never", id="never"),
    case(d.screen_lock, dev(screen_lock_seconds=None), ERROR, id="unknown"),
    case(d.screen_lock, dev(screen_lock_seconds=None, platform="linux", extra={"headless": True}), NA,
         id="server"),
    case(d.firewall, dev(), PASS, id="pass"),
    case(d.firewall, dev(firewall=False), FAIL, "off", id="fail"),
    case(d.firewall, dev(firewall=None), ERROR, id="unknown"),
    case(d.checked_in, dev(), PASS, id="pass"),
    case(d.checked_in, STALE, ERROR, "stale", id="stale-is-error"),
    case(d.checked_in, UNSEEN, ERROR, "never", id="never"),
    case(d.checked_in, dev(last_seen=ago(3)), ERROR, params={"stale_after_days": 2}, id="param"),
    case(d.checked_in, dev(errors={"last_seen": "GetHost: 500"}), ERROR, "500", id="read-error"),
]


@pytest.mark.parametrize(("chk", "device", "expect", "reason", "params"), CASES)
def test_case(chk: Check, device: Resource, expect: Status, reason: str, params: dict[str, Any]) -> None:
    snap = Snapshot(source="t", provider="endpoints", account="realm", started_at=NOW, finished_at=NOW,
                    resources=(device,))
    findings = evaluate(snap, [chk], params={chk.id: params})
    assert len(findings) == 1, findings
    assert findings[0].status == expect, findings[0].message
    assert reason.lower() in findings[0].message.lower(), findings[0].message


def test_checked_in_never_passes_a_stale_device() -> None:
    for chk in (v for v in vars(d).values() if isinstance(v, Check)):
        snap = Snapshot(source="t", provider="endpoints", account="realm", started_at=NOW, finished_at=NOW,
                        resources=(STALE,))
        assert [f.status for f in evaluate(snap, [chk])] == [ERROR], chk.id


def test_every_check_has_pass_fail_and_error_cases() -> None:
    seen: dict[str, set[Status]] = {}
    for p in CASES:
        seen.setdefault(p.values[0].id, set()).add(p.values[2])
    for chk in (v for v in vars(d).values() if isinstance(v, Check)):
        wanted = {PASS, ERROR} if chk is d.checked_in else {PASS, FAIL, ERROR}
        assert wanted <= seen.get(chk.id, set()), chk.id


def test_endpoint_checks_run_on_endpoint_snapshots_only() -> None:
    assert d.antivirus_running.meta.provider == "endpoints"
    snap = Snapshot(source="t", provider="aws", account="1", started_at=NOW, finished_at=NOW, resources=(dev(),))
    assert evaluate(snap, [d.antivirus_running]) == []

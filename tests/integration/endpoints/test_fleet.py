"""The Fleet collector against a fake Fleet REST API on loopback."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest
from posture_demo.fake_devices import AV_POLICY, FW_POLICY, POLICIES, FakeFleet, demo_hosts

from agent.evaluate import evaluate
from agent.models import Status
from agent.registry import checks_in
from collectors import CollectContext
from collectors.endpoints import collect
from collectors.endpoints.config import EndpointSource

EXTRA = 7  # copies of the first demo host, to page through


@pytest.fixture
def fleet() -> Iterator[FakeFleet]:
    hosts = demo_hosts() + [
        {**demo_hosts()[0], "id": 100 + i, "hostname": f"extra-{i}", "display_name": f"extra-{i}"} for i in range(EXTRA)
    ]
    server = FakeFleet(hosts, token="t0ken-fleet")
    server.start()
    os.environ["TEST_FLEET_TOKEN"] = "t0ken-fleet"
    yield server
    server.stop()


def source(fleet: FakeFleet, **kw: object) -> EndpointSource:
    return EndpointSource.model_validate(
        {
            "name": "fleet",
            "provider": "endpoints",
            "kind": "fleet",
            "fleet": {
                "url": fleet.url,
                "token": "env:TEST_FLEET_TOKEN",
                "per_page": 3,
                "max_retries": 2,
                "policies": {"antivirus": AV_POLICY, "firewall": FW_POLICY},
                **kw,
            },
        }
    )


def test_pages_through_every_host_and_reads_details(fleet: FakeFleet) -> None:
    [snap] = collect(source(fleet), CollectContext())
    total = len(demo_hosts()) + EXTRA
    assert snap.complete and snap.provider == "endpoints"
    assert len(snap.resources) == total
    pages = [p for p, _ in fleet.requests if p.startswith("/api/v1/fleet/hosts?")]
    assert len(pages) == -(-total // 3)  # 3 hosts a page; the last page says has_next_results false
    assert all("populate_policies=true" in p for p in pages)
    carol = next(r for r in snap.resources if r.name == "carol-xps")
    assert carol.type == "endpoint.device" and carol.id.startswith("device:fleet:")
    assert carol.attributes["platform"] == "linux"
    assert carol.attributes["disk_encryption"] is False and carol.attributes["antivirus"] == []
    findings = {(f.resource_id, f.check_id): f for f in evaluate(snap, checks_in("checks.endpoints"))}
    assert findings[(carol.id, "endpoint.device.antivirus_running")].status == Status.FAIL


def test_demo_hosts_show_each_negative_shape(fleet: FakeFleet) -> None:
    [snap] = collect(source(fleet, policies=POLICIES), CollectContext())
    by = {
        (f.resource_id.rsplit(":", 1)[-1], f.check_id.rsplit(".", 1)[-1]): f
        for f in evaluate(snap, checks_in("checks.endpoints"))
    }
    # a silent laptop fails checked_in (it used to be an error, so a lost laptop never failed)
    assert by[("4", "checked_in")].status == Status.FAIL and "more than 7 days ago" in by[("4", "checked_in")].message
    # a host that checks in while its policy results are 15 days old: its passes cannot vouch for today
    assert by[("5", "checked_in")].status == Status.PASS
    for check in ("antivirus_running", "firewall", "edr_healthy", "mdm_compliant"):
        assert by[("5", check)].status == Status.ERROR and "older than 7 days" in by[("5", check)].message, check
    # a host not enrolled in MDM
    assert by[("6", "mdm_enrolled")].status == Status.FAIL and "Off" in by[("6", "mdm_enrolled")].message
    # carol: no antivirus, firewall off, EDR sensor not running, failing Fleet policies
    for check in ("antivirus_running", "firewall", "disk_encryption", "edr_healthy", "mdm_compliant"):
        assert by[("3", check)].status == Status.FAIL, check
    assert by[("1", "antivirus_running")].status == Status.PASS and by[("1", "mdm_enrolled")].status == Status.PASS


def test_one_listing_call_a_page_and_no_detail_calls_when_a_policy_answers_disk_encryption(fleet: FakeFleet) -> None:
    [snap] = collect(
        source(fleet, per_page=100, policies={**POLICIES, "disk_encryption": "Disk encrypted"}), CollectContext()
    )
    assert snap.complete and len(snap.resources) == len(demo_hosts()) + EXTRA
    assert [p for p, _ in fleet.requests] == [
        "/api/v1/fleet/hosts?page=0&per_page=100&order_key=id&populate_policies=true"
    ]


def test_429_retry_after_is_honoured(fleet: FakeFleet) -> None:
    fleet.throttle = [1.0]
    t0 = time.monotonic()
    [snap] = collect(source(fleet), CollectContext())
    assert snap.complete and len(snap.resources) == len(demo_hosts()) + EXTRA
    (first, t_first), (second, t_second) = fleet.requests[0], fleet.requests[1]
    assert first == second  # the same request again
    assert t_second - t_first >= 0.95 and time.monotonic() - t0 >= 0.95


def test_persistent_throttling_becomes_a_collection_error(fleet: FakeFleet) -> None:
    fleet.throttle = [0.05] * 10
    [snap] = collect(source(fleet), CollectContext())
    assert not snap.complete
    assert snap.errors[0].code == "429" and snap.errors[0].resource_type == "endpoint.device"
    findings = evaluate(snap, checks_in("checks.endpoints"))
    assert findings and all(f.status == Status.ERROR for f in findings)


def test_bad_token_is_an_error_and_the_token_is_not_in_it(fleet: FakeFleet) -> None:
    os.environ["TEST_FLEET_TOKEN"] = "wrong-token-value"
    [snap] = collect(source(fleet), CollectContext())
    assert snap.errors and snap.errors[0].code == "401"
    assert "wrong-token-value" not in repr(snap.errors)

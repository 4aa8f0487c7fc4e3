"""The Fleet collector against a fake Fleet REST API on loopback."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest

from agent.config import EndpointSource
from agent.demo.fake_devices import AV_POLICY, FW_POLICY, FakeFleet, demo_hosts
from agent.evaluate import evaluate
from agent.models import Status
from agent.registry import checks_in
from collectors import CollectContext
from collectors.endpoints import collect


@pytest.fixture
def fleet() -> Iterator[FakeFleet]:
    hosts = demo_hosts() + [{**demo_hosts()[0], "id": i, "hostname": f"extra-{i}", "display_name": f"extra-{i}"}
                            for i in range(5, 12)]
    server = FakeFleet(hosts, token="t0ken-fleet")
    server.start()
    os.environ["TEST_FLEET_TOKEN"] = "t0ken-fleet"
    yield server
    server.stop()


def source(fleet: FakeFleet, **kw: object) -> EndpointSource:
    return EndpointSource.model_validate({
        "name": "fleet", "provider": "endpoints", "kind": "fleet",
        "fleet": {"url": fleet.url, "token": "env:TEST_FLEET_TOKEN", "per_page": 3, "max_retries": 2,
                  "policies": {"antivirus": AV_POLICY, "firewall": FW_POLICY}, **kw}})


def test_pages_through_every_host_and_reads_details(fleet: FakeFleet) -> None:
    [snap] = collect(source(fleet), CollectContext())
    assert snap.complete and snap.provider == "endpoints"
    assert len(snap.resources) == 11
    pages = [p for p, _ in fleet.requests if p.startswith("/api/v1/fleet/hosts?")]
    assert len(pages) == 4  # 3 + 3 + 3 + 2 hosts
    carol = next(r for r in snap.resources if r.name == "carol-xps")
    assert carol.type == "endpoint.device" and carol.id.startswith("device:fleet:")
    assert carol.attributes["platform"] == "linux"
    assert carol.attributes["disk_encryption"] is False and carol.attributes["antivirus"] == []
    findings = {(f.resource_id, f.check_id): f for f in evaluate(snap, checks_in("checks.endpoints"))}
    assert findings[(carol.id, "endpoint.device.antivirus_running")].status == Status.FAIL
    dave = next(r for r in snap.resources if r.name == "dave-mbp")
    assert findings[(dave.id, "endpoint.device.checked_in")].status == Status.ERROR


def test_429_retry_after_is_honoured(fleet: FakeFleet) -> None:
    fleet.throttle = [1.0]
    t0 = time.monotonic()
    [snap] = collect(source(fleet), CollectContext())
    assert snap.complete and len(snap.resources) == 11
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

"""Servers from AWS Systems Manager as endpoint devices: moto behind the AwsProxy, which answers the
SSM calls moto lacks (DescribeInstanceInformation, ListInventoryEntries, DescribeInstancePatchStates)
on the wire."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from posture_demo.awsproxy import AwsProxy, Fault
from posture_demo.seed import DemoOrg, seed_servers

from agent.evaluate import evaluate
from agent.models import Status
from agent.registry import checks_in, load_checks
from collectors import CollectContext
from collectors.endpoints import collect
from collectors.endpoints.config import EndpointSource

FALCON = [{"Name": "Falcon Sensor", "Version": "7.10", "Publisher": "CrowdStrike"}]
NGINX = [{"Name": "nginx", "Version": "1.24.0", "Publisher": "nginx"}]


@pytest.fixture
def servers(aws: str) -> Iterator[tuple[AwsProxy, str, str]]:
    ec2 = boto3.client("ec2", endpoint_url=aws, region_name="us-east-1")
    ids = [
        i["InstanceId"]
        for i in ec2.run_instances(ImageId="ami-1234abcd", MinCount=2, MaxCount=2, InstanceType="t3.micro")["Instances"]
    ]
    with AwsProxy(aws, inventory={ids[0]: FALCON, ids[1]: NGINX}) as proxy:
        yield proxy, ids[0], ids[1]


@pytest.fixture
def demo_servers(aws: str) -> Iterator[tuple[AwsProxy, str, str]]:
    """The demo's two servers (deploy/demo/posture_demo/seed.py seed_servers), as the demo proxy serves them."""
    ec2 = boto3.client("ec2", endpoint_url=aws, region_name="us-east-1")
    hardened, legacy = [
        i["InstanceId"]
        for i in ec2.run_instances(ImageId="ami-1234abcd", MinCount=2, MaxCount=2, InstanceType="t3.micro")["Instances"]
    ]
    org = DemoOrg(endpoint=aws)
    seed_servers(org, hardened, legacy)
    with AwsProxy(aws, **org.proxy_fixtures()) as proxy:
        yield proxy, hardened, legacy


def source(proxy: AwsProxy, regions: list[str]) -> EndpointSource:
    return EndpointSource.model_validate(
        {
            "name": "servers",
            "provider": "endpoints",
            "kind": "ssm",
            "ssm": {"regions": regions, "endpoint_url": proxy.url},
        }
    )


def test_managed_instances_become_devices_and_are_checked(servers: tuple[AwsProxy, str, str]) -> None:
    proxy, protected, bare = servers
    snaps = collect(source(proxy, ["us-east-1"]), CollectContext())
    assert len(snaps) == 1 and snaps[0].provider == "endpoints" and not snaps[0].errors
    devices = {r.attributes["device_id"]: r for r in snaps[0].resources}
    assert set(devices) == {protected, bare}
    assert all(r.type == "endpoint.device" and r.attributes["source"] == "ssm" for r in devices.values())
    assert [a["product"] for a in devices[protected].attributes["antivirus"]] == ["Falcon Sensor"]
    assert devices[bare].attributes["antivirus"] == []
    checks = [c for c in load_checks().values() if c.id == "endpoint.device.antivirus_running"]
    results = {f.resource_id.rsplit(":", 1)[-1]: f for f in evaluate(snaps[0], checks)}
    assert results[bare].status == Status.FAIL  # no product at all
    # SSM inventory says the product is installed, not that it runs: unknown, never pass
    assert results[protected].status == Status.ERROR and "unknown" in results[protected].message


def test_the_demo_servers_show_service_state_and_missing_patches(demo_servers: tuple[AwsProxy, str, str]) -> None:
    proxy, hardened, legacy = demo_servers
    [snap] = collect(source(proxy, ["us-east-1"]), CollectContext())
    assert snap.complete
    by = {
        (f.resource_id.rsplit(":", 1)[-1], f.check_id.rsplit(".", 1)[-1]): f
        for f in evaluate(snap, checks_in("checks.endpoints"))
    }
    # the Windows server's AWS:Service inventory says CrowdStrike runs: protection is known
    assert by[(hardened, "antivirus_running")].status == Status.PASS
    assert by[(hardened, "edr_healthy")].status == Status.PASS
    assert by[(hardened, "patches_installed")].status == Status.PASS
    assert by[(hardened, "os_patched")].status == Status.PASS
    # the legacy server: Patch Manager found missing, failed and reboot-pending patches
    patches = by[(legacy, "patches_installed")]
    assert patches.status == Status.FAIL and "7 missing" in patches.message and "1 failed" in patches.message
    assert by[(legacy, "antivirus_running")].status == Status.FAIL
    for check in ("screen_lock", "mdm_enrolled", "mdm_compliant", "password_required"):
        assert by[(legacy, check)].status == Status.NOT_APPLICABLE, check
    calls = [i.operation for i in proxy.seen if i.service == "ssm"]
    assert calls.count("DescribeInstancePatchStates") == 1  # one call for up to 50 servers


def test_a_server_never_scanned_by_patch_manager_is_an_error(demo_servers: tuple[AwsProxy, str, str]) -> None:
    proxy, hardened, _ = demo_servers
    proxy.patch_states = {}
    [snap] = collect(source(proxy, ["us-east-1"]), CollectContext())
    result = next(
        f
        for f in evaluate(snap, checks_in("checks.endpoints"))
        if f.check_id == "endpoint.device.patches_installed" and f.resource_id.endswith(hardened)
    )
    assert result.status == Status.ERROR and "NoPatchState" in result.message


def test_an_old_patch_scan_cannot_pass(demo_servers: tuple[AwsProxy, str, str]) -> None:
    proxy, hardened, _ = demo_servers
    old = datetime.now(UTC) - timedelta(days=20)
    proxy.patch_states = {hardened: {**proxy.patch_states[hardened], "OperationEndTime": old}}
    [snap] = collect(source(proxy, ["us-east-1"]), CollectContext())
    result = next(
        f
        for f in evaluate(snap, checks_in("checks.endpoints"))
        if f.check_id == "endpoint.device.patches_installed" and f.resource_id.endswith(hardened)
    )
    assert result.status == Status.ERROR and "older than 7 days" in result.message


def test_a_denied_patch_state_call_is_an_error_on_those_servers(demo_servers: tuple[AwsProxy, str, str]) -> None:
    proxy, hardened, legacy = demo_servers
    proxy.add_fault(
        Fault(service="ssm", operation="DescribeInstancePatchStates", status=400, code="AccessDeniedException")
    )
    [snap] = collect(source(proxy, ["us-east-1"]), CollectContext())
    assert snap.complete  # the servers are still listed and checked
    results = {
        f.resource_id.rsplit(":", 1)[-1]: f
        for f in evaluate(snap, checks_in("checks.endpoints"))
        if f.check_id == "endpoint.device.patches_installed"
    }
    assert all(r.status == Status.ERROR and "AccessDeniedException" in r.message for r in results.values())
    assert set(results) == {hardened, legacy}


def test_a_denied_region_is_a_collection_error(servers: tuple[AwsProxy, str, str]) -> None:
    proxy, _, _ = servers
    proxy.add_fault(Fault(service="ssm", region="eu-west-1", status=400, code="AccessDeniedException"))
    snaps = collect(source(proxy, ["us-east-1", "eu-west-1"]), CollectContext())
    errors = [e for s in snaps for e in s.errors]
    assert [(e.region, e.code, e.resource_type) for e in errors] == [
        ("eu-west-1", "AccessDeniedException", "endpoint.device")
    ]
    assert sum(len(s.resources) for s in snaps) == 2  # us-east-1 still collected


def test_the_demo_ssm_source_config_is_valid() -> None:
    from posture_demo.fake_devices import ssm_source_config

    src = EndpointSource.model_validate(ssm_source_config("http://127.0.0.1:4566"))
    assert src.kind == "ssm" and src.ssm is not None and src.ssm.organization

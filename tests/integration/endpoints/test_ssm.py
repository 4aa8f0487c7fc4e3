"""Servers from AWS SSM inventory as endpoint devices: moto behind the AwsProxy, which answers the
SSM calls moto lacks (DescribeInstanceInformation, ListInventoryEntries) on the wire."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest

from agent.config import EndpointSource
from agent.demo.awsproxy import AwsProxy, Fault
from agent.evaluate import evaluate
from agent.models import Status
from agent.registry import load_checks
from collectors import CollectContext
from collectors.endpoints import collect

FALCON = [{"Name": "Falcon Sensor", "Version": "7.10", "Publisher": "CrowdStrike"}]
NGINX = [{"Name": "nginx", "Version": "1.24.0", "Publisher": "nginx"}]


@pytest.fixture
def servers(aws: str) -> Iterator[tuple[AwsProxy, str, str]]:
    ec2 = boto3.client("ec2", endpoint_url=aws, region_name="us-east-1")
    ids = [i["InstanceId"] for i in ec2.run_instances(ImageId="ami-1234abcd", MinCount=2, MaxCount=2,
                                                        InstanceType="t3.micro")["Instances"]]
    with AwsProxy(aws, inventory={ids[0]: FALCON, ids[1]: NGINX}) as proxy:
        yield proxy, ids[0], ids[1]


def source(proxy: AwsProxy, regions: list[str]) -> EndpointSource:
    return EndpointSource.model_validate({"name": "servers", "provider": "endpoints", "kind": "ssm",
                                          "ssm": {"regions": regions, "endpoint_url": proxy.url}})


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


def test_a_denied_region_is_a_collection_error(servers: tuple[AwsProxy, str, str]) -> None:
    proxy, _, _ = servers
    proxy.add_fault(Fault(service="ssm", region="eu-west-1", status=400, code="AccessDeniedException"))
    snaps = collect(source(proxy, ["us-east-1", "eu-west-1"]), CollectContext())
    errors = [e for s in snaps for e in s.errors]
    assert [(e.region, e.code, e.resource_type) for e in errors] == [
        ("eu-west-1", "AccessDeniedException", "endpoint.device")]
    assert sum(len(s.resources) for s in snaps) == 2  # us-east-1 still collected

"""The GCP collector against a local Cloud Asset REST fake: the real google client on the wire."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
from posture_demo.fake_gcp import ORG, FakeCloudAsset, Fault, demo_org

from agent.evaluate import evaluate
from agent.models import Status
from agent.registry import checks_in
from collectors import CollectContext
from collectors.gcp import collect
from collectors.gcp.config import GcpSource
from collectors.gcp.types import ASSET_TYPES


@pytest.fixture
def fake() -> Iterator[FakeCloudAsset]:
    server = FakeCloudAsset(demo_org(), max_page=1)  # every list call needs several pages
    server.start()
    yield server
    server.stop()


def source(fake: FakeCloudAsset, scope: str = ORG, **kw: object) -> GcpSource:
    return GcpSource.model_validate(
        {"name": "gcp", "provider": "gcp", "scope": scope, "endpoint": fake.url, "timeout": "5s", **kw}
    )


def _calls(fake: FakeCloudAsset, marker: str) -> list[dict[str, list[str]]]:
    return [parse_qs(urlsplit(p).query) for p in fake.requests if marker in p]


def test_one_snapshot_per_project_with_every_type(fake: FakeCloudAsset) -> None:
    snaps = {s.account: s for s in collect(source(fake), CollectContext())}
    # the organization's own IAM policy, sink and contact get a snapshot of their own
    assert set(snaps) == {"shop-prod", "shop-sandbox", ORG}
    sandbox = snaps["shop-sandbox"]
    assert sandbox.complete and sandbox.provider == "gcp"
    types = {r.type for r in sandbox.resources}
    assert {
        "gcp.project",
        "gcp.storage.bucket",
        "gcp.compute.firewall",
        "gcp.compute.instance",
        "gcp.compute.network",
        "gcp.compute.project",
        "gcp.sqladmin.instance",
        "gcp.iam.service_account_key",
        "gcp.iam.policy",
        "gcp.compute.subnetwork",
        "gcp.logging.log_sink",
        "gcp.logging.log_metric",
        "gcp.monitoring.alert_policy",
        "gcp.apikeys.key",
    } <= types
    bucket = sandbox.get("//storage.googleapis.com/projects/_/buckets/shop-sandbox-assets")
    assert bucket is not None and bucket.account == "shop-sandbox" and bucket.region == "us"
    assert bucket.attributes["iamPolicy"]["bindings"][0]["members"] == ["allUsers"]
    project = next(r for r in sandbox.resources if r.type == "gcp.project")
    assert project.attributes["projectId"] == "shop-sandbox"
    assert "auditConfigs" not in project.attributes["iamPolicy"]


def test_every_list_call_follows_next_page_token(fake: FakeCloudAsset) -> None:
    collect(source(fake), CollectContext())
    for marker in (":searchAllIamPolicies", "/assets?", ":searchAllResources"):
        calls = _calls(fake, marker)
        assert any("pageToken" in q for q in calls), f"{marker} never asked for a second page"
    resources = _calls(fake, "/assets?")
    content = {q["contentType"][0] for q in resources}
    assert content == {"1", "2", "4"}  # RESOURCE, IAM_POLICY and ORG_POLICY
    n_assets = sum(1 for a in demo_org() if a["assetType"] in ASSET_TYPES)  # organization and folder: no RESOURCE
    resource_pages = [q for q in resources if q["contentType"] == ["1"]]
    assert len(resource_pages) == n_assets  # one per page, every page read


def test_project_scope_and_checks_end_to_end(fake: FakeCloudAsset) -> None:
    snaps = collect(source(fake, scope="projects/shop-sandbox"), CollectContext())
    assert [s.account for s in snaps] == ["shop-sandbox"]
    findings = evaluate(snaps[0], checks_in("checks.gcp"))
    failed = {f.check_id for f in findings if f.status == Status.FAIL}
    assert {
        "gcp.storage.bucket_not_public",
        "gcp.compute.firewall_admin_ports_closed",
        "gcp.iam.no_primitive_roles_for_users",
        "gcp.compute.default_network_absent",
        "gcp.sqladmin.instance_no_public_ip",
        "gcp.logging.data_access_audit_logs",
        "gcp.iam.service_account_key_rotated_90d",
    } <= failed
    assert not [f for f in findings if f.status == Status.ERROR]


def test_a_429_is_retried(fake: FakeCloudAsset) -> None:
    fake.faults.append(Fault(match=":searchAllIamPolicies", status=429, times=1))
    snaps = collect(source(fake), CollectContext())
    assert all(s.complete for s in snaps)
    assert len(_calls(fake, ":searchAllIamPolicies")) >= 3  # the refused one, then one page per policy


def test_a_failing_call_becomes_collection_errors_and_checks_error(fake: FakeCloudAsset) -> None:
    fake.faults.append(Fault(match="contentType=2", status=403, times=99, headers={}))
    snaps = collect(source(fake), CollectContext())
    sandbox = next(s for s in snaps if s.account == "shop-sandbox")
    assert not sandbox.complete
    assert {e.operation for e in sandbox.errors} == {"ListAssets"}
    assert {e.code for e in sandbox.errors} == {"FORBIDDEN"} or all(e.code for e in sandbox.errors)
    bucket = sandbox.get("//storage.googleapis.com/projects/_/buckets/shop-sandbox-assets")
    assert bucket is not None and "iamPolicy" in bucket.errors
    findings = evaluate(sandbox, checks_in("checks.gcp"))
    public = [f for f in findings if f.check_id == "gcp.storage.bucket_not_public"]
    assert public and all(f.status == Status.ERROR for f in public)


def test_key_file_credentials_are_read_only_when_used(fake: FakeCloudAsset, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from agent.errors import AgentError

    bad = tmp_path / "key.json"
    bad.write_text("{}")
    with pytest.raises(AgentError, match="not a service-account key"):
        collect(source(fake, credentials=f"file:{bad}"), CollectContext())


def test_a_429_on_a_later_page_is_retried_without_losing_pages(fake: FakeCloudAsset) -> None:
    fake.faults.append(Fault(match="contentType=1&pageSize=500&pageToken=3", status=429, times=1))
    snaps = collect(source(fake), CollectContext())
    assert all(s.complete for s in snaps)
    assert sum(len(s.resources) for s in snaps) == sum(
        len(s.resources) for s in collect(source(fake), CollectContext())
    )

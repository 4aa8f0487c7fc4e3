"""The real GCP collector against the Cloud Asset / Cloud Identity fake over HTTP, evaluated with the real
checks: the demo organisation's negative shapes are each found (and the look-alikes are not)."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
from posture_demo.fake_gcp import ORG, FakeCloudAsset, Fault, demo_identity_policies, demo_org

from agent.evaluate import evaluate
from agent.models import Finding, Status
from agent.registry import checks_in
from collectors import CollectContext
from collectors.gcp import collect
from collectors.gcp.config import GcpSource

PASS, FAIL, ERROR, NA = Status.PASS, Status.FAIL, Status.ERROR, Status.NOT_APPLICABLE
SANDBOX_POLICY = "//cloudresourcemanager.googleapis.com/projects/222222222222#iamPolicy"
PROD_POLICY = "//cloudresourcemanager.googleapis.com/projects/111111111111#iamPolicy"
ORG_POLICY = f"//cloudresourcemanager.googleapis.com/{ORG}#iamPolicy"
SANDBOX, PROD = (
    "//cloudresourcemanager.googleapis.com/projects/222222222222",
    "//cloudresourcemanager.googleapis.com/projects/111111111111",
)
VM = "//compute.googleapis.com/projects/{}/zones/us-central1-a/instances/{}"
ALERTS = (
    "project_ownership_changes",
    "audit_config_changes",
    "custom_role_changes",
    "firewall_changes",
    "route_changes",
    "network_changes",
    "bucket_iam_changes",
    "sql_config_changes",
)


@pytest.fixture
def fake() -> Iterator[FakeCloudAsset]:
    server = FakeCloudAsset(demo_org(), identity_policies=demo_identity_policies(), max_page=2)
    server.start()
    yield server
    server.stop()


def scan(fake: FakeCloudAsset, scope: str = ORG, **kw: object) -> dict[tuple[str, str], Finding]:
    source = GcpSource.model_validate(
        {"name": "gcp", "provider": "gcp", "scope": scope, "endpoint": fake.url, "timeout": "5s", **kw}
    )
    checks = checks_in("checks.gcp")
    return {
        (f.check_id, f.resource_id): f for snap in collect(source, CollectContext()) for f in evaluate(snap, checks)
    }


def expect(
    found: dict[tuple[str, str], Finding], check_id: str, resource_id: str, status: Status, text: str = ""
) -> None:
    finding = found.get((check_id, resource_id))
    assert finding is not None, f"no {check_id} finding for {resource_id}"
    assert finding.status == status, f"{check_id} on {resource_id}: {finding.status} {finding.message}"
    assert text.lower() in finding.message.lower(), finding.message


def test_the_demo_finds_each_negative_shape(fake: FakeCloudAsset) -> None:
    found = scan(fake, cloud_identity_admin="admin@example.com")
    # people and service accounts
    expect(found, "gcp.iam.service_account_no_primitive_roles", PROD_POLICY, PASS)  # service agents with Editor
    expect(
        found,
        "gcp.iam.service_account_no_primitive_roles",
        SANDBOX_POLICY,
        FAIL,
        "deployer@shop-sandbox.iam.gserviceaccount.com has roles/resourcemanager.projectIamAdmin",
    )
    assert "cloudservices" not in found[("gcp.iam.service_account_no_primitive_roles", SANDBOX_POLICY)].message
    expect(found, "gcp.iam.no_primitive_roles_for_users", ORG_POLICY, FAIL, "principalSet://")
    expect(found, "gcp.iam.no_primitive_roles_for_users", SANDBOX_POLICY, FAIL, "deleted:user:bob@example.com")
    expect(found, "gcp.iam.service_account_duties_separated", SANDBOX_POLICY, FAIL, "dave@example.com")
    expect(found, "gcp.iam.kms_duties_separated", SANDBOX_POLICY, FAIL, "carol@example.com")
    expect(found, "gcp.iam.no_service_account_user_at_project", SANDBOX_POLICY, FAIL, "serviceAccountUser")
    expect(
        found,
        "gcp.cloudidentity.two_step_verification_enforced",
        "//cloudidentity.googleapis.com/customers/my_customer",
        FAIL,
        "orgUnits/03ph8a2z3kd9qf",
    )
    # what projects inherit from the folder and the organization
    expect(found, "gcp.logging.data_access_audit_logs", PROD, PASS, "folders/300300300")
    expect(found, "gcp.logging.data_access_audit_logs", SANDBOX, FAIL)
    expect(found, "gcp.compute.instance_os_login", VM.format("shop-prod", "web-1"), PASS, "requireOsLogin")
    expect(found, "gcp.compute.instance_os_login", VM.format("shop-sandbox", "win-1"), NA, "Windows")
    expect(found, "gcp.compute.instance_os_login", VM.format("shop-sandbox", "test-vm"), FAIL)
    expect(found, "gcp.logging.sink_exports_all_entries", PROD, PASS, "org-audit")
    expect(found, "gcp.essentialcontacts.contacts_configured", PROD, PASS)
    expect(found, "gcp.essentialcontacts.contacts_configured", SANDBOX, FAIL, "LEGAL, SUSPENSION")
    # instances and networks
    test_vm = VM.format("shop-sandbox", "test-vm")
    expect(found, "gcp.compute.instance_block_project_ssh_keys", test_vm, FAIL)
    expect(found, "gcp.compute.instance_block_project_ssh_keys", VM.format("shop-prod", "web-1"), PASS, "OS Login")
    expect(found, "gcp.compute.instance_serial_port_disabled", test_vm, FAIL)
    expect(found, "gcp.compute.instance_ip_forwarding_off", test_vm, FAIL)
    expect(
        found,
        "gcp.compute.subnet_flow_logs",
        "//compute.googleapis.com/projects/shop-sandbox/regions/us-central1/subnetworks/default",
        FAIL,
    )
    expect(
        found,
        "gcp.compute.subnet_flow_logs",
        "//compute.googleapis.com/projects/shop-prod/regions/us-central1/subnetworks/prod-us",
        PASS,
    )
    # alerts, sinks, keys, databases
    for key in ALERTS:
        expect(found, f"gcp.monitoring.alert_{key}", PROD, PASS)
        expect(found, f"gcp.monitoring.alert_{key}", SANDBOX, FAIL)
    expect(
        found,
        "gcp.logging.sink_destination_retention_locked",
        "//logging.googleapis.com/projects/222222222222/sinks/all-logs",
        FAIL,
        "not locked",
    )
    expect(
        found, "gcp.logging.sink_destination_retention_locked", f"//logging.googleapis.com/{ORG}/sinks/org-audit", PASS
    )
    key = "//apikeys.googleapis.com/projects/222222222222/locations/global/keys/test-key"
    expect(found, "gcp.apikeys.key_application_restricted", key, FAIL)
    expect(found, "gcp.apikeys.key_api_restricted", key, FAIL)
    expect(
        found,
        "gcp.sqladmin.postgres_logging_flags",
        "//cloudsql.googleapis.com/projects/shop-sandbox/instances/reports",
        FAIL,
        "log_connections",
    )
    expect(
        found,
        "gcp.sqladmin.postgres_logging_flags",
        "//cloudsql.googleapis.com/projects/shop-prod/instances/orders",
        PASS,
    )
    expect(
        found,
        "gcp.sqladmin.mysql_security_flags",
        "//cloudsql.googleapis.com/projects/shop-sandbox/instances/scratch",
        FAIL,
        "local_infile",
    )
    assert not [f for f in found.values() if f.status == ERROR], [
        (f.check_id, f.resource_id, f.message) for f in found.values() if f.status == ERROR
    ]


def test_project_scope_reads_what_the_project_inherits_from_the_organization(fake: FakeCloudAsset) -> None:
    found = scan(fake, "projects/shop-prod")
    expect(found, "gcp.logging.data_access_audit_logs", PROD, PASS, "folders/300300300")
    expect(found, "gcp.compute.instance_os_login", VM.format("shop-prod", "web-1"), PASS, "folders/300300300")
    expect(found, "gcp.logging.sink_exports_all_entries", PROD, PASS, "org-audit")
    requests = [urlsplit(p) for p in fake.requests if p.startswith(f"/v1/{ORG}/assets")]
    asked = {t for r in requests for t in parse_qs(r.query)["assetTypes"]}
    assert asked <= {
        "cloudresourcemanager.googleapis.com/Organization",
        "cloudresourcemanager.googleapis.com/Folder",
        "logging.googleapis.com/LogSink",
        "essentialcontacts.googleapis.com/Contact",
    }


def test_without_access_to_the_organization_inherited_settings_are_errors(fake: FakeCloudAsset) -> None:
    fake.faults.append(Fault(match=f"/v1/{ORG}/assets", status=403, times=99, headers={}))
    found = scan(fake, "projects/shop-sandbox")
    expect(found, "gcp.logging.data_access_audit_logs", SANDBOX, ERROR, f"{ORG} could not be read")
    expect(found, "gcp.compute.instance_os_login", VM.format("shop-sandbox", "test-vm"), ERROR, "requireOsLogin")
    expect(found, "gcp.compute.instance_os_login", VM.format("shop-sandbox", "win-1"), NA)
    expect(found, "gcp.essentialcontacts.contacts_configured", SANDBOX, ERROR)
    expect(found, "gcp.logging.sink_exports_all_entries", SANDBOX, PASS, "all-logs")  # its own sink is enough


def test_cloud_identity_policies_are_read_page_by_page(fake: FakeCloudAsset) -> None:
    fake.max_page = 1
    found = scan(fake, cloud_identity_admin="admin@example.com")
    expect(
        found,
        "gcp.cloudidentity.two_step_verification_enforced",
        "//cloudidentity.googleapis.com/customers/my_customer",
        FAIL,
        "orgUnits/03ph8a2z3kd9qf",
    )
    calls = [parse_qs(urlsplit(p).query) for p in fake.requests if urlsplit(p).path == "/v1/policies"]
    assert len(calls) == len(demo_identity_policies())
    assert all("two_step_verification_enforcement" in q["filter"][0] for q in calls)
    assert any("pageToken" in q for q in calls)


def test_a_refused_cloud_identity_read_is_an_error_not_a_pass(fake: FakeCloudAsset) -> None:
    fake.faults.append(Fault(match="/v1/policies", status=403, times=9, headers={}))
    found = scan(fake, cloud_identity_admin="admin@example.com")
    expect(
        found,
        "gcp.cloudidentity.two_step_verification_enforced",
        "//cloudidentity.googleapis.com/customers/my_customer",
        ERROR,
        "super administrator",
    )


def test_a_throttled_cloud_identity_read_with_a_dated_retry_after_is_retried(fake: FakeCloudAsset) -> None:
    """Retry-After may be an HTTP date (RFC 9110); it was once read as a number and crashed the scan."""
    dated = {"Retry-After": "Tue, 01 Dec 2026 00:00:01 GMT", "Date": "Tue, 01 Dec 2026 00:00:00 GMT"}
    fake.faults.append(Fault(match="/v1/policies", status=429, times=1, headers=dated))
    found = scan(fake, cloud_identity_admin="admin@example.com")
    expect(
        found,
        "gcp.cloudidentity.two_step_verification_enforced",
        "//cloudidentity.googleapis.com/customers/my_customer",
        FAIL,
        "orgUnits/03ph8a2z3kd9qf",
    )


def test_without_cloud_identity_admin_the_policy_api_is_not_called(fake: FakeCloudAsset) -> None:
    found = scan(fake)
    assert not [k for k in found if k[0] == "gcp.cloudidentity.two_step_verification_enforced"]
    assert not [p for p in fake.requests if p.startswith("/v1/policies")]


def test_unreadable_organization_policies_leave_os_login_unknown_not_failed(fake: FakeCloudAsset) -> None:
    fake.faults.append(Fault(match="contentType=4", status=403, times=99, headers={}))
    found = scan(fake)
    expect(found, "gcp.compute.instance_os_login", VM.format("shop-prod", "web-1"), ERROR, "requireOsLogin")
    expect(found, "gcp.compute.instance_os_login", VM.format("shop-sandbox", "win-1"), NA)
    expect(
        found,
        "gcp.compute.instance_serial_port_disabled",
        VM.format("shop-sandbox", "test-vm"),
        ERROR,
        "disableSerialPortAccess",
    )
    expect(found, "gcp.compute.instance_serial_port_disabled", VM.format("shop-prod", "web-1"), PASS)

"""GCP checks over hand-built snapshots: every check has pass, fail and error cases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from agent.evaluate import evaluate
from agent.models import CollectionError, Resource, Snapshot, Status
from checks.base import Check
from checks.gcp import compute, iam, kms, logging, sql, storage

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
PROJECT = "shop-prod"
PASS, FAIL, ERROR, NA = Status.PASS, Status.FAIL, Status.ERROR, Status.NOT_APPLICABLE
MODULES = (compute, iam, kms, logging, sql, storage)


def ago(days: float) -> str:
    return (NOW - timedelta(days=days)).isoformat().replace("+00:00", "Z")


def res(rtype: str, name: str = "x", *, errors: dict[str, str] | None = None, **attrs: Any) -> Resource:
    return Resource(provider="gcp", account=PROJECT, region="global", type=rtype,
                    id=f"//{rtype}/projects/{PROJECT}/{name}", name=name, attributes={"name": name, **attrs},
                    errors=errors or {})


def policy(*bindings: tuple[str, list[str]], errors: dict[str, str] | None = None) -> Resource:
    attrs = {} if errors else {"bindings": [{"role": r, "members": m} for r, m in bindings]}
    return Resource(provider="gcp", account=PROJECT, region="global", type="gcp.iam.policy",
                    id="//cloudresourcemanager.googleapis.com/projects/1#iamPolicy", attributes=attrs,
                    errors=errors or {})


def fw(ports: list[str] | None, ranges: list[str], proto: str = "tcp", **kw: Any) -> Resource:
    rule: dict[str, Any] = {"IPProtocol": proto}
    if ports is not None:
        rule["ports"] = ports
    return res("gcp.compute.firewall", "fw", direction="INGRESS", sourceRanges=ranges, allowed=[rule], **kw)


def vm(**kw: Any) -> Resource:
    base: dict[str, Any] = {"networkInterfaces": [{"networkIP": "10.0.0.2"}], "serviceAccounts": [],
                            "metadata": {"items": []}, "status": "RUNNING"}
    return res("gcp.compute.instance", "vm", **{**base, **kw})


def cproject(oslogin: str | None) -> Resource:
    items = [] if oslogin is None else [{"key": "enable-oslogin", "value": oslogin}]
    return res("gcp.compute.project", PROJECT, commonInstanceMetadata={"items": items})


def sqli(ip: dict[str, Any] | None = None, backup: dict[str, Any] | None = None) -> Resource:
    return res("gcp.sqladmin.instance", "db", settings={"ipConfiguration": ip or {},
                                                        "backupConfiguration": backup or {}})


def bucket(ubla: bool = True, pap: str = "inherited", members: list[str] | None = None, **kw: Any) -> Resource:
    attrs: dict[str, Any] = {"iamConfiguration": {"uniformBucketLevelAccess": {"enabled": ubla},
                                                  "publicAccessPrevention": pap},
                             "iamPolicy": {"bindings": [{"role": "roles/storage.objectViewer",
                                                         "members": members or []}]}}
    attrs.update(kw)
    errors = attrs.pop("errors", None)
    for k in list(errors or {}):
        attrs.pop(k, None)
    return res("gcp.storage.bucket", "b", errors=errors, **attrs)


AUDIT_ALL = {"auditConfigs": [{"service": "allServices", "auditLogConfigs": [
    {"logType": "ADMIN_READ"}, {"logType": "DATA_READ"}, {"logType": "DATA_WRITE"}]}]}
DEFAULT_SA = "123-compute@developer.gserviceaccount.com"
FULL = "https://www.googleapis.com/auth/cloud-platform"


def case(chk: Check, resources: Resource | list[Resource], expect: Status, reason: str = "", *, id: str,
         params: dict[str, Any] | None = None, errors: list[CollectionError] | None = None) -> Any:
    items = resources if isinstance(resources, list) else [resources]
    return pytest.param(chk, items, expect, reason, params or {}, errors or [], id=f"{chk.id}:{id}")


CASES = [
    # IAM policies
    case(iam.no_primitive_roles_for_users, policy(("roles/owner", ["user:a@x.com"])), FAIL, "user:a@x.com has roles/owner", id="owner"),
    case(iam.no_primitive_roles_for_users, policy(("roles/editor", ["group:eng@x.com"])), FAIL, "roles/editor", id="editor-group"),
    case(iam.no_primitive_roles_for_users, policy(("roles/viewer", ["user:a@x.com"]),
                                                  ("roles/owner", ["serviceAccount:s@x"])), PASS, id="pass"),
    case(iam.no_primitive_roles_for_users, policy(errors={"bindings": "PERMISSION_DENIED"}), ERROR, id="error"),
    case(iam.service_account_no_primitive_roles, policy(("roles/editor", ["serviceAccount:s@x"])), FAIL, "serviceAccount:s@x", id="fail"),
    case(iam.service_account_no_primitive_roles, policy(("roles/editor", ["user:a@x.com"])), PASS, id="pass"),
    case(iam.service_account_no_primitive_roles, policy(errors={"bindings": "x"}), ERROR, id="error"),
    case(iam.no_public_members, policy(("roles/viewer", ["allUsers"])), FAIL, "allUsers", id="all-users"),
    case(iam.no_public_members, policy(("roles/viewer", ["allAuthenticatedUsers"])), FAIL, "public", id="all-auth"),
    case(iam.no_public_members, policy(("roles/viewer", ["domain:x.com"])), PASS, id="pass"),
    case(iam.no_public_members, policy(errors={"bindings": "x"}), ERROR, id="error"),
    # service account keys
    case(iam.service_account_key_rotated_90d, res("gcp.iam.service_account_key", "k", keyType="USER_MANAGED",
                                                  validAfterTime=ago(200)), FAIL, "200 days", id="old"),
    case(iam.service_account_key_rotated_90d, res("gcp.iam.service_account_key", "k", keyType="USER_MANAGED",
                                                  validAfterTime=ago(10)), PASS, id="young"),
    case(iam.service_account_key_rotated_90d, res("gcp.iam.service_account_key", "k", keyType="SYSTEM_MANAGED",
                                                  validAfterTime=ago(900)), NA, id="system"),
    case(iam.service_account_key_rotated_90d, res("gcp.iam.service_account_key", "k", keyType="USER_MANAGED",
                                                  validAfterTime=ago(60)), FAIL, params={"max_days": 30}, id="param"),
    case(iam.service_account_key_rotated_90d, res("gcp.iam.service_account_key", "k", keyType="USER_MANAGED"),
         ERROR, "validAfterTime", id="error"),
    # storage
    case(storage.bucket_not_public, bucket(members=["allUsers"]), FAIL, "allUsers", id="public"),
    case(storage.bucket_not_public, bucket(members=["allUsers"], pap="enforced"), PASS, "enforces", id="pap"),
    case(storage.bucket_not_public, bucket(members=["user:a@x.com"]), PASS, id="private"),
    case(storage.bucket_not_public, bucket(errors={"iamPolicy": "ListAssets IAM_POLICY failed"}), ERROR, id="error"),
    case(storage.bucket_uniform_access, bucket(ubla=True), PASS, id="pass"),
    case(storage.bucket_uniform_access, bucket(ubla=False), FAIL, "ACLs", id="fail"),
    case(storage.bucket_uniform_access, bucket(errors={"iamConfiguration": "x"}), ERROR, id="error"),
    # Cloud SQL
    case(sql.instance_no_public_ip, sqli({"ipv4Enabled": False}), PASS, id="pass"),
    case(sql.instance_no_public_ip, sqli({"ipv4Enabled": True, "authorizedNetworks": [{"value": "0.0.0.0/0"}]}),
         FAIL, "0.0.0.0/0", id="world"),
    case(sql.instance_no_public_ip, sqli({"ipv4Enabled": True}), FAIL, "public IP", id="public"),
    case(sql.instance_no_public_ip, res("gcp.sqladmin.instance", "db", errors={"settings": "x"}), ERROR, id="error"),
    case(sql.instance_ssl_required, sqli({"sslMode": "ENCRYPTED_ONLY"}), PASS, id="pass"),
    case(sql.instance_ssl_required, sqli({"requireSsl": True}), PASS, id="legacy"),
    case(sql.instance_ssl_required, sqli({"sslMode": "ALLOW_UNENCRYPTED_AND_ENCRYPTED"}), FAIL, "unencrypted", id="fail"),
    case(sql.instance_ssl_required, res("gcp.sqladmin.instance", "db", errors={"settings": "x"}), ERROR, id="error"),
    case(sql.instance_backups_enabled, sqli(backup={"enabled": True}), PASS, id="pass"),
    case(sql.instance_backups_enabled, sqli(backup={"enabled": False}), FAIL, "off", id="fail"),
    case(sql.instance_backups_enabled, res("gcp.sqladmin.instance", "db", errors={"settings": "x"}), ERROR, id="error"),
    # firewall
    case(compute.firewall_admin_ports_closed, fw(["22"], ["0.0.0.0/0"]), FAIL, "22", id="ssh"),
    case(compute.firewall_admin_ports_closed, fw(["3000-4000"], ["::/0"]), FAIL, "3389", id="rdp-range-v6"),
    case(compute.firewall_admin_ports_closed, fw(None, ["0.0.0.0/0"], proto="all"), FAIL, "22", id="all"),
    case(compute.firewall_admin_ports_closed, fw(["22"], ["10.0.0.0/8"]), PASS, id="internal"),
    case(compute.firewall_admin_ports_closed, fw(["22"], ["0.0.0.0/0"], disabled=True), PASS, id="disabled"),
    case(compute.firewall_admin_ports_closed, fw(["443"], ["0.0.0.0/0"]), PASS, id="https"),
    case(compute.firewall_admin_ports_closed, res("gcp.compute.firewall", "fw", errors={"direction": "x"}),
         ERROR, id="error"),
    case(compute.firewall_db_ports_closed, fw(["5432"], ["0.0.0.0/0"]), FAIL, "5432", id="fail"),
    case(compute.firewall_db_ports_closed, fw(["22"], ["0.0.0.0/0"]), PASS, id="pass"),
    case(compute.firewall_db_ports_closed, res("gcp.compute.firewall", "fw", errors={"direction": "x"}),
         ERROR, id="error"),
    # networks and instances
    case(compute.default_network_absent, res("gcp.compute.network", "default"), FAIL, "default network", id="fail"),
    case(compute.default_network_absent, res("gcp.compute.network", "prod"), PASS, id="pass"),
    case(compute.default_network_absent, Resource(provider="gcp", account=PROJECT, region="global",
                                                  type="gcp.compute.network", id="n", errors={"name": "x"}),
         ERROR, id="error"),
    case(compute.instance_no_external_ip, vm(networkInterfaces=[{"accessConfigs": [{"natIP": "34.1.2.3"}]}]),
         FAIL, "34.1.2.3", id="fail"),
    case(compute.instance_no_external_ip, vm(), PASS, id="pass"),
    case(compute.instance_no_external_ip, res("gcp.compute.instance", "vm", errors={"networkInterfaces": "x"}),
         ERROR, id="error"),
    case(compute.instance_shielded_vm, vm(), FAIL, "not a Shielded VM", id="not-shielded"),
    case(compute.instance_shielded_vm, vm(shieldedInstanceConfig={"enableSecureBoot": False, "enableVtpm": True,
                                                                  "enableIntegrityMonitoring": True}),
         FAIL, "Secure Boot turned off", id="fail"),
    case(compute.instance_shielded_vm, vm(shieldedInstanceConfig={"enableSecureBoot": True, "enableVtpm": True,
                                                                  "enableIntegrityMonitoring": True}), PASS, id="pass"),
    case(compute.instance_shielded_vm, res("gcp.compute.instance", "vm", errors={"shieldedInstanceConfig": "x"}),
         ERROR, id="error"),
    case(compute.instance_default_sa_full_scope, vm(serviceAccounts=[{"email": DEFAULT_SA, "scopes": [FULL]}]),
         FAIL, "default service account", id="fail"),
    case(compute.instance_default_sa_full_scope, vm(serviceAccounts=[{"email": DEFAULT_SA, "scopes": [
        "https://www.googleapis.com/auth/logging.write"]}]), PASS, id="narrow-scope"),
    case(compute.instance_default_sa_full_scope, vm(serviceAccounts=[{"email": "app@p.iam.gserviceaccount.com",
                                                                      "scopes": [FULL]}]), PASS, id="own-sa"),
    case(compute.instance_default_sa_full_scope, res("gcp.compute.instance", "vm", errors={"serviceAccounts": "x"}),
         ERROR, id="error"),
    case(compute.instance_os_login, [vm(), cproject("TRUE")], PASS, "project metadata", id="project"),
    case(compute.instance_os_login, [vm(metadata={"items": [{"key": "enable-oslogin", "value": "false"}]}),
                                     cproject("TRUE")], FAIL, "instance metadata", id="override-off"),
    case(compute.instance_os_login, [vm(), cproject(None)], FAIL, id="off"),
    case(compute.instance_os_login, [vm()], ERROR, "not in this snapshot", id="no-project"),
    case(compute.instance_os_login, [vm(), cproject("TRUE")], ERROR, "input missing", id="project-listing-failed",
         errors=[CollectionError(service="cloudasset", operation="ListAssets", region="global",
                                 code="PERMISSION_DENIED", message="no", resource_type="gcp.compute.project")]),
    # KMS
    case(kms.key_rotation_90d, res("gcp.cloudkms.crypto_key", "k", purpose="ENCRYPT_DECRYPT",
                                   rotationPeriod="7776000s"), PASS, "90 days", id="pass"),
    case(kms.key_rotation_90d, res("gcp.cloudkms.crypto_key", "k", purpose="ENCRYPT_DECRYPT",
                                   rotationPeriod="31536000s"), FAIL, "365 days", id="slow"),
    case(kms.key_rotation_90d, res("gcp.cloudkms.crypto_key", "k", purpose="ENCRYPT_DECRYPT"), FAIL,
         "no automatic rotation", id="none"),
    case(kms.key_rotation_90d, res("gcp.cloudkms.crypto_key", "k", purpose="ASYMMETRIC_SIGN"), NA, id="asym"),
    case(kms.key_rotation_90d, res("gcp.cloudkms.crypto_key", "k", purpose="ENCRYPT_DECRYPT",
                                   rotationPeriod="soon"), ERROR, id="error"),
    # audit logging
    case(logging.data_access_audit_logs, res("gcp.project", PROJECT, iamPolicy=AUDIT_ALL), PASS, id="pass"),
    case(logging.data_access_audit_logs, res("gcp.project", PROJECT, iamPolicy={"auditConfigs": [
        {"service": "allServices", "auditLogConfigs": [{"logType": "ADMIN_READ"}]}]}), FAIL, "DATA_READ",
         id="partial"),
    case(logging.data_access_audit_logs, res("gcp.project", PROJECT, iamPolicy={}), FAIL, "no data-access",
         id="none"),
    case(logging.data_access_audit_logs, res("gcp.project", PROJECT, errors={"iamPolicy": "x"}), ERROR, id="error"),
]


@pytest.mark.parametrize(("chk", "resources", "expect", "reason", "params", "errors"), CASES)
def test_case(chk: Check, resources: list[Resource], expect: Status, reason: str, params: dict[str, Any],
              errors: list[CollectionError]) -> None:
    snap = Snapshot(source="t", provider="gcp", account=PROJECT, started_at=NOW - timedelta(minutes=1),
                    finished_at=NOW, resources=tuple(resources), errors=tuple(errors))
    findings = [f for f in evaluate(snap, [chk], params={chk.id: params})
                if f.resource_id == next(r.id for r in resources if r.type == chk.meta.resource_type)]
    assert len(findings) == 1, findings
    assert findings[0].status == expect, findings[0].message
    assert reason.lower() in findings[0].message.lower(), findings[0].message


def test_every_check_has_pass_fail_and_error_cases() -> None:
    seen: dict[str, set[Status]] = {}
    for p in CASES:
        seen.setdefault(p.values[0].id, set()).add(p.values[2])
    for module in MODULES:
        for chk in (v for v in vars(module).values() if isinstance(v, Check)):
            assert {PASS, FAIL, ERROR} <= seen.get(chk.id, set()), chk.id


def test_at_least_fifteen_gcp_checks() -> None:
    from agent.registry import checks_in

    assert len(checks_in("checks.gcp")) >= 15

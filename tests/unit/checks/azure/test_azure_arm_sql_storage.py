"""ARM checks on SQL servers and databases and on storage accounts added for issue #12: audit retention,
Entra admin, TDE, blob soft delete, default-deny networking, infrastructure encryption, cross-tenant
replication."""
# ruff: noqa: E501 -- case tables read best with one case per line

from __future__ import annotations

from typing import Any

import pytest
from azure_check_fixtures import ERROR, FAIL, NA, PASS, RG, SUB, Case, arm, case, check_case, listing_error
from test_azure_resource_checks import sa, server

import checks.azure.sql as sql
import checks.azure.storage as storage
from agent.models import Resource

WS_ID = f"{RG}/providers/Microsoft.OperationalInsights/workspaces/audit-ws"
STORAGE_EP = "https://auditlogs.blob.core.windows.net/"


def audit(state: str = "Enabled", **props: Any) -> dict[str, Any]:
    return {
        "id": f"{RG}/providers/Microsoft.Sql/servers/db/auditingSettings/default",
        "properties": {"state": state, **props},
    }


def workspace(days: int | None, wid: str = WS_ID) -> Resource:
    props = {} if days is None else {"retentionInDays": days}
    return Resource(
        provider="azure",
        account=SUB,
        region="westeurope",
        type="azure.monitor.workspace",
        id=wid,
        name=wid.rsplit("/", 1)[-1],
        attributes={"id": wid, "properties": props},
    )


def master_diag(
    target: str = "workspaceId", value: str = WS_ID, category: str = "SQLSecurityAuditEvents", group: str = ""
) -> list[dict[str, Any]]:
    log = {"categoryGroup": group, "enabled": True} if group else {"category": category, "enabled": True}
    return [{"name": "SQLSecurityAuditEvents_3d229c42", "properties": {target: value, "logs": [log]}}]


def db(
    name: str = "orders", tde: str | None = "Enabled", kind: str = "v12.0,user", errors: dict[str, str] | None = None
) -> Resource:
    server_id = f"{RG}/providers/Microsoft.Sql/servers/db"
    rid = f"{server_id}/databases/{name}"
    attrs: dict[str, Any] = {"id": rid, "name": name, "kind": kind, "properties": {"status": "Online"}}
    if tde is not None:
        attrs["TransparentDataEncryption"] = {
            "id": f"{rid}/transparentDataEncryption/Current",
            "name": "Current",
            "properties": {"state": tde},
        }
    return Resource(
        provider="azure",
        account=SUB,
        region="westeurope",
        type="azure.sql.database",
        id=rid,
        name=name,
        attributes=attrs,
        errors=dict(errors or {}),
    )


def entra_admin(**props: Any) -> list[dict[str, Any]]:
    base = {
        "administratorType": "ActiveDirectory",
        "login": "dba-group",
        "sid": "8c8bd5f3-0000-0000-0000-3c1c2d1e0f00",
        "tenantId": "t",
        "azureADOnlyAuthentication": False,
    }
    return [{"name": "ActiveDirectory", "properties": base | props}]


def blob(days: int = 7, enabled: bool = True, cdays: int = 7, cenabled: bool = True, **extra: Any) -> dict[str, Any]:
    return {
        "name": "default",
        "properties": {
            "deleteRetentionPolicy": {"enabled": enabled, "days": days, **extra},
            "containerDeleteRetentionPolicy": {"enabled": cenabled, "days": cdays},
        },
    }


def acct(
    blob_props: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    kind: str = "StorageV2",
    **props: Any,
) -> Resource:
    r = sa(errors=errors, **props)
    attrs = dict(r.attributes, kind=kind)
    if blob_props is not None:
        attrs["BlobServiceProperties"] = blob_props
    return Resource(
        provider=r.provider,
        account=r.account,
        region=r.region,
        type=r.type,
        id=r.id,
        name=r.name,
        attributes=attrs,
        errors=r.errors,
    )


def acls(action: str, *ips: str, **extra: Any) -> dict[str, Any]:
    return {
        "bypass": "AzureServices",
        "defaultAction": action,
        "ipRules": [{"value": ip, "action": "Allow"} for ip in ips],
        "virtualNetworkRules": [],
        **extra,
    }


CASES = [
    # SQL audit retention
    case(
        sql.server_auditing_retention_90d,
        server(AuditingSettings=audit(storageEndpoint=STORAGE_EP, retentionDays=90)),
        PASS,
        "90 days",
        id="pass",
    ),
    case(
        sql.server_auditing_retention_90d,
        server(AuditingSettings=audit(storageEndpoint=STORAGE_EP, retentionDays=0)),
        PASS,
        "without a time limit",
        id="zero-unlimited",
    ),
    case(
        sql.server_auditing_retention_90d,
        server(AuditingSettings=audit(storageEndpoint=STORAGE_EP, retentionDays=30)),
        FAIL,
        "30 days",
        id="fail",
    ),
    case(
        sql.server_auditing_retention_90d,
        server(AuditingSettings=audit("Disabled", storageEndpoint=STORAGE_EP, retentionDays=0)),
        FAIL,
        "no audit log is kept",
        id="off",
        looks_fine="retentionDays 0 means unlimited, but auditing itself is disabled",
    ),
    case(
        sql.server_auditing_retention_90d,
        [
            server(
                AuditingSettings=audit(isAzureMonitorTargetEnabled=True, retentionDays=0),
                AuditDiagnosticSettings=master_diag(),
            ),
            workspace(120),
        ],
        PASS,
        "keeps them 120 days",
        id="log-analytics",
    ),
    case(
        sql.server_auditing_retention_90d,
        [
            server(
                AuditingSettings=audit(isAzureMonitorTargetEnabled=True, retentionDays=0),
                AuditDiagnosticSettings=master_diag(group="audit"),
            ),
            workspace(90),
        ],
        PASS,
        "90 days",
        id="log-analytics-group",
    ),
    case(
        sql.server_auditing_retention_90d,
        [
            server(
                AuditingSettings=audit(isAzureMonitorTargetEnabled=True, retentionDays=0),
                AuditDiagnosticSettings=master_diag(),
            ),
            workspace(30),
        ],
        FAIL,
        "keeps 30 days",
        id="workspace-30-days",
        looks_fine="retentionDays is 0 ('unlimited'), but it applies to a storage target; the Log Analytics workspace keeps 30 days",
    ),
    case(
        sql.server_auditing_retention_90d,
        [
            server(
                AuditingSettings=audit(storageEndpoint=STORAGE_EP, retentionDays=30, isAzureMonitorTargetEnabled=True),
                AuditDiagnosticSettings=master_diag(),
            ),
            workspace(365),
        ],
        PASS,
        "365 days",
        id="short-storage-long-workspace",
    ),
    case(
        sql.server_auditing_retention_90d,
        server(
            AuditingSettings=audit(isAzureMonitorTargetEnabled=True, retentionDays=0),
            AuditDiagnosticSettings=master_diag("eventHubAuthorizationRuleId", "eh-rule"),
        ),
        FAIL,
        "event hub",
        id="event-hub-only",
    ),
    case(
        sql.server_auditing_retention_90d,
        server(AuditingSettings=audit(isAzureMonitorTargetEnabled=True, retentionDays=0), AuditDiagnosticSettings=[]),
        FAIL,
        "no storage or Log Analytics target",
        id="monitor-flag-no-setting",
    ),
    case(
        sql.server_auditing_retention_90d,
        server(
            AuditingSettings=audit(isAzureMonitorTargetEnabled=True, retentionDays=0),
            AuditDiagnosticSettings=master_diag(),
        ),
        ERROR,
        "not in this subscription",
        id="workspace-elsewhere",
    ),
    case(
        sql.server_auditing_retention_90d,
        server(
            AuditingSettings=audit(isAzureMonitorTargetEnabled=True, retentionDays=0),
            AuditDiagnosticSettings=master_diag(),
        ),
        ERROR,
        "could not be listed",
        errors=[listing_error("azure.monitor.workspace")],
        id="workspaces-denied",
    ),
    case(
        sql.server_auditing_retention_90d,
        [
            server(
                AuditingSettings=audit(isAzureMonitorTargetEnabled=True, retentionDays=0),
                AuditDiagnosticSettings=master_diag(),
            ),
            workspace(None),
        ],
        ERROR,
        "retentionInDays",
        id="workspace-no-retention",
    ),
    case(
        sql.server_auditing_retention_90d,
        server(
            AuditingSettings=audit(isAzureMonitorTargetEnabled=True),
            errors={"AuditDiagnosticSettings": "AuthorizationFailed: no"},
        ),
        ERROR,
        "AuditDiagnosticSettings",
        id="diag-denied",
    ),
    case(
        sql.server_auditing_retention_90d,
        server(errors={"AuditingSettings": "AuthorizationFailed: no"}),
        ERROR,
        "AuthorizationFailed",
        id="error",
    ),
    case(
        sql.server_auditing_retention_90d,
        server(AuditingSettings=audit(storageEndpoint=STORAGE_EP)),
        ERROR,
        "no retentionDays",
        id="no-retention-field",
    ),
    case(
        sql.server_auditing_retention_90d,
        server(AuditingSettings=audit(storageEndpoint=STORAGE_EP, retentionDays=30)),
        PASS,
        "30 days",
        params={"days": 30},
        id="param",
    ),
    # SQL Entra admin
    case(sql.server_entra_admin, server(Administrators=entra_admin()), PASS, "dba-group", id="pass"),
    case(
        sql.server_entra_admin,
        server(Administrators=entra_admin(azureADOnlyAuthentication=True)),
        PASS,
        "Entra-only",
        id="entra-only",
    ),
    case(
        sql.server_entra_admin,
        server({"administratorLogin": "sqladmin"}, Administrators=[]),
        FAIL,
        "only the SQL login sqladmin",
        id="sql-login-only",
        looks_fine="the server has an administrator (administratorLogin), but it is a SQL login with its own password",
    ),
    case(sql.server_entra_admin, server(Administrators=[]), FAIL, "no Microsoft Entra administrator", id="fail"),
    case(
        sql.server_entra_admin,
        server(errors={"Administrators": "AuthorizationFailed: no"}),
        ERROR,
        "Administrators",
        id="error",
    ),
    # TDE
    case(sql.database_tde_enabled, db(), PASS, "on", id="pass"),
    case(
        sql.database_tde_enabled,
        db(tde="Disabled"),
        FAIL,
        "encryption disabled",
        id="fail",
        looks_fine="the transparentDataEncryption/current resource exists, but its state is Disabled",
    ),
    case(
        sql.database_tde_enabled, db("master", tde="Disabled", kind="v12.0,system"), NA, "system database", id="master"
    ),
    case(
        sql.database_tde_enabled,
        db(tde=None, errors={"TransparentDataEncryption": "AuthorizationFailed: no"}),
        ERROR,
        "TransparentDataEncryption",
        id="error",
    ),
    case(sql.database_tde_enabled, db(tde=None), ERROR, "was not collected", id="not-collected"),
    case(
        sql.database_tde_enabled,
        [],
        ERROR,
        "could not list",
        errors=[listing_error("azure.sql.database")],
        id="list-denied",
    ),
    # storage soft delete
    case(storage.blob_soft_delete, acct(blob()), PASS, "7+ days", id="pass"),
    case(storage.blob_soft_delete, acct(blob(days=3)), FAIL, "kept 3 days", id="short"),
    case(storage.blob_soft_delete, acct(blob(enabled=False)), FAIL, "blob soft delete is off", id="fail"),
    case(
        storage.blob_soft_delete,
        acct(blob(cenabled=False)),
        FAIL,
        "container soft delete is off",
        id="no-container",
        looks_fine="blob soft delete is on, but deleting the container removes every blob for good",
    ),
    case(
        storage.blob_soft_delete,
        acct(blob(days=30, allowPermanentDelete=True)),
        FAIL,
        "permanent delete",
        id="permanent-delete",
        looks_fine="soft delete on for 30 days, but allowPermanentDelete lets soft-deleted versions be purged",
    ),
    case(storage.blob_soft_delete, acct({"name": "default", "properties": {}}), FAIL, "off", id="no-policies"),
    case(storage.blob_soft_delete, acct(kind="FileStorage"), NA, "FileStorage", id="file-storage"),
    case(
        storage.blob_soft_delete,
        acct(errors={"BlobServiceProperties": "AuthorizationFailed: no"}),
        ERROR,
        "BlobServiceProperties",
        id="error",
    ),
    case(storage.blob_soft_delete, acct({"name": "default"}), ERROR, "no properties", id="no-properties"),
    case(storage.blob_soft_delete, acct(blob(days=3)), PASS, "3+ days", params={"days": 3}, id="param"),
    # storage default deny
    case(storage.default_network_deny, sa(networkAcls=acls("Deny", "203.0.113.0/24")), PASS, "1 IP rule", id="pass"),
    case(
        storage.default_network_deny,
        sa(publicNetworkAccess="Disabled", networkAcls=acls("Allow")),
        PASS,
        "disabled",
        id="private",
    ),
    case(storage.default_network_deny, sa(networkAcls=acls("Allow")), FAIL, "defaultAction Allow", id="fail"),
    case(storage.default_network_deny, sa(), FAIL, "defaultAction Allow", id="no-acls"),
    case(
        storage.default_network_deny,
        sa(networkAcls=acls("Deny", "0.0.0.0/0")),
        FAIL,
        "0.0.0.0/0",
        id="deny-with-any",
        looks_fine="defaultAction is Deny, but an IP rule of 0.0.0.0/0 lets the whole internet back in",
    ),
    case(
        storage.default_network_deny,
        sa(networkAcls=acls("Deny", "2001:db8::/16")),
        FAIL,
        "2001:db8::/16",
        id="wide-ipv6",
    ),
    case(
        storage.default_network_deny,
        sa(networkAcls=acls("Deny", "nonsense")),
        ERROR,
        "unreadable IP rule",
        id="garbage",
    ),
    case(
        storage.default_network_deny,
        arm("azure.storage.account", "Microsoft.Storage/storageAccounts", "acct"),
        ERROR,
        "properties",
        id="error",
    ),
    case(
        storage.default_network_deny,
        sa(networkAcls=acls("Deny", "10.0.0.0/8")),
        PASS,
        "denies by default",
        params={"max_addresses": 2**24},
        id="param",
    ),
    # infrastructure encryption
    case(
        storage.infrastructure_encryption,
        sa(encryption={"requireInfrastructureEncryption": True, "keySource": "Microsoft.Storage"}),
        PASS,
        "double",
        id="pass",
    ),
    case(
        storage.infrastructure_encryption,
        sa(encryption={"keySource": "Microsoft.Keyvault", "services": {"blob": {"enabled": True}}}),
        FAIL,
        "once only",
        id="fail",
        looks_fine="encryption with a customer-managed key and blob encryption enabled, but a single layer",
    ),
    case(storage.infrastructure_encryption, sa(), ERROR, "encryption settings", id="error"),
    # cross-tenant replication
    case(
        storage.cross_tenant_replication_disabled,
        sa(allowCrossTenantReplication=False),
        PASS,
        "does not allow",
        id="pass",
    ),
    case(
        storage.cross_tenant_replication_disabled,
        sa(allowCrossTenantReplication=True),
        FAIL,
        "allows object replication",
        id="fail",
    ),
    case(
        storage.cross_tenant_replication_disabled,
        sa(),
        FAIL,
        "does not set",
        id="unset",
        looks_fine="allowCrossTenantReplication absent: accounts created before Dec 2023 allow it",
    ),
    case(
        storage.cross_tenant_replication_disabled,
        arm("azure.storage.account", "Microsoft.Storage/storageAccounts", "acct"),
        ERROR,
        "properties",
        id="error",
    ),
]


@pytest.mark.parametrize("c", CASES)
def test_case(c: Case) -> None:
    check_case(c)


def test_every_check_here_has_pass_fail_error() -> None:
    seen: dict[str, set[Any]] = {}
    for item in CASES:
        seen.setdefault(item.values[0].check.id, set()).add(item.values[0].expect)
    for chk in (
        sql.server_auditing_retention_90d,
        sql.server_entra_admin,
        sql.database_tde_enabled,
        storage.blob_soft_delete,
        storage.default_network_deny,
        storage.infrastructure_encryption,
        storage.cross_tenant_replication_disabled,
    ):
        assert {PASS, FAIL, ERROR} <= seen.get(chk.id, set()), chk.id

"""The demo tenant's Azure subscription, as Azure Resource Manager serves it: path -> list or object.

Its gaps, one of each negative shape the ARM checks look for: public blob access and no soft delete,
a storage account open to all networks and one that denies by default but lets 0.0.0.0/0 back in,
RDP open to the internet and an NSG without flow logs, SQL auditing off on one server and kept 30 days
on the other, an allow-all-Azure firewall rule and a near-complete range, no Entra admin, a database
with TDE off, a key vault without logging, activity-log alerts for only some security operations,
a security contact without alert notifications, Defender plans on Free.

Observations tick as in Azure (served relative to each request): the databases' restore window, the
workspace's next daily-cap reset and the Key Vault plan's free trial counting down."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from posture_demo.azure_ids import DEMO_SUBSCRIPTION, DEMO_TENANT
from posture_demo.fake_azure import Countdown, Tick

__all__ = ["arm_paths"]

_DIAG = "/providers/Microsoft.Insights/diagnosticSettings"


def _storage(rg: str, name: str, **props: Any) -> dict[str, Any]:
    return {
        "id": f"{rg}/providers/Microsoft.Storage/storageAccounts/{name}",
        "name": name,
        "location": "westeurope",
        "type": "Microsoft.Storage/storageAccounts",
        "kind": "StorageV2",
        "properties": {
            "supportsHttpsTrafficOnly": True,
            "encryption": {"keySource": "Microsoft.Storage", "services": {"blob": {"enabled": True}}},
            **props,
        },
    }


def _blob_service(account_id: str, days: int, enabled: bool) -> dict[str, Any]:
    return {
        "id": f"{account_id}/blobServices/default",
        "name": "default",
        "type": "Microsoft.Storage/storageAccounts/blobServices",
        "properties": {
            "deleteRetentionPolicy": {"enabled": enabled, "days": days, "allowPermanentDelete": False},
            "containerDeleteRetentionPolicy": {"enabled": enabled, "days": days},
        },
    }


def _vault(rg: str, name: str, **props: Any) -> dict[str, Any]:
    return {
        "id": f"{rg}/providers/Microsoft.KeyVault/vaults/{name}",
        "name": name,
        "location": "westeurope",
        "type": "Microsoft.KeyVault/vaults",
        "properties": {"enableSoftDelete": True, "softDeleteRetentionInDays": 90, **props},
    }


def _rule(name: str, start: str, end: str, server: str) -> dict[str, Any]:
    return {
        "id": f"{server}/firewallRules/{name}",
        "name": name,
        "type": "Microsoft.Sql/servers/firewallRules",
        "properties": {"startIpAddress": start, "endIpAddress": end},
    }


def _database(server: str, name: str, kind: str = "v12.0,user") -> dict[str, Any]:
    props: dict[str, Any] = {"status": "Online", "collation": "SQL_Latin1_General_CP1_CI_AS"}
    if "system" not in kind:  # point-in-time restore (7 days by default) of user databases only
        props["earliestRestoreDate"] = Tick(-timedelta(days=7))
    return {
        "id": f"{server}/databases/{name}",
        "name": name,
        "location": "westeurope",
        "type": "Microsoft.Sql/servers/databases",
        "kind": kind,
        "properties": props,
    }


def _tde(db_id: str, state: str) -> dict[str, Any]:
    return {
        "id": f"{db_id}/transparentDataEncryption/Current",
        "name": "Current",
        "type": "Microsoft.Sql/servers/databases/transparentDataEncryption",
        "properties": {"state": state},
    }


def _alert(rg: str, sub: str, operation: str) -> dict[str, Any]:
    name = "-".join(operation.split("/")[-2:])
    return {
        "id": f"{rg}/providers/microsoft.insights/activityLogAlerts/{name}",
        "type": "Microsoft.Insights/ActivityLogAlerts",
        "name": name,
        "location": "Global",
        "properties": {
            "scopes": [f"/subscriptions/{sub}"],
            "condition": {
                "allOf": [
                    {"field": "category", "equals": "Administrative"},
                    {"field": "operationName", "equals": operation},
                ]
            },
            "actions": {"actionGroups": [{"actionGroupId": f"{rg}/providers/microsoft.insights/actionGroups/secops"}]},
            "enabled": True,
        },
    }


def _nsg(rg: str, name: str, subnet: str, rules: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": f"{rg}/providers/Microsoft.Network/networkSecurityGroups/{name}",
        "name": name,
        "location": "westeurope",
        "properties": {"securityRules": rules, "subnets": [{"id": subnet}]},
    }


def _allow(name: str, source: str, port: str) -> dict[str, Any]:
    return {
        "name": name,
        "properties": {
            "direction": "Inbound",
            "access": "Allow",
            "protocol": "Tcp",
            "sourceAddressPrefix": source,
            "destinationPortRange": port,
            "priority": 100,
        },
    }


def arm_paths(now: datetime | None = None) -> dict[str, Any]:
    """ARM paths of the demo subscription (and the subscription list)."""
    now = now or datetime.now(UTC)
    t, s = DEMO_TENANT, DEMO_SUBSCRIPTION
    rg = f"/subscriptions/{s}/resourceGroups/prod"
    sql = f"{rg}/providers/Microsoft.Sql/servers/contoso-sql"
    reporting = f"{rg}/providers/Microsoft.Sql/servers/contoso-sql-reporting"
    sub_base = f"/subscriptions/{s}/providers"
    public = _storage(rg, "contosopublic", allowBlobPublicAccess=True, minimumTlsVersion="TLS1_0")
    logs = _storage(
        rg,
        "contosologs",
        allowBlobPublicAccess=False,
        minimumTlsVersion="TLS1_2",
        encryption={"keySource": "Microsoft.Storage", "requireInfrastructureEncryption": True},
        allowCrossTenantReplication=False,
        # Denies by default, but the 0.0.0.0/0 rule lets the whole internet back in.
        networkAcls={
            "bypass": "AzureServices",
            "defaultAction": "Deny",
            "ipRules": [{"value": "0.0.0.0/0", "action": "Allow"}],
            "virtualNetworkRules": [],
        },
    )
    kv, kv_audit = _vault(rg, "contoso-kv"), _vault(rg, "contoso-kv-audit", enableRbacAuthorization=True)
    workspace = f"{rg}/providers/Microsoft.OperationalInsights/workspaces/contoso-logs"
    hub, app = (f"{rg}/providers/Microsoft.Network/virtualNetworks/{v}" for v in ("hub-vnet", "app-vnet"))
    watcher = (
        f"/subscriptions/{s}/resourceGroups/NetworkWatcherRG/providers/Microsoft.Network/networkWatchers/"
        "NetworkWatcher_westeurope"
    )
    databases = [_database(sql, "master", "v12.0,system"), _database(sql, "orders"), _database(sql, "legacy")]
    return {
        "/subscriptions": [
            {
                "id": f"/subscriptions/{s}",
                "subscriptionId": s,
                "displayName": "contoso-prod",
                "state": "Enabled",
                "tenantId": t,
            }
        ],
        f"{sub_base}/Microsoft.Insights/diagnosticSettings": [],
        f"{sub_base}/Microsoft.Insights/logprofiles": [],
        # Only some of the security operations have an alert (and not the network ones).
        f"{sub_base}/Microsoft.Insights/activityLogAlerts": [
            _alert(rg, s, op)
            for op in (
                "Microsoft.Authorization/policyAssignments/write",
                "Microsoft.Authorization/policyAssignments/delete",
                "Microsoft.Sql/servers/firewallRules/write",
            )
        ],
        # A contact with an address, but no Alert notification source and role notifications off.
        f"{sub_base}/Microsoft.Security/securityContacts": [
            {
                "id": f"{sub_base}/Microsoft.Security/securityContacts/default",
                "name": "default",
                "type": "Microsoft.Security/securityContacts",
                "properties": {
                    "isEnabled": True,
                    "emails": "secops@contoso.example",
                    "phone": "",
                    "notificationsByRole": {"state": "Off", "roles": []},
                    "notificationsSources": [{"sourceType": "AttackPath", "minimalRiskLevel": "Critical"}],
                },
            }
        ],
        f"{sub_base}/Microsoft.Storage/storageAccounts": [public, logs],
        f"{public['id']}/blobServices/default": _blob_service(public["id"], 0, False),
        f"{logs['id']}/blobServices/default": _blob_service(logs["id"], 14, True),
        f"{sub_base}/Microsoft.KeyVault/vaults": [kv, kv_audit],
        f"{kv['id']}{_DIAG}": [],
        f"{kv_audit['id']}{_DIAG}": [
            {
                "id": f"{kv_audit['id']}{_DIAG}/audit-to-workspace",
                "name": "audit-to-workspace",
                "properties": {
                    "workspaceId": workspace,
                    "logs": [{"category": None, "categoryGroup": "audit", "enabled": True}],
                    "metrics": [],
                },
            }
        ],
        f"{sub_base}/Microsoft.Sql/servers": [
            {
                "id": sql,
                "name": "contoso-sql",
                "location": "westeurope",
                "properties": {
                    "publicNetworkAccess": "Enabled",
                    "minimalTlsVersion": "1.2",
                    "administratorLogin": "sqladmin",
                },
            },
            {
                "id": reporting,
                "name": "contoso-sql-reporting",
                "location": "westeurope",
                "properties": {
                    "publicNetworkAccess": "Disabled",
                    "minimalTlsVersion": "1.2",
                    "administratorLogin": "sqladmin",
                },
            },
        ],
        f"{sql}/auditingSettings/default": {
            "id": f"{sql}/auditingSettings/default",
            "properties": {"state": "Disabled", "retentionDays": 0},
        },
        f"{reporting}/auditingSettings/default": {
            "id": f"{reporting}/auditingSettings/default",
            "properties": {
                "state": "Enabled",
                "storageEndpoint": "https://contosologs.blob.core.windows.net/",
                "retentionDays": 30,
                "isAzureMonitorTargetEnabled": False,
            },
        },
        f"{sql}/firewallRules": [
            _rule("office", "203.0.113.10", "203.0.113.10", sql),
            # The portal's "Allow Azure services and resources to access this server" switch.
            _rule("AllowAllWindowsAzureIps", "0.0.0.0", "0.0.0.0", sql),
            # Not 0.0.0.0-255.255.255.255, yet all but 1/256 of the address space.
            _rule("partners", "1.0.0.0", "255.255.255.255", sql),
        ],
        f"{reporting}/firewallRules": [],
        f"{sql}/administrators": [],
        f"{reporting}/administrators": [
            {
                "id": f"{reporting}/administrators/ActiveDirectory",
                "name": "ActiveDirectory",
                "properties": {
                    "administratorType": "ActiveDirectory",
                    "login": "sql-admins",
                    "sid": "4f0c1d2e-3b4a-4c5d-8e6f-708192a3b4c5",
                    "tenantId": t,
                    "azureADOnlyAuthentication": True,
                },
            }
        ],
        f"{sql}/databases/master{_DIAG}": [],
        f"{reporting}/databases/master{_DIAG}": [],
        f"{sql}/databases": databases,
        f"{reporting}/databases": [],
        **{f"{d['id']}/transparentDataEncryption/current": _tde(d["id"], "Enabled") for d in databases[:2]},
        f"{databases[2]['id']}/transparentDataEncryption/current": _tde(databases[2]["id"], "Disabled"),
        f"{sub_base}/Microsoft.Network/networkSecurityGroups": [
            _nsg(rg, "jump-nsg", f"{hub}/subnets/jump", [_allow("allow-rdp", "Internet", "3389")]),
            _nsg(rg, "web-nsg", f"{app}/subnets/web", [_allow("allow-https", "*", "443")]),
        ],
        f"{sub_base}/Microsoft.Network/networkInterfaces": [],
        f"{sub_base}/Microsoft.Network/networkWatchers": [
            {"id": watcher, "name": "NetworkWatcher_westeurope", "location": "westeurope", "properties": {}}
        ],
        # A VNet flow log covers app-vnet (web-nsg); nothing covers hub-vnet (jump-nsg).
        f"{watcher}/flowLogs": [
            {
                "id": f"{watcher}/flowLogs/app-vnet-flows",
                "name": "app-vnet-flows",
                "location": "westeurope",
                "properties": {
                    "targetResourceId": app,
                    "storageId": logs["id"],
                    "enabled": True,
                    "retentionPolicy": {"days": 90, "enabled": True},
                    "format": {"type": "JSON", "version": 2},
                },
            }
        ],
        f"{sub_base}/Microsoft.OperationalInsights/workspaces": [
            {
                "id": workspace,
                "name": "contoso-logs",
                "location": "westeurope",
                "properties": {
                    "retentionInDays": 90,
                    "sku": {"name": "PerGB2018"},
                    # no daily cap (-1), yet Azure still reports when the cap's day resets
                    "workspaceCapping": {
                        "dailyQuotaGb": -1.0,
                        "quotaNextResetTime": Tick(timedelta(hours=9)),
                        "dataIngestionStatus": "RespectQuota",
                    },
                },
            }
        ],
        f"{sub_base}/Microsoft.Security/pricings": [
            {
                "id": f"{sub_base}/Microsoft.Security/pricings/{plan}",
                "name": plan,
                "properties": {"pricingTier": tier, "freeTrialRemainingTime": trial},
            }
            for plan, tier, trial in (
                ("VirtualMachines", "Standard", "PT0S"),
                ("SqlServers", "Free", "PT0S"),
                ("StorageAccounts", "Free", "PT0S"),
                # enabled recently: its 30-day free trial is still counting down
                ("KeyVaults", "Standard", Countdown(now + timedelta(days=21))),
                ("Arm", "Free", "PT0S"),
            )
        ],
    }

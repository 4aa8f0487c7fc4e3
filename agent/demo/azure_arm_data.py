"""The demo tenant's Azure subscription, as Azure Resource Manager serves it: path -> list or object.

Public blob access, RDP open to the internet, SQL auditing off, Defender plans on Free."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from agent.demo.azure_ids import DEMO_SUBSCRIPTION, DEMO_TENANT

__all__ = ["arm_paths"]


def arm_paths(now: datetime | None = None) -> dict[str, Any]:
    """ARM paths of the demo subscription (and the subscription list)."""
    now = now or datetime.now(UTC)
    t, s = DEMO_TENANT, DEMO_SUBSCRIPTION
    rg = f"/subscriptions/{s}/resourceGroups/prod"
    sql = f"{rg}/providers/Microsoft.Sql/servers/contoso-sql"
    sub_base = f"/subscriptions/{s}/providers"
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
        f"{sub_base}/Microsoft.Storage/storageAccounts": [
            {
                "id": f"{rg}/providers/Microsoft.Storage/storageAccounts/contosopublic",
                "name": "contosopublic",
                "location": "westeurope",
                "type": "Microsoft.Storage/storageAccounts",
                "properties": {
                    "allowBlobPublicAccess": True,
                    "supportsHttpsTrafficOnly": True,
                    "minimumTlsVersion": "TLS1_0",
                },
            },
            {
                "id": f"{rg}/providers/Microsoft.Storage/storageAccounts/contosologs",
                "name": "contosologs",
                "location": "westeurope",
                "type": "Microsoft.Storage/storageAccounts",
                "properties": {
                    "allowBlobPublicAccess": False,
                    "supportsHttpsTrafficOnly": True,
                    "minimumTlsVersion": "TLS1_2",
                },
            },
        ],
        f"{sub_base}/Microsoft.KeyVault/vaults": [
            {
                "id": f"{rg}/providers/Microsoft.KeyVault/vaults/contoso-kv",
                "name": "contoso-kv",
                "location": "westeurope",
                "properties": {"enableSoftDelete": True, "softDeleteRetentionInDays": 90},
            },
        ],
        f"{sub_base}/Microsoft.Sql/servers": [
            {
                "id": sql,
                "name": "contoso-sql",
                "location": "westeurope",
                "properties": {"publicNetworkAccess": "Enabled", "minimalTlsVersion": "1.2"},
            },
        ],
        f"{sql}/auditingSettings/default": {
            "id": f"{sql}/auditingSettings/default",
            "properties": {"state": "Disabled", "retentionDays": 0},
        },
        f"{sql}/firewallRules": [
            {
                "id": f"{sql}/firewallRules/office",
                "name": "office",
                "properties": {"startIpAddress": "203.0.113.10", "endIpAddress": "203.0.113.10"},
            },
        ],
        f"{sub_base}/Microsoft.Network/networkSecurityGroups": [
            {
                "id": f"{rg}/providers/Microsoft.Network/networkSecurityGroups/jump-nsg",
                "name": "jump-nsg",
                "location": "westeurope",
                "properties": {
                    "securityRules": [
                        {
                            "name": "allow-rdp",
                            "properties": {
                                "direction": "Inbound",
                                "access": "Allow",
                                "protocol": "Tcp",
                                "sourceAddressPrefix": "Internet",
                                "destinationPortRange": "3389",
                                "priority": 100,
                            },
                        }
                    ]
                },
            },
            {
                "id": f"{rg}/providers/Microsoft.Network/networkSecurityGroups/web-nsg",
                "name": "web-nsg",
                "location": "westeurope",
                "properties": {
                    "securityRules": [
                        {
                            "name": "allow-https",
                            "properties": {
                                "direction": "Inbound",
                                "access": "Allow",
                                "protocol": "Tcp",
                                "sourceAddressPrefix": "*",
                                "destinationPortRange": "443",
                                "priority": 100,
                            },
                        }
                    ]
                },
            },
        ],
        f"{sub_base}/Microsoft.Security/pricings": [
            {
                "id": f"{sub_base}/Microsoft.Security/pricings/{plan}",
                "name": plan,
                "properties": {"pricingTier": tier},
            }
            for plan, tier in (
                ("VirtualMachines", "Standard"),
                ("SqlServers", "Free"),
                ("StorageAccounts", "Free"),
                ("KeyVaults", "Standard"),
                ("Arm", "Free"),
            )
        ],
    }

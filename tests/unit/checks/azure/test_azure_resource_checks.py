"""ARM resource checks: storage, key vault, SQL, NSG, Defender plans, activity log."""
# ruff: noqa: E501 -- case tables read best with one case per line

from __future__ import annotations

from typing import Any

import pytest
from azure_check_fixtures import (
    ERROR,
    FAIL,
    NA,
    PASS,
    RG,
    SUB,
    Case,
    arm,
    assert_covered,
    case,
    check_case,
    listing_error,
)

import checks.azure.keyvault as kv
import checks.azure.monitor as monitor
import checks.azure.network as network
import checks.azure.security as security
import checks.azure.sql as sql
import checks.azure.storage as storage
from agent.models import Resource
from checks.azure import _util


def sa(errors: dict[str, str] | None = None, **props: Any) -> Resource:
    base = {"allowBlobPublicAccess": False, "supportsHttpsTrafficOnly": True, "minimumTlsVersion": "TLS1_2"}
    return arm("azure.storage.account", "Microsoft.Storage/storageAccounts", "acct", properties=base | props,
               errors=errors)


def vault(**props: Any) -> Resource:
    return arm("azure.keyvault.vault", "Microsoft.KeyVault/vaults", "kv", properties=props)


def server(props: dict[str, Any] | None = None, errors: dict[str, str] | None = None, **attrs: Any) -> Resource:
    base = {"publicNetworkAccess": "Enabled", "minimalTlsVersion": "1.2"}
    attrs = {"AuditingSettings": {"properties": {"state": "Enabled"}}, "FirewallRules": []} | attrs
    return arm("azure.sql.server", "Microsoft.Sql/servers", "db", properties=base | (props or {}), errors=errors,
               **attrs)


def rule(name: str, port: str, source: str = "Internet", access: str = "Allow", direction: str = "Inbound",
         protocol: str = "Tcp", **extra: Any) -> dict[str, Any]:
    return {"name": name, "properties": {"direction": direction, "access": access, "protocol": protocol,
                                         "sourceAddressPrefix": source, "destinationPortRange": port, **extra}}


def nsg(*rules: dict[str, Any]) -> Resource:
    return arm("azure.network.nsg", "Microsoft.Network/networkSecurityGroups", "nsg",
               properties={"securityRules": list(rules)})


def pricing(plan: str, tier: str | None) -> Resource:
    rid = f"/subscriptions/{SUB}/providers/Microsoft.Security/pricings/{plan}"
    props = {} if tier is None else {"pricingTier": tier}
    return Resource(provider="azure", account=SUB, region="global", type="azure.security.pricing", id=rid,
                    name=plan, attributes={"id": rid, "name": plan, "properties": props})


def sub(errors: dict[str, str] | None = None, **attrs: Any) -> Resource:
    return Resource(provider="azure", account=SUB, region="global", type="azure.subscription",
                    id=f"/subscriptions/{SUB}", name="prod",
                    attributes={"subscriptionId": SUB, "displayName": "prod"} | attrs, errors=dict(errors or {}))


def diag(categories: list[str], target: str | None = "workspaceId") -> dict[str, Any]:
    props: dict[str, Any] = {"logs": [{"category": c, "enabled": True} for c in categories]}
    if target:
        props[target] = f"{RG}/providers/x/y"
    return {"name": "export", "properties": props}


FW_OPEN = [{"name": "AllowAll", "properties": {"startIpAddress": "0.0.0.0", "endIpAddress": "255.255.255.255"}}]
FW_AZURE = [{"name": "AllowAllWindowsAzureIps", "properties": {"startIpAddress": "0.0.0.0", "endIpAddress": "0.0.0.0"}}]

CASES = [
    # storage
    case(storage.no_public_blob_access, sa(), PASS, "does not allow", id="pass"),
    case(storage.no_public_blob_access, sa(allowBlobPublicAccess=True), FAIL, "allows anonymous", id="fail"),
    case(storage.no_public_blob_access, sa(allowBlobPublicAccess=None), FAIL, "may allow", id="unset"),
    case(storage.no_public_blob_access, arm("azure.storage.account", "Microsoft.Storage/storageAccounts", "acct"), ERROR, "properties", id="no-properties"),
    case(storage.no_public_blob_access, [], ERROR, "could not list", errors=[listing_error("azure.storage.account")], id="list-denied"),
    case(storage.secure_transfer_required, sa(), PASS, "HTTPS only", id="pass"),
    case(storage.secure_transfer_required, sa(supportsHttpsTrafficOnly=False), FAIL, "unencrypted HTTP", id="fail"),
    case(storage.secure_transfer_required, sa(supportsHttpsTrafficOnly=None), ERROR, "does not report", id="error"),
    case(storage.minimum_tls_12, sa(), PASS, "TLS1_2", id="pass"),
    case(storage.minimum_tls_12, sa(minimumTlsVersion="TLS1_3"), PASS, "TLS1_3", id="tls13"),
    case(storage.minimum_tls_12, sa(minimumTlsVersion="TLS1_0"), FAIL, "below TLS 1.2", id="fail"),
    case(storage.minimum_tls_12, sa(minimumTlsVersion=None), FAIL, "default", id="unset"),
    case(storage.minimum_tls_12, sa(minimumTlsVersion="SSL3"), ERROR, "unknown", id="error"),
    # key vault
    case(kv.soft_delete_enabled, vault(enableSoftDelete=True, softDeleteRetentionInDays=30), PASS, "30 days", id="pass"),
    case(kv.soft_delete_enabled, vault(), PASS, "90 days", id="default-on"),
    case(kv.soft_delete_enabled, vault(enableSoftDelete=False), FAIL, "soft delete disabled", id="fail"),
    case(kv.soft_delete_enabled, [], ERROR, "could not list", errors=[listing_error("azure.keyvault.vault")], id="error"),
    case(kv.purge_protection_enabled, vault(enablePurgeProtection=True), PASS, "has purge protection", id="pass"),
    case(kv.purge_protection_enabled, vault(enableSoftDelete=True), FAIL, "can be purged", id="fail"),
    case(kv.purge_protection_enabled, arm("azure.keyvault.vault", "Microsoft.KeyVault/vaults", "kv"), ERROR, "properties", id="error"),
    # SQL
    case(sql.server_auditing_enabled, server(), PASS, "auditing enabled", id="pass"),
    case(sql.server_auditing_enabled, server(AuditingSettings={"properties": {"state": "Disabled"}}), FAIL, "auditing disabled", id="fail"),
    case(sql.server_auditing_enabled, server(errors={"AuditingSettings": "AuthorizationFailed: no read"}), ERROR, "AuthorizationFailed", id="denied"),
    case(sql.server_auditing_enabled, server(AuditingSettings={"properties": {}}), ERROR, "no state", id="no-state"),
    case(sql.server_public_network_disabled, server({"publicNetworkAccess": "Disabled"}), PASS, "disabled", id="pass"),
    case(sql.server_public_network_disabled, server(), FAIL, "public network access enabled", id="fail"),
    case(sql.server_public_network_disabled, server({"publicNetworkAccess": None}), ERROR, "does not report", id="error"),
    case(sql.server_no_open_firewall, server(FirewallRules=FW_AZURE), PASS, "none open", id="pass"),
    case(sql.server_no_open_firewall, server({"publicNetworkAccess": "Disabled"}, FirewallRules=FW_OPEN), PASS, "do not apply", id="private"),
    case(sql.server_no_open_firewall, server(FirewallRules=FW_OPEN), FAIL, "AllowAll", id="fail"),
    case(sql.server_no_open_firewall, server(errors={"FirewallRules": "AuthorizationFailed"}), ERROR, "FirewallRules", id="error"),
    case(sql.server_minimum_tls_12, server(), PASS, "TLS 1.2", id="pass"),
    case(sql.server_minimum_tls_12, server({"minimalTlsVersion": "1.0"}), FAIL, "below 1.2", id="fail"),
    case(sql.server_minimum_tls_12, server({"minimalTlsVersion": "None"}), FAIL, "no minimal", id="none"),
    case(sql.server_minimum_tls_12, server({"minimalTlsVersion": "latest"}), ERROR, "unknown", id="error"),
    # NSG
    case(network.nsg_admin_ports_restricted, nsg(rule("https", "443", "*")), PASS, "allows no internet", id="pass"),
    case(network.nsg_admin_ports_restricted, nsg(rule("rdp", "3389")), FAIL, "rdp (port 3389)", id="rdp"),
    case(network.nsg_admin_ports_restricted, nsg(rule("ssh", "20-25", "0.0.0.0/0")), FAIL, "port 22", id="range"),
    case(network.nsg_admin_ports_restricted, nsg(rule("all", "*", "*", protocol="*")), FAIL, "port 22", id="any"),
    case(network.nsg_admin_ports_restricted, nsg(rule("multi", "", destinationPortRanges=["80", "3389"])), FAIL, "3389", id="ranges"),
    case(network.nsg_admin_ports_restricted, nsg(rule("src", "22", sourceAddressPrefixes=["Internet"], source=None)), FAIL, "port 22", id="prefixes"),
    case(network.nsg_admin_ports_restricted, nsg(rule("vpn", "22", "10.0.0.0/8")), PASS, "allows no", id="private-source"),
    case(network.nsg_admin_ports_restricted, nsg(rule("deny", "22", access="Deny")), PASS, "allows no", id="deny"),
    case(network.nsg_admin_ports_restricted, nsg(rule("out", "22", direction="Outbound")), PASS, "allows no", id="outbound"),
    case(network.nsg_admin_ports_restricted, nsg(rule("icmp", "*", protocol="Icmp")), PASS, "allows no", id="icmp"),
    case(network.nsg_admin_ports_restricted, nsg(rule("db", "5432")), FAIL, "5432", params={"ports": [5432]}, id="param"),
    case(network.nsg_admin_ports_restricted, nsg(rule("bad", "ssh")), ERROR, "unreadable port", id="bad-port"),
    case(network.nsg_admin_ports_restricted, arm("azure.network.nsg", "Microsoft.Network/networkSecurityGroups", "nsg", properties={}), ERROR, "securityRules", id="error"),
    # Defender
    case(security.defender_plan_enabled, pricing("VirtualMachines", "Standard"), PASS, "is on", id="pass"),
    case(security.defender_plan_enabled, pricing("StorageAccounts", "Free"), FAIL, "is off", id="fail"),
    case(security.defender_plan_enabled, pricing("CloudPosture", "Free"), NA, "not in the plans", id="other-plan"),
    case(security.defender_plan_enabled, pricing("CloudPosture", "Free"), FAIL, "is off", params={"plans": ["CloudPosture"]}, id="param"),
    case(security.defender_plan_enabled, pricing("Arm", None), ERROR, "no pricingTier", id="error"),
    case(security.defender_plan_enabled, [], ERROR, "could not list", errors=[listing_error("azure.security.pricing")], id="list-denied"),
    # activity log
    case(monitor.activity_log_retained, sub(ActivityLogDiagnosticSettings=[diag(["Administrative", "Security"])], LogProfiles=[]), PASS, "diagnostic setting export", id="pass"),
    case(monitor.activity_log_retained, sub(ActivityLogDiagnosticSettings=[{"name": "g", "properties": {"storageAccountId": "x", "logs": [{"categoryGroup": "allLogs", "enabled": True}]}}], LogProfiles=[]), PASS, "diagnostic setting g", id="category-group"),
    case(monitor.activity_log_retained, sub(ActivityLogDiagnosticSettings=[], LogProfiles=[{"name": "default", "properties": {"storageAccountId": "x", "retentionPolicy": {"enabled": True, "days": 365}}}]), PASS, "log profile default", id="log-profile"),
    case(monitor.activity_log_retained, sub(ActivityLogDiagnosticSettings=[], LogProfiles=[{"name": "short", "properties": {"storageAccountId": "x", "retentionPolicy": {"enabled": True, "days": 30}}}]), FAIL, "neither", id="short-profile"),
    case(monitor.activity_log_retained, sub(ActivityLogDiagnosticSettings=[diag(["Policy"])], LogProfiles=[]), FAIL, "neither exports", id="no-admin"),
    case(monitor.activity_log_retained, sub(ActivityLogDiagnosticSettings=[diag(["Administrative"], target=None)], LogProfiles=[]), FAIL, "neither", id="no-target"),
    case(monitor.activity_log_retained, sub(errors={"ActivityLogDiagnosticSettings": "AuthorizationFailed", "LogProfiles": "AuthorizationFailed"}), ERROR, "AuthorizationFailed", id="error"),
    case(monitor.activity_log_retained, sub(errors={"ActivityLogDiagnosticSettings": "AuthorizationFailed"}, LogProfiles=[]), ERROR, "no log profile", id="half-error"),
]


@pytest.mark.parametrize("c", CASES)
def test_resource_case(c: Case) -> None:
    check_case(c)


def test_every_resource_check_has_pass_fail_error() -> None:
    assert_covered(CASES, [storage, kv, sql, network, security, monitor])


def test_port_ranges() -> None:
    assert _util.port_ranges({"destinationPortRange": "*"}) == [(0, 65535)]
    assert _util.port_ranges({"destinationPortRanges": ["22", "1000-2000"]}) == [(22, 22), (1000, 2000)]

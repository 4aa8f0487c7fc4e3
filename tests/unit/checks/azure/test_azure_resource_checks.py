"""ARM resource checks: storage, key vault, SQL, NSG, Defender plans, activity log (the first twelve), the
fixed false passes, and the builders the other ARM case modules (test_azure_arm_*.py) share."""
# ruff: noqa: E501 -- case tables read best with one case per line

from __future__ import annotations

from datetime import UTC, datetime
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
    return arm(
        "azure.storage.account", "Microsoft.Storage/storageAccounts", "acct", properties=base | props, errors=errors
    )


def vault(**props: Any) -> Resource:
    return arm("azure.keyvault.vault", "Microsoft.KeyVault/vaults", "kv", properties=props)


def server(props: dict[str, Any] | None = None, errors: dict[str, str] | None = None, **attrs: Any) -> Resource:
    base = {"publicNetworkAccess": "Enabled", "minimalTlsVersion": "1.2"}
    attrs = {"AuditingSettings": {"properties": {"state": "Enabled"}}, "FirewallRules": []} | attrs
    return arm(
        "azure.sql.server", "Microsoft.Sql/servers", "db", properties=base | (props or {}), errors=errors, **attrs
    )


def rule(
    name: str,
    port: str,
    source: str = "Internet",
    access: str = "Allow",
    direction: str = "Inbound",
    protocol: str = "Tcp",
    **extra: Any,
) -> dict[str, Any]:
    return {
        "name": name,
        "properties": {
            "direction": direction,
            "access": access,
            "protocol": protocol,
            "sourceAddressPrefix": source,
            "destinationPortRange": port,
            **extra,
        },
    }


def nsg(*rules: dict[str, Any]) -> Resource:
    return arm(
        "azure.network.nsg", "Microsoft.Network/networkSecurityGroups", "nsg", properties={"securityRules": list(rules)}
    )


def pricing(plan: str, tier: str | None, **extra: Any) -> Resource:
    rid = f"/subscriptions/{SUB}/providers/Microsoft.Security/pricings/{plan}"
    props = ({} if tier is None else {"pricingTier": tier}) | extra
    return Resource(
        provider="azure",
        account=SUB,
        region="global",
        type="azure.security.pricing",
        id=rid,
        name=plan,
        attributes={"id": rid, "name": plan, "properties": props},
    )


def sub(errors: dict[str, str] | None = None, **attrs: Any) -> Resource:
    return Resource(
        provider="azure",
        account=SUB,
        region="global",
        type="azure.subscription",
        id=f"/subscriptions/{SUB}",
        name="prod",
        attributes={"subscriptionId": SUB, "displayName": "prod"} | attrs,
        errors=dict(errors or {}),
    )


def diag(categories: list[str], target: str | None = "workspaceId") -> dict[str, Any]:
    props: dict[str, Any] = {"logs": [{"category": c, "enabled": True} for c in categories]}
    if target:
        props[target] = f"{RG}/providers/x/y"
    return {"name": "export", "properties": props}


def profile(days: int, locations: list[str] | None = None, categories: list[str] | None = None) -> dict[str, Any]:
    """A legacy log profile as Microsoft.Insights/logprofiles returns it."""
    return {
        "name": "default",
        "properties": {
            "storageAccountId": f"{RG}/providers/Microsoft.Storage/storageAccounts/logs",
            "locations": locations or ["global", "westeurope"],
            "categories": categories or ["Write", "Delete", "Action"],
            "retentionPolicy": {"enabled": days > 0, "days": days},
        },
    }


def fw(name: str, start: str, end: str) -> dict[str, Any]:
    return {"name": name, "properties": {"startIpAddress": start, "endIpAddress": end}}


FW_OPEN = [fw("AllowAll", "0.0.0.0", "255.255.255.255")]
FW_AZURE = [fw("AllowAllWindowsAzureIps", "0.0.0.0", "0.0.0.0")]
FW_OFFICE = [fw("office", "203.0.113.10", "203.0.113.10"), fw("vpn", "198.51.100.0", "198.51.100.255")]
FW_WIDE_16 = [fw("branch", "10.20.0.0", "10.20.255.255")]

CASES = [
    # storage
    case(storage.no_public_blob_access, sa(), PASS, "does not allow", id="pass"),
    case(storage.no_public_blob_access, sa(allowBlobPublicAccess=True), FAIL, "allows anonymous", id="fail"),
    case(
        storage.no_public_blob_access,
        sa(allowBlobPublicAccess=None),
        FAIL,
        "may allow",
        id="unset",
        looks_fine="allowBlobPublicAccess absent: accounts from before Nov 2023 then allow anonymous access",
    ),
    case(
        storage.no_public_blob_access,
        arm("azure.storage.account", "Microsoft.Storage/storageAccounts", "acct"),
        ERROR,
        "properties",
        id="no-properties",
    ),
    case(
        storage.no_public_blob_access,
        [],
        ERROR,
        "could not list",
        errors=[listing_error("azure.storage.account")],
        id="list-denied",
    ),
    case(storage.secure_transfer_required, sa(), PASS, "HTTPS only", id="pass"),
    case(storage.secure_transfer_required, sa(supportsHttpsTrafficOnly=False), FAIL, "unencrypted HTTP", id="fail"),
    case(
        storage.secure_transfer_required,
        sa(supportsHttpsTrafficOnly=None),
        ERROR,
        "does not report",
        id="error",
        looks_fine="absent is not the modern default true: the account did not say",
    ),
    case(storage.minimum_tls_12, sa(), PASS, "TLS1_2", id="pass"),
    case(storage.minimum_tls_12, sa(minimumTlsVersion="TLS1_3"), PASS, "TLS1_3", id="tls13"),
    case(storage.minimum_tls_12, sa(minimumTlsVersion="TLS1_0"), FAIL, "below TLS 1.2", id="fail"),
    case(
        storage.minimum_tls_12,
        sa(minimumTlsVersion=None),
        FAIL,
        "default",
        id="unset",
        looks_fine="minimumTlsVersion absent: the service default for older accounts is TLS1_0",
    ),
    case(storage.minimum_tls_12, sa(minimumTlsVersion="SSL3"), ERROR, "unknown", id="error"),
    # key vault
    case(
        kv.soft_delete_enabled, vault(enableSoftDelete=True, softDeleteRetentionInDays=30), PASS, "30 days", id="pass"
    ),
    case(
        kv.soft_delete_enabled,
        vault(),
        FAIL,
        "not confirmed",
        id="defect-soft-delete-absent",
        looks_fine="enableSoftDelete absent: only new vaults get true written back; old ones were created with it off",
    ),
    case(kv.soft_delete_enabled, vault(enableSoftDelete=False), FAIL, "soft delete disabled", id="fail"),
    case(
        kv.soft_delete_enabled, [], ERROR, "could not list", errors=[listing_error("azure.keyvault.vault")], id="error"
    ),
    case(kv.purge_protection_enabled, vault(enablePurgeProtection=True), PASS, "has purge protection", id="pass"),
    case(
        kv.purge_protection_enabled,
        vault(enableSoftDelete=True),
        FAIL,
        "can be purged",
        id="fail",
        looks_fine="soft delete on, but without purge protection a deleted key can be purged at once",
    ),
    case(
        kv.purge_protection_enabled,
        arm("azure.keyvault.vault", "Microsoft.KeyVault/vaults", "kv"),
        ERROR,
        "properties",
        id="error",
    ),
    # SQL
    case(sql.server_auditing_enabled, server(), PASS, "auditing enabled", id="pass"),
    case(
        sql.server_auditing_enabled,
        server(AuditingSettings={"properties": {"state": "Disabled"}}),
        FAIL,
        "auditing disabled",
        id="fail",
    ),
    case(
        sql.server_auditing_enabled,
        server(
            AuditingSettings={
                "properties": {
                    "state": "Disabled",
                    "retentionDays": 90,
                    "storageEndpoint": "https://a.blob.core.windows.net/",
                }
            }
        ),
        FAIL,
        "auditing disabled",
        id="target-but-off",
        looks_fine="a storage target and 90-day retention are set, but the state is Disabled",
    ),
    case(
        sql.server_auditing_enabled,
        server(errors={"AuditingSettings": "AuthorizationFailed: no read"}),
        ERROR,
        "AuthorizationFailed",
        id="denied",
    ),
    case(sql.server_auditing_enabled, server(AuditingSettings={"properties": {}}), ERROR, "no state", id="no-state"),
    case(sql.server_public_network_disabled, server({"publicNetworkAccess": "Disabled"}), PASS, "disabled", id="pass"),
    case(
        sql.server_public_network_disabled,
        server(),
        FAIL,
        "public network access enabled",
        id="fail",
        looks_fine="no firewall rule admits anyone today, but the endpoint is public: one rule away",
    ),
    case(
        sql.server_public_network_disabled, server({"publicNetworkAccess": None}), ERROR, "does not report", id="error"
    ),
    case(sql.server_no_open_firewall, server(FirewallRules=FW_OFFICE), PASS, "none wider", id="pass"),
    case(
        sql.server_no_open_firewall,
        server(FirewallRules=FW_AZURE),
        PASS,
        "none wider",
        params={"allow_azure_services": True},
        id="azure-accepted",
    ),
    case(sql.server_no_open_firewall, server(FirewallRules=FW_WIDE_16), PASS, "none wider", id="slash-16"),
    case(
        sql.server_no_open_firewall,
        server(FirewallRules=FW_WIDE_16),
        FAIL,
        "65,536 addresses",
        params={"max_addresses": 256},
        id="param",
    ),
    case(
        sql.server_no_open_firewall,
        server({"publicNetworkAccess": "Disabled"}, FirewallRules=FW_OPEN),
        PASS,
        "do not apply",
        id="private",
    ),
    case(sql.server_no_open_firewall, server(FirewallRules=FW_OPEN), FAIL, "AllowAll", id="fail"),
    case(
        sql.server_no_open_firewall,
        server(errors={"FirewallRules": "AuthorizationFailed"}),
        ERROR,
        "FirewallRules",
        id="error",
    ),
    case(
        sql.server_no_open_firewall,
        server(FirewallRules=[{"name": "bad", "properties": {"startIpAddress": "any", "endIpAddress": "x"}}]),
        ERROR,
        "unreadable",
        id="garbage",
    ),
    case(sql.server_minimum_tls_12, server(), PASS, "TLS 1.2", id="pass"),
    case(sql.server_minimum_tls_12, server({"minimalTlsVersion": "1.0"}), FAIL, "below 1.2", id="fail"),
    case(
        sql.server_minimum_tls_12,
        server({"minimalTlsVersion": "None"}),
        FAIL,
        "no minimal",
        id="none",
        looks_fine="minimalTlsVersion is the string 'None', present but meaning no minimum",
    ),
    case(sql.server_minimum_tls_12, server({"minimalTlsVersion": "latest"}), ERROR, "unknown", id="error"),
    # NSG
    case(network.nsg_admin_ports_restricted, nsg(rule("https", "443", "*")), PASS, "allows no internet", id="pass"),
    case(network.nsg_admin_ports_restricted, nsg(rule("rdp", "3389")), FAIL, "rdp (port 3389)", id="rdp"),
    case(
        network.nsg_admin_ports_restricted,
        nsg(rule("ssh", "20-25", "0.0.0.0/0")),
        FAIL,
        "port 22",
        id="range",
        looks_fine="no rule names port 22, but the range 20-25 contains it",
    ),
    case(network.nsg_admin_ports_restricted, nsg(rule("all", "*", "*", protocol="*")), FAIL, "port 22", id="any"),
    case(
        network.nsg_admin_ports_restricted,
        nsg(rule("multi", "", destinationPortRanges=["80", "3389"])),
        FAIL,
        "3389",
        id="ranges",
    ),
    case(
        network.nsg_admin_ports_restricted,
        nsg(rule("src", "22", sourceAddressPrefixes=["Internet"], source=None)),
        FAIL,
        "port 22",
        id="prefixes",
    ),
    case(
        network.nsg_admin_ports_restricted, nsg(rule("vpn", "22", "10.0.0.0/8")), PASS, "allows no", id="private-source"
    ),
    case(
        network.nsg_admin_ports_restricted,
        nsg(rule("halves", "22", None, sourceAddressPrefixes=["0.0.0.0/1", "128.0.0.0/1"])),
        FAIL,
        "port 22",
        id="defect-split-halves",
        looks_fine="no rule names 0.0.0.0/0, but two /1 prefixes admit every address",
    ),
    case(
        network.nsg_admin_ports_restricted,
        nsg(rule("azure", "3389", "AzureCloud")),
        FAIL,
        "port 3389",
        id="defect-azurecloud-tag",
        looks_fine="the AzureCloud service tag reads like internal traffic, but it is every Azure customer's VM",
    ),
    case(
        network.nsg_admin_ports_restricted,
        nsg(rule("azure-region", "22", "AzureCloud.WestEurope")),
        FAIL,
        "port 22",
        id="azurecloud-region",
    ),
    case(
        network.nsg_admin_ports_restricted,
        nsg(rule("office", "22", "203.0.113.0/24")),
        PASS,
        "allows no",
        id="office-range",
    ),
    case(network.nsg_admin_ports_restricted, nsg(rule("deny", "22", access="Deny")), PASS, "allows no", id="deny"),
    case(
        network.nsg_admin_ports_restricted,
        nsg(rule("out", "22", direction="Outbound")),
        PASS,
        "allows no",
        id="outbound",
    ),
    case(network.nsg_admin_ports_restricted, nsg(rule("icmp", "*", protocol="Icmp")), PASS, "allows no", id="icmp"),
    case(
        network.nsg_admin_ports_restricted, nsg(rule("db", "5432")), FAIL, "5432", params={"ports": [5432]}, id="param"
    ),
    case(network.nsg_admin_ports_restricted, nsg(rule("bad", "ssh")), ERROR, "unreadable port", id="bad-port"),
    case(
        network.nsg_admin_ports_restricted,
        arm("azure.network.nsg", "Microsoft.Network/networkSecurityGroups", "nsg", properties={}),
        ERROR,
        "securityRules",
        id="error",
    ),
    # Defender
    case(security.defender_plan_enabled, pricing("VirtualMachines", "Standard"), PASS, "is on", id="pass"),
    case(security.defender_plan_enabled, pricing("StorageAccounts", "Free"), FAIL, "is off", id="fail"),
    case(
        security.defender_plan_enabled,
        pricing("StorageAccounts", "Free", extensions=[{"name": "OnUploadMalwareScanning", "isEnabled": "True"}]),
        FAIL,
        "is off",
        id="extension-on-free",
        looks_fine="a malware-scanning extension reads isEnabled True, but the plan itself is on the Free tier",
    ),
    case(security.defender_plan_enabled, pricing("CosmosDbs", "Free"), FAIL, "is off", id="newer-plan"),
    case(security.defender_plan_enabled, pricing("CloudPosture", "Free"), NA, "not in the plans", id="other-plan"),
    case(
        security.defender_plan_enabled,
        pricing("CloudPosture", "Free"),
        FAIL,
        "is off",
        params={"plans": ["CloudPosture"]},
        id="param",
    ),
    case(security.defender_plan_enabled, pricing("Arm", None), ERROR, "no pricingTier", id="error"),
    case(
        security.defender_plan_enabled,
        [],
        ERROR,
        "could not list",
        errors=[listing_error("azure.security.pricing")],
        id="list-denied",
    ),
    # activity log
    case(
        monitor.activity_log_retained,
        sub(ActivityLogDiagnosticSettings=[diag(["Administrative", "Alert", "Policy", "Security"])], LogProfiles=[]),
        PASS,
        "diagnostic setting export",
        id="pass",
    ),
    case(
        monitor.activity_log_retained,
        sub(ActivityLogDiagnosticSettings=[diag(["Administrative"])], LogProfiles=[]),
        FAIL,
        "lacks Alert, Policy, Security",
        id="defect-only-administrative",
        looks_fine="a diagnostic setting exports the activity log, but only the Administrative category",
    ),
    case(
        monitor.activity_log_retained,
        sub(ActivityLogDiagnosticSettings=[diag(["Policy"])], LogProfiles=[]),
        PASS,
        "diagnostic setting export",
        params={"categories": ["Policy"]},
        id="param",
    ),
    case(
        monitor.activity_log_retained,
        sub(
            ActivityLogDiagnosticSettings=[
                {
                    "name": "g",
                    "properties": {"storageAccountId": "x", "logs": [{"categoryGroup": "allLogs", "enabled": True}]},
                }
            ],
            LogProfiles=[],
        ),
        PASS,
        "diagnostic setting g",
        id="category-group",
    ),
    case(
        monitor.activity_log_retained,
        sub(ActivityLogDiagnosticSettings=[], LogProfiles=[profile(days=365)]),
        PASS,
        "log profile default",
        id="log-profile",
    ),
    case(
        monitor.activity_log_retained,
        sub(ActivityLogDiagnosticSettings=[], LogProfiles=[profile(days=365)]),
        FAIL,
        "retired",
        id="defect-log-profile-retired",
        now=datetime(2026, 11, 30, tzinfo=UTC),
        looks_fine="the log profile keeps a year of events, but Azure retired log profiles on 2026-09-30",
    ),
    case(
        monitor.activity_log_retained,
        sub(ActivityLogDiagnosticSettings=[diag(["Administrative", "Alert", "Policy", "Security"])], LogProfiles=[]),
        PASS,
        "diagnostic setting",
        id="after-retirement",
        now=datetime(2026, 11, 30, tzinfo=UTC),
    ),
    case(
        monitor.activity_log_retained,
        sub(errors={"ActivityLogDiagnosticSettings": "AuthorizationFailed"}, LogProfiles=[profile(days=365)]),
        ERROR,
        "AuthorizationFailed",
        id="after-retirement-unreadable",
        now=datetime(2026, 11, 30, tzinfo=UTC),
    ),
    case(
        monitor.activity_log_retained,
        sub(ActivityLogDiagnosticSettings=[], LogProfiles=[profile(days=30)]),
        FAIL,
        "keeps events 30 days",
        id="short-profile",
    ),
    case(
        monitor.activity_log_retained,
        sub(ActivityLogDiagnosticSettings=[], LogProfiles=[profile(days=0, locations=["westeurope"])]),
        FAIL,
        "global region",
        id="defect-profile-no-global",
        looks_fine="a log profile keeps events forever in storage, but only for one region, not 'global'",
    ),
    case(
        monitor.activity_log_retained,
        sub(ActivityLogDiagnosticSettings=[], LogProfiles=[profile(days=0, categories=["Write"])]),
        FAIL,
        "Write, Delete and Action",
        id="defect-profile-writes-only",
    ),
    case(
        monitor.activity_log_retained,
        sub(ActivityLogDiagnosticSettings=[diag(["Policy"])], LogProfiles=[]),
        FAIL,
        "neither exports",
        id="no-admin",
    ),
    case(
        monitor.activity_log_retained,
        sub(ActivityLogDiagnosticSettings=[diag(["Administrative"], target=None)], LogProfiles=[]),
        FAIL,
        "neither",
        id="no-target",
    ),
    case(
        monitor.activity_log_retained,
        sub(errors={"ActivityLogDiagnosticSettings": "AuthorizationFailed", "LogProfiles": "AuthorizationFailed"}),
        ERROR,
        "AuthorizationFailed",
        id="error",
    ),
    case(
        monitor.activity_log_retained,
        sub(errors={"ActivityLogDiagnosticSettings": "AuthorizationFailed"}, LogProfiles=[]),
        ERROR,
        "no log profile",
        id="half-error",
    ),
]


@pytest.mark.parametrize("c", CASES)
def test_resource_case(c: Case) -> None:
    check_case(c)


FIRST_TWELVE = [
    storage.no_public_blob_access,
    storage.secure_transfer_required,
    storage.minimum_tls_12,
    kv.soft_delete_enabled,
    kv.purge_protection_enabled,
    sql.server_auditing_enabled,
    sql.server_public_network_disabled,
    sql.server_no_open_firewall,
    sql.server_minimum_tls_12,
    network.nsg_admin_ports_restricted,
    security.defender_plan_enabled,
    monitor.activity_log_retained,
]


def test_every_resource_check_has_pass_fail_error() -> None:
    # The newer ARM checks have their tables in test_azure_arm_*.py (each asserts its own coverage);
    # the catalog test checks every Azure check for a full table, looks-fine case included.
    seen: dict[str, set[Any]] = {}
    for item in CASES + DEFECT_FIREWALL_CASES:
        seen.setdefault(item.values[0].check.id, set()).add(item.values[0].expect)
    for chk in FIRST_TWELVE:
        assert {PASS, FAIL, ERROR} <= seen.get(chk.id, set()), chk.id


def test_port_ranges() -> None:
    assert _util.port_ranges({"destinationPortRange": "*"}) == [(0, 65535)]
    assert _util.port_ranges({"destinationPortRanges": ["22", "1000-2000"]}) == [(22, 22), (1000, 2000)]


# -- defect: azure.sql.server_no_open_firewall passed the allow-all-Azure rule and near-complete ranges --

# The shapes GET {server}/firewallRules returns for the portal's "Allow Azure services and resources to
# access this server" switch and for ranges that miss one address at either end.
DEFECT_FIREWALL = {
    "allow-all-azure": fw("AllowAllWindowsAzureIps", "0.0.0.0", "0.0.0.0"),
    "all-but-0/8": fw("almost-all", "1.0.0.0", "255.255.255.255"),
    "all-but-last": fw("almost-all-2", "0.0.0.0", "255.255.255.254"),
    "upper-half": fw("half", "128.0.0.0", "255.255.255.255"),
}


@pytest.mark.parametrize("name", sorted(DEFECT_FIREWALL))
def test_defect_sql_firewall_wide_rules(name: str) -> None:
    rule_ = DEFECT_FIREWALL[name]
    finding = Case(sql.server_no_open_firewall, [server(FirewallRules=[rule_])], FAIL).run()
    assert finding.status == FAIL, finding.message
    assert str(rule_["name"]) in finding.message
    assert "at most 65,536 addresses (a /16) per rule" in finding.message


DEFECT_FIREWALL_CASES = [
    case(
        sql.server_no_open_firewall,
        server(FirewallRules=FW_AZURE),
        FAIL,
        "other customers'",
        id="defect-allow-all-azure",
        looks_fine="0.0.0.0-0.0.0.0 reads as 'one address, nobody', but it is the allow-every-Azure-resource switch",
    ),
    case(
        sql.server_no_open_firewall,
        server(FirewallRules=[DEFECT_FIREWALL["all-but-0/8"]]),
        FAIL,
        "4,278,190,080 addresses",
        id="defect-near-complete",
        looks_fine="not exactly 0.0.0.0-255.255.255.255, yet 99.6% of the address space",
    ),
]


@pytest.mark.parametrize("c", DEFECT_FIREWALL_CASES)
def test_defect_firewall_case(c: Case) -> None:
    check_case(c)

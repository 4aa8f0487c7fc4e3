"""Azure SQL logical servers: auditing on, no public network access, no open firewall, TLS 1.2."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from agent.models import Resource
from checks.azure._util import props
from checks.base import Context, MissingInput, Remediation, Severity, Verdict, check, failed, need, passed

DOCS = "https://learn.microsoft.com/azure/azure-sql/database/"


@check(
    id="azure.sql.server_auditing_enabled",
    title="Azure SQL servers have auditing enabled",
    severity=Severity.MEDIUM,
    resource_type="azure.sql.server",
    rationale=(
        "Server auditing records who queried and changed what in every database on the server. Without "
        "it, access to customer data cannot be reconstructed after an incident."
    ),
    remediation=Remediation(
        console=(
            "1. Open the SQL server > Security > Auditing.\n"
            "2. Turn on 'Enable Azure SQL Auditing', choose a Log Analytics workspace or storage account "
            "with at least 90 days retention, and Save."
        ),
        cli="az sql server audit-policy update --name <server> --resource-group <group> --state Enabled "
        "--lats Enabled --lawri <workspace-resource-id>",
        docs=DOCS + "auditing-overview",
    ),
)
def server_auditing_enabled(server: Resource, ctx: Context) -> Verdict:
    settings = need(server, "AuditingSettings")
    state = ((settings or {}).get("properties") or {}).get("state")
    if state is None:
        raise MissingInput(f"auditing settings of {server.name} have no state")
    if str(state).lower() == "enabled":
        return passed(f"SQL server {server.name} has auditing enabled")
    return failed(f"SQL server {server.name} has auditing {str(state).lower()}")


@check(
    id="azure.sql.server_public_network_disabled",
    title="Azure SQL servers do not accept connections from the public network",
    severity=Severity.HIGH,
    resource_type="azure.sql.server",
    rationale=(
        "A database server reachable from the internet is one leaked password or one firewall mistake "
        "away from a breach. Private endpoints keep it on the company network."
    ),
    remediation=Remediation(
        console=(
            "1. Create a private endpoint for the server "
            "(SQL server > Security > Networking > Private access).\n"
            "2. On Public access set 'Public network access' to Disable and Save."
        ),
        cli="az sql server update --name <server> --resource-group <group> --enable-public-network false",
        docs=DOCS + "connectivity-settings#deny-public-network-access",
    ),
)
def server_public_network_disabled(server: Resource, ctx: Context) -> Verdict:
    value = props(server).get("publicNetworkAccess")
    if value is None:
        raise MissingInput(f"SQL server {server.name} does not report publicNetworkAccess")
    if str(value).lower() == "disabled":
        return passed(f"SQL server {server.name} has public network access disabled")
    return failed(f"SQL server {server.name} has public network access {str(value).lower()}")


def _open_to_all(rule: Mapping[str, Any]) -> bool:
    p = rule.get("properties") or rule
    return str(p.get("startIpAddress")) == "0.0.0.0" and str(p.get("endIpAddress")) == "255.255.255.255"


@check(
    id="azure.sql.server_no_open_firewall",
    title="Azure SQL server firewalls do not allow every internet address",
    severity=Severity.HIGH,
    resource_type="azure.sql.server",
    rationale=(
        "A firewall rule from 0.0.0.0 to 255.255.255.255 admits the whole internet to the server's login "
        "prompt. Rules should name the few addresses that need access."
    ),
    remediation=Remediation(
        console=(
            "SQL server > Security > Networking > Firewall rules: "
            "delete the 0.0.0.0 - 255.255.255.255 rule."
        ),
        cli="az sql server firewall-rule delete --server <server> --resource-group <group> --name <rule>",
        docs=DOCS + "firewall-configure",
    ),
)
def server_no_open_firewall(server: Resource, ctx: Context) -> Verdict:
    if str(props(server).get("publicNetworkAccess") or "").lower() == "disabled":
        return passed(
            f"SQL server {server.name} has public network access disabled; firewall rules do not apply"
        )
    rules = need(server, "FirewallRules") or []
    open_rules = [str(r.get("name")) for r in rules if _open_to_all(r)]
    if open_rules:
        return failed(
            f"SQL server {server.name} firewall rule(s) {', '.join(open_rules)} allow every address"
        )
    return passed(f"SQL server {server.name} has {len(rules)} firewall rule(s), none open to every address")


@check(
    id="azure.sql.server_minimum_tls_12",
    title="Azure SQL servers require TLS 1.2 or later",
    severity=Severity.MEDIUM,
    resource_type="azure.sql.server",
    rationale=(
        "Old TLS versions have known weaknesses. The server's minimal TLS version refuses clients that "
        "would negotiate them."
    ),
    remediation=Remediation(
        console="SQL server > Security > Networking > Connectivity > Minimum TLS version: 1.2 > Save.",
        cli="az sql server update --name <server> --resource-group <group> --minimal-tls-version 1.2",
        docs=DOCS + "connectivity-settings#minimal-tls-version",
    ),
)
def server_minimum_tls_12(server: Resource, ctx: Context) -> Verdict:
    value = props(server).get("minimalTlsVersion")
    if value in (None, "", "None"):
        return failed(f"SQL server {server.name} sets no minimal TLS version (every version accepted)")
    try:
        ok = float(str(value)) >= 1.2
    except ValueError as exc:
        raise MissingInput(
            f"SQL server {server.name} reports an unknown minimalTlsVersion {value!r}"
        ) from exc
    if ok:
        return passed(f"SQL server {server.name} requires TLS {value} or later")
    return failed(f"SQL server {server.name} accepts TLS {value}, below 1.2")

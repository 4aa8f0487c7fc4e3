"""Azure SQL logical servers and databases: auditing on and kept, no public network access, no wide
firewall rule, TLS 1.2, a Microsoft Entra administrator, transparent data encryption."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from agent.models import Resource, Status
from checks.azure._arm import ARM_READER, addresses_in, diag_sends, find
from checks.azure._util import props
from checks.base import (
    Context,
    MissingInput,
    Remediation,
    Severity,
    Verdict,
    check,
    failed,
    need,
    not_applicable,
    passed,
)

DOCS = "https://learn.microsoft.com/azure/azure-sql/database/"
_SERVERS = "GET /subscriptions/{id}/providers/Microsoft.Sql/servers?api-version=2021-11-01"
_AUDITING = "GET {server}/auditingSettings/default?api-version=2021-11-01"


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
    references=("CIS Microsoft Azure Foundations v3.0.0 5.1.1",),
    reads=(_AUDITING + ": properties.state",),
    needs=ARM_READER,
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
    references=("CIS Microsoft Azure Foundations v3.0.0 5.1.7",),
    reads=(_SERVERS + ": properties.publicNetworkAccess",),
    needs=ARM_READER,
)
def server_public_network_disabled(server: Resource, ctx: Context) -> Verdict:
    value = props(server).get("publicNetworkAccess")
    if value is None:
        raise MissingInput(f"SQL server {server.name} does not report publicNetworkAccess")
    if str(value).lower() == "disabled":
        return passed(f"SQL server {server.name} has public network access disabled")
    return failed(f"SQL server {server.name} has public network access {str(value).lower()}")


def _block(count: int) -> str:
    """'65,536 addresses (a /16)' for a power of two, the bare count otherwise."""
    bits = math.log2(count) if count > 0 else -1
    return f"{count:,} addresses" + (f" (a /{32 - int(bits)})" if bits == int(bits) and 0 <= bits <= 32 else "")


@check(
    id="azure.sql.server_no_open_firewall",
    title="Azure SQL server firewalls admit neither every Azure service nor a near-complete address range",
    severity=Severity.HIGH,
    resource_type="azure.sql.server",
    rationale=(
        "A rule from 0.0.0.0 to 255.255.255.255, or one nearly as wide, admits the whole internet to the "
        "server's login prompt, and the 0.0.0.0 rule 'Allow Azure services and resources to access this "
        "server' admits every Azure resource of every customer. Rules should name the few ranges that need access."
    ),
    remediation=Remediation(
        console=(
            "1. SQL server > Security > Networking > Public access: clear 'Allow Azure services and resources "
            "to access this server'.\n"
            "2. Delete or narrow each firewall rule named in the finding to your office, VPN or NAT egress "
            "ranges, or use private endpoints and disable public network access."
        ),
        cli="az sql server firewall-rule delete --server <server> --resource-group <group> --name <rule>",
        docs=DOCS + "firewall-configure",
    ),
    references=("CIS Microsoft Azure Foundations v3.0.0 5.1.2",),
    params={"max_addresses": 65536, "allow_azure_services": False},
    reads=(
        _SERVERS + ": properties.publicNetworkAccess",
        "GET {server}/firewallRules?api-version=2021-11-01: name, properties.startIpAddress, properties.endIpAddress",
    ),
    needs=ARM_READER,
)
def server_no_open_firewall(server: Resource, ctx: Context) -> Verdict:
    if str(props(server).get("publicNetworkAccess") or "").lower() == "disabled":
        return passed(f"SQL server {server.name} has public network access disabled; firewall rules do not apply")
    # A /16 is as wide as a site, VPN or NAT egress range gets; wider rules admit other people's networks.
    limit = int(ctx.params.get("max_addresses", 65536))
    azure_ok = bool(ctx.params.get("allow_azure_services", False))
    rules = need(server, "FirewallRules") or []
    problems: list[str] = []
    for rule in rules:
        p: Mapping[str, Any] = rule.get("properties") or rule
        name, start, end = str(rule.get("name") or "?"), p.get("startIpAddress"), p.get("endIpAddress")
        try:
            count = addresses_in(str(start), str(end))
        except ValueError as exc:
            raise MissingInput(f"SQL server {server.name} firewall rule {name} has an unreadable range") from exc
        if str(start) == str(end) == "0.0.0.0":
            if not azure_ok:
                problems.append(f"{name} (0.0.0.0: every Azure service and resource, other customers' included)")
        elif count > limit:
            problems.append(f"{name} ({start}-{end}: {_block(count)})")
    if problems:
        return failed(
            f"SQL server {server.name} firewall admits too wide a range: {'; '.join(problems)}; "
            f"this check allows at most {_block(limit)} per rule and no allow-all-Azure rule"
        )
    return passed(
        f"SQL server {server.name} has {len(rules)} firewall rule(s), none wider than {_block(limit)} "
        "and none admitting all of Azure"
    )


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
    reads=(_SERVERS + ": properties.minimalTlsVersion",),
    needs=ARM_READER,
)
def server_minimum_tls_12(server: Resource, ctx: Context) -> Verdict:
    value = props(server).get("minimalTlsVersion")
    if value in (None, "", "None"):
        return failed(f"SQL server {server.name} sets no minimal TLS version (every version accepted)")
    try:
        ok = float(str(value)) >= 1.2
    except ValueError as exc:
        raise MissingInput(f"SQL server {server.name} reports an unknown minimalTlsVersion {value!r}") from exc
    if ok:
        return passed(f"SQL server {server.name} requires TLS {value} or later")
    return failed(f"SQL server {server.name} accepts TLS {value}, below 1.2")


_AUDIT_CATEGORIES = ("SQLSecurityAuditEvents",)
_AUDIT_GROUPS = ("audit", "allLogs")


def _workspace_retention(server: Resource, ctx: Context, min_days: int) -> Verdict | None:
    """The verdict from the Log Analytics workspaces that receive the server's audit events (through
    the diagnostic setting on master), or None when no setting sends them to a workspace."""
    settings = need(server, "AuditDiagnosticSettings") or []
    sending = [s for s in settings if diag_sends(s, _AUDIT_CATEGORIES, _AUDIT_GROUPS)]
    workspace_ids = [str((s.get("properties") or {}).get("workspaceId")) for s in sending]
    workspace_ids = [w for w in workspace_ids if w and w != "None"]
    if not workspace_ids:
        if sending:
            return failed(
                f"SQL server {server.name} sends audit events only to an event hub or partner solution, "
                f"whose retention this agent cannot verify; add a storage or Log Analytics target keeping "
                f"{min_days}+ days"
            )
        return None
    seen: list[str] = []
    for wid in workspace_ids:
        workspace = find(ctx.snapshot, "azure.monitor.workspace", wid)
        label = wid.rsplit("/", 1)[-1]
        if workspace is None:
            listing = ctx.snapshot.errors_for(["azure.monitor.workspace"])
            why = f"could not be listed ({listing[0].summary()})" if listing else "is not in this subscription"
            raise MissingInput(
                f"SQL server {server.name} audits to Log Analytics workspace {label}, which {why}: "
                "its retention is unknown"
            )
        days = (workspace.attributes.get("properties") or {}).get("retentionInDays")
        if days is None:
            raise MissingInput(f"Log Analytics workspace {label} does not report retentionInDays")
        if int(days) >= min_days:
            return passed(
                f"SQL server {server.name} sends audit events to Log Analytics workspace {label}, "
                f"which keeps them {days} days"
            )
        seen.append(f"workspace {label} keeps {days} days")
    return failed(f"SQL server {server.name} audit logs are kept too briefly: {', '.join(seen)} (< {min_days})")


@check(
    id="azure.sql.server_auditing_retention_90d",
    title="Azure SQL server audit logs are kept at least 90 days",
    severity=Severity.MEDIUM,
    resource_type="azure.sql.server",
    rationale=(
        "Breaches are often found months after they start; audit records that expire after a few weeks "
        "cannot show who read the data. Keep server audit logs at least 90 days."
    ),
    remediation=Remediation(
        console=(
            "1. SQL server > Security > Auditing: with a Storage target open 'Advanced properties' and set "
            "Retention (days) to 90 or more (0 keeps logs forever).\n"
            "2. With a Log Analytics target, set the workspace's data retention (Log Analytics workspace > "
            "Usage and estimated costs > Data retention) to 90 days or more."
        ),
        cli="az sql server audit-policy update --name <server> --resource-group <group> --state Enabled "
        "--bsts Enabled --storage-account <account> --retention-days 90",
        docs=DOCS + "auditing-setup",
    ),
    references=("CIS Microsoft Azure Foundations v3.0.0 5.1.6",),
    params={"days": 90},
    reads=(
        _AUDITING + ": properties.state, storageEndpoint, retentionDays, isAzureMonitorTargetEnabled",
        "GET {server}/databases/master/providers/Microsoft.Insights/diagnosticSettings"
        "?api-version=2021-05-01-preview: properties.workspaceId, eventHubAuthorizationRuleId, logs",
        "GET /subscriptions/{id}/providers/Microsoft.OperationalInsights/workspaces?api-version=2022-10-01: "
        "properties.retentionInDays",
    ),
    needs=ARM_READER,
)
def server_auditing_retention_90d(server: Resource, ctx: Context) -> Verdict:
    min_days = int(ctx.params.get("days", 90))
    settings = need(server, "AuditingSettings") or {}
    p = settings.get("properties") or {}
    if p.get("state") is None:
        raise MissingInput(f"auditing settings of {server.name} have no state")
    if str(p["state"]).lower() != "enabled":
        return failed(f"SQL server {server.name} has auditing {str(p['state']).lower()}: no audit log is kept")
    storage_problem = ""
    if p.get("storageEndpoint"):
        if p.get("retentionDays") is None:
            raise MissingInput(f"auditing settings of {server.name} have a storage target but no retentionDays")
        days = int(p["retentionDays"])
        if days == 0:  # the API's meaning: keep forever
            return passed(f"SQL server {server.name} keeps audit logs in storage without a time limit")
        if days >= min_days:
            return passed(f"SQL server {server.name} keeps audit logs in storage for {days} days")
        storage_problem = f"its storage target keeps audit logs {days} days (< {min_days})"
    if p.get("isAzureMonitorTargetEnabled"):
        verdict = _workspace_retention(server, ctx, min_days)
        if verdict is not None and (verdict.status == Status.PASS or not storage_problem):
            return verdict
    if storage_problem:
        return failed(f"SQL server {server.name}: {storage_problem}")
    return failed(f"SQL server {server.name} has auditing on but no storage or Log Analytics target keeping logs")


@check(
    id="azure.sql.server_entra_admin",
    title="Azure SQL servers have a Microsoft Entra administrator",
    severity=Severity.MEDIUM,
    resource_type="azure.sql.server",
    rationale=(
        "With a Microsoft Entra administrator, database access follows the company directory: MFA, "
        "Conditional Access and leavers disabled in one place. Without one only SQL logins with their own "
        "passwords exist."
    ),
    remediation=Remediation(
        console="SQL server > Settings > Microsoft Entra ID > Set admin: choose a group of DBAs > Save.",
        cli="az sql server ad-admin create --server <server> --resource-group <group> "
        "--display-name <group-name> --object-id <group-object-id>",
        docs=DOCS + "authentication-aad-configure",
    ),
    references=("CIS Microsoft Azure Foundations v3.0.0 5.1.4",),
    reads=(
        "GET {server}/administrators?api-version=2021-11-01: properties.administratorType, login, "
        "azureADOnlyAuthentication",
    ),
    needs=ARM_READER,
)
def server_entra_admin(server: Resource, ctx: Context) -> Verdict:
    admins = need(server, "Administrators") or []
    entra = [
        a.get("properties") or {}
        for a in admins
        if str((a.get("properties") or {}).get("administratorType") or "").lower() == "activedirectory"
        and ((a.get("properties") or {}).get("sid") or (a.get("properties") or {}).get("login"))
    ]
    if not entra:
        sql_admin = props(server).get("administratorLogin")
        extra = f" (only the SQL login {sql_admin})" if sql_admin else ""
        return failed(f"SQL server {server.name} has no Microsoft Entra administrator{extra}")
    only = " (Entra-only authentication)" if entra[0].get("azureADOnlyAuthentication") else ""
    return passed(f"SQL server {server.name} has Microsoft Entra administrator {entra[0].get('login')}{only}")


@check(
    id="azure.sql.database_tde_enabled",
    title="Azure SQL databases have transparent data encryption on",
    severity=Severity.HIGH,
    resource_type="azure.sql.database",
    rationale=(
        "Transparent data encryption encrypts the database files, backups and logs at rest, so a copied "
        "file or backup does not expose the data. It is on by default for new databases but can be turned off."
    ),
    remediation=Remediation(
        console="SQL database > Security > Transparent data encryption > Data encryption: On > Save.",
        cli="az sql db tde set --server <server> --resource-group <group> --database <db> --status Enabled",
        docs=DOCS + "transparent-data-encryption-tde-overview",
    ),
    references=("CIS Microsoft Azure Foundations v3.0.0 5.1.5",),
    reads=(
        "GET {server}/databases?api-version=2021-11-01: name, kind",
        "GET {database}/transparentDataEncryption/current?api-version=2021-11-01: properties.state",
    ),
    needs=ARM_READER,
)
def database_tde_enabled(db: Resource, ctx: Context) -> Verdict:
    server = db.id.rstrip("/").split("/databases/", 1)[0].rsplit("/", 1)[-1]
    label = f"SQL database {db.name} on {server}"
    if db.name.lower() == "master" or "system" in str(db.attributes.get("kind") or "").lower():
        return not_applicable(f"{label} is a system database (TDE does not apply)")
    tde = need(db, "TransparentDataEncryption") or {}
    p = tde.get("properties") or {}
    state = p.get("state", p.get("status"))  # 'status' in the 2014-04-01 shape
    if state is None:
        raise MissingInput(f"{label}: transparent data encryption reports no state")
    if str(state).lower() == "enabled":
        return passed(f"{label} has transparent data encryption on")
    return failed(f"{label} has transparent data encryption {str(state).lower()}")

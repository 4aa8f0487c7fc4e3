"""Key vaults: deleted keys and secrets can be recovered and cannot be purged early, access is logged,
authorised with Azure RBAC, and not open to every network."""

from __future__ import annotations

from agent.models import Resource
from checks.azure._arm import ARM_READER, diag_destination, diag_sends, wide_ip_rules
from checks.azure._util import props
from checks.base import Context, MissingInput, Remediation, Severity, Verdict, check, failed, need, passed

DOCS = "https://learn.microsoft.com/azure/key-vault/general/"
_VAULTS = "GET /subscriptions/{id}/providers/Microsoft.KeyVault/vaults?api-version=2023-07-01"


@check(
    id="azure.keyvault.soft_delete_enabled",
    title="Key vaults have soft delete enabled",
    severity=Severity.MEDIUM,
    resource_type="azure.keyvault.vault",
    rationale=(
        "Without soft delete a mistaken or malicious deletion destroys keys, and with them the data they "
        "encrypt. Soft delete keeps deleted vaults and objects recoverable for a retention period."
    ),
    remediation=Remediation(
        console="Key vault > Settings > Properties > Soft-delete: enable (it cannot be turned off later).",
        cli="az keyvault update --name <vault> --resource-group <group> --enable-soft-delete true",
        docs=DOCS + "soft-delete-overview",
    ),
    references=("CIS Microsoft Azure Foundations v3.0.0 3.3.5",),
    reads=(_VAULTS + ": properties.enableSoftDelete, properties.softDeleteRetentionInDays",),
    needs=ARM_READER,
)
def soft_delete_enabled(vault: Resource, ctx: Context) -> Verdict:
    p = props(vault)
    value = p.get("enableSoftDelete")
    if value is False:
        return failed(f"key vault {vault.name} has soft delete disabled")
    if value is None:
        # New vaults get true written back; an absent value is an old vault created with it off.
        return failed(f"key vault {vault.name} does not set enableSoftDelete, so soft delete is not confirmed on")
    days = p.get("softDeleteRetentionInDays", 90)
    return passed(f"key vault {vault.name} keeps deleted objects for {days} days")


@check(
    id="azure.keyvault.purge_protection_enabled",
    title="Key vaults have purge protection enabled",
    severity=Severity.MEDIUM,
    resource_type="azure.keyvault.vault",
    rationale=(
        "Soft delete alone lets an administrator (or an attacker holding that role) purge a deleted key at "
        "once. Purge protection enforces the retention period, so keys cannot be destroyed irrecoverably."
    ),
    remediation=Remediation(
        console="Key vault > Settings > Properties > Purge protection: 'Enable purge protection' > Save.",
        cli="az keyvault update --name <vault> --resource-group <group> --enable-purge-protection true",
        docs=DOCS + "soft-delete-overview#purge-protection",
    ),
    references=("CIS Microsoft Azure Foundations v3.0.0 3.3.5",),
    reads=(_VAULTS + ": properties.enablePurgeProtection",),
    needs=ARM_READER,
)
def purge_protection_enabled(vault: Resource, ctx: Context) -> Verdict:
    if props(vault).get("enablePurgeProtection") is True:
        return passed(f"key vault {vault.name} has purge protection enabled")
    return failed(f"key vault {vault.name} does not have purge protection: deleted keys can be purged at once")


@check(
    id="azure.keyvault.logging_enabled",
    title="Key vaults send their audit events to a workspace, storage account or event hub",
    severity=Severity.MEDIUM,
    resource_type="azure.keyvault.vault",
    rationale=(
        "Key Vault records who read which secret or key only when a diagnostic setting exports the AuditEvent "
        "log. Without it, the use of a stolen credential leaves no trace."
    ),
    remediation=Remediation(
        console=(
            "Key vault > Monitoring > Diagnostic settings > Add diagnostic setting: check the 'audit' category "
            "group (or AuditEvent), send to a Log Analytics workspace or storage account > Save."
        ),
        cli="az monitor diagnostic-settings create --name audit --resource <vault-resource-id> "
        '--workspace <workspace-resource-id> --logs \'[{"categoryGroup":"audit","enabled":true}]\'',
        docs=DOCS + "logging",
    ),
    references=("CIS Microsoft Azure Foundations v3.0.0 6.1.4",),
    reads=(
        "GET {vault}/providers/Microsoft.Insights/diagnosticSettings?api-version=2021-05-01-preview: "
        "properties.logs (category, categoryGroup, enabled), workspaceId, storageAccountId, "
        "eventHubAuthorizationRuleId",
    ),
    needs=ARM_READER,
)
def logging_enabled(vault: Resource, ctx: Context) -> Verdict:
    settings = need(vault, "DiagnosticSettings") or []
    for s in settings:
        if diag_sends(s, ("AuditEvent",), ("audit", "allLogs")):
            return passed(
                f"key vault {vault.name} sends audit events to a {diag_destination(s)} "
                f"(diagnostic setting {s.get('name')})"
            )
    if settings:
        names = ", ".join(str(s.get("name")) for s in settings)
        return failed(f"key vault {vault.name} has diagnostic setting(s) {names}, none exporting AuditEvent logs")
    return failed(f"key vault {vault.name} has no diagnostic setting: secret and key access is not logged")


@check(
    id="azure.keyvault.rbac_authorization",
    title="Key vaults authorise data access with Azure RBAC, not vault access policies",
    severity=Severity.MEDIUM,
    resource_type="azure.keyvault.vault",
    rationale=(
        "With the legacy access policy model, anyone who can edit the vault (Contributor) can grant "
        "themselves every secret. Azure RBAC separates managing the vault from reading its contents and is "
        "reviewed with the rest of the company's role assignments."
    ),
    remediation=Remediation(
        console="Key vault > Settings > Access configuration > Permission model: 'Azure role-based access "
        "control' (grant the matching Key Vault roles first) > Apply.",
        cli="az keyvault update --name <vault> --resource-group <group> --enable-rbac-authorization true",
        docs=DOCS + "rbac-migration",
    ),
    references=("CIS Microsoft Azure Foundations v3.0.0 3.3.6",),
    reads=(_VAULTS + ": properties.enableRbacAuthorization, properties.accessPolicies",),
    needs=ARM_READER,
)
def rbac_authorization(vault: Resource, ctx: Context) -> Verdict:
    p = props(vault)
    if p.get("enableRbacAuthorization") is True:
        return passed(f"key vault {vault.name} uses Azure RBAC for data access")
    policies = len(p.get("accessPolicies") or [])
    why = "is off" if p.get("enableRbacAuthorization") is False else "is not set (the default is access policies)"
    return failed(f"key vault {vault.name} uses vault access policies ({policies} defined): RBAC authorization {why}")


@check(
    id="azure.keyvault.public_network_restricted",
    title="Key vaults are not reachable from every network",
    severity=Severity.MEDIUM,
    resource_type="azure.keyvault.vault",
    rationale=(
        "A vault open to all networks can be probed and used from anywhere by whoever holds a token. "
        "Private endpoints, or a firewall that denies by default, keep it on the company's networks."
    ),
    remediation=Remediation(
        console=(
            "Key vault > Settings > Networking: create a private endpoint and choose 'Disable public access', "
            "or 'Allow public access from specific virtual networks and IP addresses' with only your ranges."
        ),
        cli="az keyvault update --name <vault> --resource-group <group> --public-network-access Disabled",
        docs=DOCS + "network-security",
    ),
    params={"max_addresses": 65536},
    reads=(
        _VAULTS + ": properties.publicNetworkAccess, properties.networkAcls (defaultAction, ipRules), "
        "properties.privateEndpointConnections",
    ),
    needs=ARM_READER,
)
def public_network_restricted(vault: Resource, ctx: Context) -> Verdict:
    p = props(vault)
    endpoints = len(p.get("privateEndpointConnections") or [])
    if str(p.get("publicNetworkAccess") or "").lower() == "disabled":
        return passed(f"key vault {vault.name} has public access disabled ({endpoints} private endpoint(s))")
    acls = p.get("networkAcls") or {}
    action = str(acls.get("defaultAction") or "Allow")  # no networkAcls: every network
    if action.lower() != "deny":
        extra = f" despite {endpoints} private endpoint(s)" if endpoints else ""
        return failed(f"key vault {vault.name} accepts requests from every network{extra}")
    limit = int(ctx.params.get("max_addresses", 65536))
    try:
        wide = wide_ip_rules(acls.get("ipRules") or [], limit)
    except ValueError as exc:
        raise MissingInput(f"key vault {vault.name} has an unreadable IP rule: {exc}") from exc
    if wide:
        shown = ", ".join(f"{value} ({count:,} addresses)" for value, count in wide)
        return failed(f"key vault {vault.name} denies by default but its IP rules admit {shown}")
    return passed(f"key vault {vault.name} denies public networks by default")

"""Key vaults: deleted keys and secrets can be recovered, and cannot be purged early."""

from __future__ import annotations

from agent.models import Resource
from checks.azure._util import props
from checks.base import Context, Remediation, Severity, Verdict, check, failed, passed

DOCS = "https://learn.microsoft.com/azure/key-vault/general/"


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
)
def soft_delete_enabled(vault: Resource, ctx: Context) -> Verdict:
    p = props(vault)
    # Since 2020 soft delete is on unless explicitly false.
    if p.get("enableSoftDelete") is False:
        return failed(f"key vault {vault.name} has soft delete disabled")
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
)
def purge_protection_enabled(vault: Resource, ctx: Context) -> Verdict:
    if props(vault).get("enablePurgeProtection") is True:
        return passed(f"key vault {vault.name} has purge protection enabled")
    return failed(
        f"key vault {vault.name} does not have purge protection: deleted keys can be purged at once"
    )

"""Storage accounts: no anonymous blob access, HTTPS only, TLS 1.2 or later, soft delete, default-deny
networking, infrastructure encryption, no cross-tenant replication."""

from __future__ import annotations

from agent.models import Resource
from checks.azure._arm import ARM_READER, wide_ip_rules
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

DOCS = "https://learn.microsoft.com/azure/storage/"
_ACCOUNTS = "GET /subscriptions/{id}/providers/Microsoft.Storage/storageAccounts?api-version=2023-01-01"


@check(
    id="azure.storage.no_public_blob_access",
    title="Storage accounts do not allow anonymous (public) blob access",
    severity=Severity.HIGH,
    resource_type="azure.storage.account",
    rationale=(
        "With anonymous access allowed at the account, any container set to public can be read by anyone "
        "on the internet without credentials. Turning it off at the account overrides every container."
    ),
    remediation=Remediation(
        console=(
            "1. In the Azure portal open the storage account > Settings > Configuration.\n"
            "2. Set 'Allow Blob anonymous access' to Disabled and Save.\n"
            "3. Enforce it with the built-in policy 'Storage account public access should be disallowed'."
        ),
        cli=("az storage account update --name <account> --resource-group <group> --allow-blob-public-access false"),
        docs=DOCS + "blobs/anonymous-read-access-prevent",
    ),
    references=("CIS Microsoft Azure Foundations v3.0.0 4.17",),
    reads=(_ACCOUNTS + ": properties.allowBlobPublicAccess",),
    needs=ARM_READER,
)
def no_public_blob_access(account: Resource, ctx: Context) -> Verdict:
    value = props(account).get("allowBlobPublicAccess")
    # Accounts created before Nov 2023 may omit the property; the service default then was "allowed".
    if value is False:
        return passed(f"storage account {account.name} does not allow anonymous blob access")
    why = "allows" if value is True else "does not set allowBlobPublicAccess, so it may allow"
    return failed(f"storage account {account.name} {why} anonymous blob access")


@check(
    id="azure.storage.secure_transfer_required",
    title="Storage accounts accept HTTPS only (secure transfer required)",
    severity=Severity.MEDIUM,
    resource_type="azure.storage.account",
    rationale=(
        "Plain HTTP exposes data and shared-key signatures on the network. Requiring secure transfer "
        "rejects every unencrypted request to the account."
    ),
    remediation=Remediation(
        console="Storage account > Settings > Configuration > 'Secure transfer required': Enabled > Save.",
        cli="az storage account update --name <account> --resource-group <group> --https-only true",
        docs=DOCS + "common/storage-require-secure-transfer",
    ),
    references=("CIS Microsoft Azure Foundations v3.0.0 4.1",),
    reads=(_ACCOUNTS + ": properties.supportsHttpsTrafficOnly",),
    needs=ARM_READER,
)
def secure_transfer_required(account: Resource, ctx: Context) -> Verdict:
    value = props(account).get("supportsHttpsTrafficOnly")
    if value is None:
        raise MissingInput(f"storage account {account.name} does not report supportsHttpsTrafficOnly")
    if value:
        return passed(f"storage account {account.name} requires secure transfer (HTTPS only)")
    return failed(f"storage account {account.name} accepts unencrypted HTTP requests")


_TLS_ORDER = {"TLS1_0": 0, "TLS1_1": 1, "TLS1_2": 2, "TLS1_3": 3}


@check(
    id="azure.storage.minimum_tls_12",
    title="Storage accounts require TLS 1.2 or later",
    severity=Severity.MEDIUM,
    resource_type="azure.storage.account",
    rationale=(
        "TLS 1.0 and 1.1 have known weaknesses and are retired by Azure. Setting the account's minimum "
        "version refuses clients that would negotiate them."
    ),
    remediation=Remediation(
        console="Storage account > Settings > Configuration > 'Minimum TLS version': Version 1.2 > Save.",
        cli="az storage account update --name <account> --resource-group <group> --min-tls-version TLS1_2",
        docs=DOCS + "common/transport-layer-security-configure-minimum-version",
    ),
    references=("CIS Microsoft Azure Foundations v3.0.0 4.15",),
    reads=(_ACCOUNTS + ": properties.minimumTlsVersion",),
    needs=ARM_READER,
)
def minimum_tls_12(account: Resource, ctx: Context) -> Verdict:
    value = props(account).get("minimumTlsVersion")
    # Absent means the service default, TLS 1.0 for older accounts.
    level = _TLS_ORDER.get(str(value or "TLS1_0"))
    if level is None:
        raise MissingInput(f"storage account {account.name} reports an unknown minimumTlsVersion {value!r}")
    if level >= 2:
        return passed(f"storage account {account.name} requires {value}")
    return failed(f"storage account {account.name} accepts {value or 'TLS1_0 (default)'}, below TLS 1.2")


@check(
    id="azure.storage.blob_soft_delete",
    title="Storage accounts keep deleted blobs and containers at least 7 days (soft delete)",
    severity=Severity.MEDIUM,
    resource_type="azure.storage.account",
    rationale=(
        "Soft delete keeps deleted or overwritten blobs, and deleted containers, recoverable for a retention "
        "period, which undoes a mistaken deletion or a ransomware wipe. Blob soft delete alone does not "
        "survive the deletion of the whole container."
    ),
    remediation=Remediation(
        console=(
            "Storage account > Data management > Data protection: check 'Enable soft delete for blobs' and "
            "'Enable soft delete for containers' with 7 or more days, and do not allow permanent delete > Save."
        ),
        cli="az storage account blob-service-properties update --account-name <account> --resource-group <group> "
        "--enable-delete-retention true --delete-retention-days 7 "
        "--enable-container-delete-retention true --container-delete-retention-days 7",
        docs=DOCS + "blobs/soft-delete-blob-overview",
    ),
    references=("CIS Microsoft Azure Foundations v3.0.0 4.10",),
    params={"days": 7},
    reads=(
        _ACCOUNTS + ": kind",
        "GET {account}/blobServices/default?api-version=2023-01-01: properties.deleteRetentionPolicy "
        "(enabled, days, allowPermanentDelete), properties.containerDeleteRetentionPolicy (enabled, days)",
    ),
    needs=ARM_READER,
)
def blob_soft_delete(account: Resource, ctx: Context) -> Verdict:
    if str(account.attributes.get("kind") or "") == "FileStorage":
        return not_applicable(f"storage account {account.name} is a FileStorage account (no blob service)")
    min_days = int(ctx.params.get("days", 7))
    service = need(account, "BlobServiceProperties") or {}
    p = service.get("properties")
    if not isinstance(p, dict):
        raise MissingInput(f"blob service properties of {account.name} have no properties object")
    problems: list[str] = []
    policies = {"blob": p.get("deleteRetentionPolicy"), "container": p.get("containerDeleteRetentionPolicy")}
    for what, found in policies.items():
        policy = found or {}
        days = int(policy.get("days") or 0)
        if policy.get("enabled") is not True:
            problems.append(f"{what} soft delete is off")
        elif days < min_days:
            problems.append(f"deleted {what}s are kept {days} days (< {min_days})")
    if (p.get("deleteRetentionPolicy") or {}).get("allowPermanentDelete") is True:
        problems.append("permanent delete is allowed, so soft-deleted versions and snapshots can be purged at once")
    if problems:
        return failed(f"storage account {account.name}: {'; '.join(problems)}")
    return passed(f"storage account {account.name} keeps deleted blobs and containers {min_days}+ days")


@check(
    id="azure.storage.default_network_deny",
    title="Storage accounts deny network access by default (selected networks or private access only)",
    severity=Severity.MEDIUM,
    resource_type="azure.storage.account",
    rationale=(
        "With the default network rule set to Allow, anyone on the internet who obtains a key or SAS token "
        "can reach the account. Denying by default limits access to named networks and private endpoints."
    ),
    remediation=Remediation(
        console=(
            "Storage account > Security + networking > Networking > Firewalls and virtual networks: "
            "'Enabled from selected virtual networks and IP addresses' (or Disabled with private endpoints); "
            "list only your own ranges > Save."
        ),
        cli="az storage account update --name <account> --resource-group <group> --default-action Deny",
        docs=DOCS + "common/storage-network-security",
    ),
    references=("CIS Microsoft Azure Foundations v3.0.0 4.7", "CIS Microsoft Azure Foundations v3.0.0 4.6"),
    params={"max_addresses": 65536},
    reads=(
        _ACCOUNTS + ": properties.publicNetworkAccess, properties.networkAcls (defaultAction, ipRules, "
        "virtualNetworkRules)",
    ),
    needs=ARM_READER,
)
def default_network_deny(account: Resource, ctx: Context) -> Verdict:
    p = props(account)
    if str(p.get("publicNetworkAccess") or "").lower() == "disabled":
        return passed(f"storage account {account.name} has public network access disabled")
    acls = p.get("networkAcls") or {}
    action = str(acls.get("defaultAction") or "Allow")  # absent: the service default, Allow
    if action.lower() != "deny":
        return failed(f"storage account {account.name} allows every network by default (defaultAction {action})")
    limit = int(ctx.params.get("max_addresses", 65536))
    try:
        wide = wide_ip_rules(acls.get("ipRules") or [], limit)
    except ValueError as exc:
        raise MissingInput(f"storage account {account.name} has an unreadable IP rule: {exc}") from exc
    if wide:
        shown = ", ".join(f"{value} ({count:,} addresses)" for value, count in wide)
        return failed(
            f"storage account {account.name} denies by default but its IP rules admit {shown}, "
            f"wider than the {limit:,} addresses this check allows"
        )
    ips, vnets = len(acls.get("ipRules") or []), len(acls.get("virtualNetworkRules") or [])
    return passed(
        f"storage account {account.name} denies by default and allows {ips} IP rule(s) and {vnets} virtual network(s)"
    )


@check(
    id="azure.storage.infrastructure_encryption",
    title="Storage accounts encrypt data a second time at the infrastructure layer",
    severity=Severity.LOW,
    resource_type="azure.storage.account",
    rationale=(
        "Infrastructure encryption adds a second layer of AES-256 encryption with a different key, so one "
        "compromised key or algorithm does not expose the data. It can only be chosen when the account is created."
    ),
    remediation=Remediation(
        console=(
            "Create a new storage account with Encryption > 'Enable infrastructure encryption' checked, "
            "then move the data (the setting cannot be changed on an existing account)."
        ),
        cli="az storage account create --name <account> --resource-group <group> --require-infrastructure-encryption",
        docs=DOCS + "common/infrastructure-encryption-enable",
    ),
    references=("CIS Microsoft Azure Foundations v3.0.0 4.2",),
    reads=(_ACCOUNTS + ": properties.encryption.requireInfrastructureEncryption",),
    needs=ARM_READER,
)
def infrastructure_encryption(account: Resource, ctx: Context) -> Verdict:
    encryption = props(account).get("encryption")
    if not isinstance(encryption, dict):
        raise MissingInput(f"storage account {account.name} does not report its encryption settings")
    if encryption.get("requireInfrastructureEncryption") is True:
        return passed(f"storage account {account.name} has infrastructure (double) encryption")
    return failed(
        f"storage account {account.name} encrypts data once only (requireInfrastructureEncryption is not true)"
    )


@check(
    id="azure.storage.cross_tenant_replication_disabled",
    title="Storage accounts do not allow object replication to other Entra tenants",
    severity=Severity.MEDIUM,
    resource_type="azure.storage.account",
    rationale=(
        "Cross-tenant object replication lets someone with write access copy every blob to an account in a "
        "tenant the company does not control. Accounts created before December 2023 allow it unless told otherwise."
    ),
    remediation=Remediation(
        console="Storage account > Data management > Object replication > Advanced settings: clear "
        "'Allow cross-tenant replication' > Save.",
        cli="az storage account update --name <account> --resource-group <group> "
        "--allow-cross-tenant-replication false",
        docs=DOCS + "blobs/object-replication-prevent-cross-tenant-policies",
    ),
    references=("CIS Microsoft Azure Foundations v3.0.0 4.16",),
    reads=(_ACCOUNTS + ": properties.allowCrossTenantReplication",),
    needs=ARM_READER,
)
def cross_tenant_replication_disabled(account: Resource, ctx: Context) -> Verdict:
    value = props(account).get("allowCrossTenantReplication")
    if value is False:
        return passed(f"storage account {account.name} does not allow cross-tenant replication")
    why = (
        "allows"
        if value is True
        else "does not set allowCrossTenantReplication, so (if created before Dec 2023) it allows"
    )
    return failed(f"storage account {account.name} {why} object replication to other tenants")

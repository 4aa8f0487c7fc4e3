"""Storage accounts: no anonymous blob access, HTTPS only, TLS 1.2 or later."""

from __future__ import annotations

from agent.models import Resource
from checks.azure._util import props
from checks.base import Context, MissingInput, Remediation, Severity, Verdict, check, failed, passed

DOCS = "https://learn.microsoft.com/azure/storage/"


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
        cli=(
            "az storage account update --name <account> --resource-group <group> "
            "--allow-blob-public-access false"
        ),
        docs=DOCS + "blobs/anonymous-read-access-prevent",
    ),
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

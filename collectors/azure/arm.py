"""Azure Resource Manager: one snapshot per subscription, driven by a table of resource types.

Adding a resource type is a row: its type name, the provider path under the subscription (or,
for a child type, under each resource of its ``parent`` type), the api-version, and any per-item
detail reads (stored under their own attribute, or as an error there).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from agent.models import CollectionError, Resource
from agent.observations import validate_paths
from collectors.azure.http import ApiError, AzureHttp

__all__ = [
    "SUBSCRIPTION_DETAILS",
    "SUBSCRIPTION_TYPE",
    "TABLE",
    "ArmType",
    "Detail",
    "collect_subscription",
    "list_subscriptions",
]

SUBSCRIPTION_TYPE = "azure.subscription"
SUBSCRIPTIONS_API = "2022-12-01"
_DIAGNOSTICS = "/providers/Microsoft.Insights/diagnosticSettings"
_DIAGNOSTICS_API = "2021-05-01-preview"


@dataclass(frozen=True)
class Detail:
    attribute: str  # where the answer is stored on the resource
    path: str  # appended to the resource id
    api_version: str
    is_list: bool = False


@dataclass(frozen=True)
class ArmType:
    type: str
    path: str  # under /subscriptions/{id}, or under each resource of ``parent``
    api_version: str
    details: tuple[Detail, ...] = ()
    global_: bool = False  # not a regional resource (no meaningful location)
    parent: str = ""  # a type listed earlier in the table: this type is listed under each of its resources
    # attribute paths that tick with time, not configuration (agent.observations)
    observations: tuple[str, ...] = ()


TABLE: tuple[ArmType, ...] = (
    ArmType(
        "azure.storage.account",
        "/providers/Microsoft.Storage/storageAccounts",
        "2023-01-01",
        details=(Detail("BlobServiceProperties", "/blobServices/default", "2023-01-01"),),
    ),
    ArmType(
        "azure.keyvault.vault",
        "/providers/Microsoft.KeyVault/vaults",
        "2023-07-01",
        details=(Detail("DiagnosticSettings", _DIAGNOSTICS, _DIAGNOSTICS_API, is_list=True),),
    ),
    ArmType(
        "azure.sql.server",
        "/providers/Microsoft.Sql/servers",
        "2021-11-01",
        details=(
            Detail("AuditingSettings", "/auditingSettings/default", "2021-11-01"),
            Detail("FirewallRules", "/firewallRules", "2021-11-01", is_list=True),
            Detail("Administrators", "/administrators", "2021-11-01", is_list=True),
            # Server auditing to Log Analytics / Event Hubs is a diagnostic setting on master.
            Detail("AuditDiagnosticSettings", "/databases/master" + _DIAGNOSTICS, _DIAGNOSTICS_API, is_list=True),
        ),
    ),
    ArmType(
        "azure.sql.database",
        "/databases",
        "2021-11-01",
        parent="azure.sql.server",
        details=(Detail("TransparentDataEncryption", "/transparentDataEncryption/current", "2021-11-01"),),
        # the restore window moves daily; serverless databases pause and resume on their own
        observations=("properties.earliestRestoreDate", "properties.pausedDate", "properties.resumedDate"),
    ),
    ArmType("azure.network.nsg", "/providers/Microsoft.Network/networkSecurityGroups", "2023-09-01"),
    ArmType("azure.network.nic", "/providers/Microsoft.Network/networkInterfaces", "2023-09-01"),
    ArmType("azure.network.watcher", "/providers/Microsoft.Network/networkWatchers", "2023-09-01"),
    ArmType("azure.network.flowlog", "/flowLogs", "2023-09-01", parent="azure.network.watcher"),
    ArmType(
        "azure.monitor.workspace",
        "/providers/Microsoft.OperationalInsights/workspaces",
        "2022-10-01",
        # the daily cap's next reset and whether today's ingestion is over it
        observations=(
            "properties.workspaceCapping.dataIngestionStatus",
            "properties.workspaceCapping.quotaNextResetTime",
        ),
    ),
    ArmType(
        "azure.security.pricing",
        "/providers/Microsoft.Security/pricings",
        "2024-01-01",
        global_=True,
        observations=("properties.freeTrialRemainingTime",),
    ),  # an ISO 8601 duration counting down
)
# Subscription-level settings stored on the azure.subscription resource.
SUBSCRIPTION_DETAILS: tuple[Detail, ...] = (
    Detail("ActivityLogDiagnosticSettings", _DIAGNOSTICS, _DIAGNOSTICS_API, is_list=True),
    Detail("LogProfiles", "/providers/Microsoft.Insights/logprofiles", "2016-03-01", is_list=True),
    Detail("ActivityLogAlerts", "/providers/Microsoft.Insights/activityLogAlerts", "2020-10-01", is_list=True),
    Detail("SecurityContacts", "/providers/Microsoft.Security/securityContacts", "2023-12-01-preview", is_list=True),
)


def _error(op: str, exc: ApiError, rtype: str, region: str = "") -> CollectionError:
    return CollectionError(
        service="arm",
        operation=op,
        region=region,
        code=exc.code,
        message=exc.message or f"HTTP {exc.status}",
        resource_type=rtype,
    )


def _op(path: str) -> str:
    """An operation name from a path template (no resource names: it labels metrics)."""
    return path.strip("/").removeprefix("providers/").replace("/", ".")


def list_subscriptions(http: AzureHttp) -> list[dict[str, Any]]:
    """Every subscription the agent can read (raises ApiError if the list itself fails)."""
    return http.list("arm", "/subscriptions", {"api-version": SUBSCRIPTIONS_API}, operation="ListSubscriptions")


def _with_details(
    http: AzureHttp, base: str, details: tuple[Detail, ...], op_prefix: str
) -> tuple[dict[str, Any], dict[str, str]]:
    attrs: dict[str, Any] = {}
    errs: dict[str, str] = {}
    for d in details:
        params = {"api-version": d.api_version}
        op = f"{op_prefix}.{_op(d.path)}" if op_prefix else _op(d.path)
        try:
            read = http.list if d.is_list else http.get
            attrs[d.attribute] = read("arm", base + d.path, params, operation=op)
        except ApiError as exc:
            errs[d.attribute] = f"{exc.code}: {exc.message}"
    return attrs, errs


def collect_subscription(
    http: AzureHttp, sub: dict[str, Any], table: tuple[ArmType, ...] = TABLE
) -> tuple[list[Resource], list[CollectionError]]:
    sid = str(sub.get("subscriptionId"))
    base = f"/subscriptions/{sid}"
    resources: list[Resource] = []
    errors: list[CollectionError] = []
    extra, errs = _with_details(http, base, SUBSCRIPTION_DETAILS, "")
    attrs = {k: sub.get(k) for k in ("subscriptionId", "displayName", "state", "tenantId")} | extra
    resources.append(
        Resource(
            provider="azure",
            account=sid,
            region="global",
            type=SUBSCRIPTION_TYPE,
            id=base,
            name=str(sub.get("displayName") or sid),
            attributes=attrs,
            errors=errs,
        )
    )
    ops = {row.type: _op(row.path) for row in table}
    observations = {row.type: validate_paths(row.observations) for row in table}
    for row in table:
        op = f"{ops[row.parent]}.{_op(row.path)}" if row.parent else ops[row.type]
        ops[row.type] = op
        # (region, path prefix) of each listing: the subscription, or each resource of the parent type
        scopes = [(r.region, r.id) for r in resources if r.type == row.parent] if row.parent else [("", base)]
        for scope_region, prefix in scopes:
            http.ctx.check_cancelled()
            try:
                items = http.list("arm", prefix + row.path, {"api-version": row.api_version}, operation=op)
            except ApiError as exc:
                errors.append(_error(op, exc, row.type, scope_region))
                continue
            for item in items:
                rid = str(item.get("id") or "")
                if not rid:
                    continue
                detail_attrs, detail_errs = _with_details(http, rid, row.details, op)
                region = "global" if row.global_ else str(item.get("location") or "global").lower()
                resources.append(
                    Resource(
                        provider="azure",
                        account=sid,
                        region=region,
                        type=row.type,
                        id=rid,
                        name=str(item.get("name") or rid.rsplit("/", 1)[-1]),
                        attributes=dict(item) | detail_attrs,
                        errors=detail_errs,
                        observations=observations[row.type],
                    )
                )
    return resources, errors

"""Azure Resource Manager: one snapshot per subscription, driven by a table of resource types.

Adding a resource type is a row: its type name, the provider path under the subscription, the
api-version, and any per-item detail reads (stored under their own attribute, or as an error there).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from agent.models import CollectionError, Resource
from collectors.azure.http import ApiError, AzureHttp

__all__ = ["SUBSCRIPTION_TYPE", "TABLE", "ArmType", "Detail", "collect_subscription", "list_subscriptions"]

SUBSCRIPTION_TYPE = "azure.subscription"
SUBSCRIPTIONS_API = "2022-12-01"


@dataclass(frozen=True)
class Detail:
    attribute: str  # where the answer is stored on the resource
    path: str  # appended to the resource id
    api_version: str
    is_list: bool = False


@dataclass(frozen=True)
class ArmType:
    type: str
    path: str  # under /subscriptions/{id}
    api_version: str
    details: tuple[Detail, ...] = ()
    global_: bool = False  # not a regional resource (no meaningful location)


TABLE: tuple[ArmType, ...] = (
    ArmType("azure.storage.account", "/providers/Microsoft.Storage/storageAccounts", "2023-01-01"),
    ArmType("azure.keyvault.vault", "/providers/Microsoft.KeyVault/vaults", "2023-07-01"),
    ArmType(
        "azure.sql.server",
        "/providers/Microsoft.Sql/servers",
        "2021-11-01",
        details=(
            Detail("AuditingSettings", "/auditingSettings/default", "2021-11-01"),
            Detail("FirewallRules", "/firewallRules", "2021-11-01", is_list=True),
        ),
    ),
    ArmType("azure.network.nsg", "/providers/Microsoft.Network/networkSecurityGroups", "2023-09-01"),
    ArmType("azure.security.pricing", "/providers/Microsoft.Security/pricings", "2024-01-01", global_=True),
)
# Subscription-level settings stored on the azure.subscription resource (activity log export).
SUBSCRIPTION_DETAILS: tuple[Detail, ...] = (
    Detail(
        "ActivityLogDiagnosticSettings",
        "/providers/Microsoft.Insights/diagnosticSettings",
        "2021-05-01-preview",
        is_list=True,
    ),
    Detail("LogProfiles", "/providers/Microsoft.Insights/logprofiles", "2016-03-01", is_list=True),
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
    return path.rstrip("/").rsplit("/providers/", 1)[-1].replace("/", ".")


def list_subscriptions(http: AzureHttp) -> list[dict[str, Any]]:
    """Every subscription the agent can read (raises ApiError if the list itself fails)."""
    return http.list(
        "arm", "/subscriptions", {"api-version": SUBSCRIPTIONS_API}, operation="ListSubscriptions"
    )


def _detail(http: AzureHttp, base: str, d: Detail) -> Any:
    if d.is_list:
        return http.list("arm", base + d.path, {"api-version": d.api_version}, operation=_op(base + d.path))
    return http.get("arm", base + d.path, {"api-version": d.api_version}, operation=_op(base + d.path))


def _with_details(
    http: AzureHttp, base: str, details: tuple[Detail, ...]
) -> tuple[dict[str, Any], dict[str, str]]:
    attrs: dict[str, Any] = {}
    errs: dict[str, str] = {}
    for d in details:
        try:
            attrs[d.attribute] = _detail(http, base, d)
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
    extra, errs = _with_details(http, base, SUBSCRIPTION_DETAILS)
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
    for row in table:
        http.ctx.check_cancelled()
        try:
            items = http.list(
                "arm", base + row.path, {"api-version": row.api_version}, operation=_op(row.path)
            )
        except ApiError as exc:
            errors.append(_error(_op(row.path), exc, row.type))
            continue
        for item in items:
            rid = str(item.get("id") or "")
            if not rid:
                continue
            detail_attrs, detail_errs = _with_details(http, rid, row.details)
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
                )
            )
    return resources, errors

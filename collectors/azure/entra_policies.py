"""Tenant-wide Entra policies (security defaults, Conditional Access, authorization and authentication
methods policies) and application registrations with their credentials."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from agent.models import CollectionError, Resource
from collectors.azure.entra_groups import err_text
from collectors.azure.http import ApiError, AzureHttp

__all__ = [
    "APP_TYPE",
    "applications",
    "authentication_methods_policy",
    "authorization_policy",
    "conditional_access",
    "methods_policy_groups",
    "referenced_groups",
    "security_defaults",
]

APP_TYPE = "azure.entra.application"
_AUTHZ_KEEP = (
    "allowInvitesFrom",
    "guestUserRoleId",
    "allowedToSignUpEmailBasedSubscriptions",
    "allowEmailVerifiedUsersToJoinOrganization",
    "blockMsolPowerShell",
    "allowUserConsentForRiskyApps",
)
_CRED_KEEP = ("keyId", "displayName", "startDateTime", "endDateTime", "type", "usage")


def security_defaults(http: AzureHttp) -> tuple[Any, str]:
    try:
        sd = http.get(
            "graph", "/v1.0/policies/identitySecurityDefaultsEnforcementPolicy", operation="GetSecurityDefaults"
        )
    except ApiError as exc:
        return None, err_text(exc)
    return {"isEnabled": (sd or {}).get("isEnabled")}, ""


def _trim_policy(p: Mapping[str, Any]) -> dict[str, Any]:
    grant = p.get("grantControls")
    if isinstance(grant, Mapping):
        grant = {k: v for k, v in grant.items() if "@odata" not in k}
    return {
        "id": p.get("id"),
        "displayName": p.get("displayName"),
        "state": p.get("state"),
        "conditions": p.get("conditions"),
        "grantControls": grant,
    }


def conditional_access(http: AzureHttp) -> tuple[list[dict[str, Any]] | None, str]:
    try:
        policies = http.list(
            "graph", "/v1.0/identity/conditionalAccess/policies", operation="ListConditionalAccessPolicies"
        )
    except ApiError as exc:
        return None, err_text(exc)
    return [_trim_policy(p) for p in policies], ""


def referenced_groups(policies: Iterable[Mapping[str, Any]]) -> set[str]:
    """Group ids that Conditional Access policies include or exclude."""
    found: set[str] = set()
    for p in policies:
        users = (p.get("conditions") or {}).get("users") or {}
        found |= {str(g) for g in [*(users.get("includeGroups") or []), *(users.get("excludeGroups") or [])]}
    return found


def authorization_policy(http: AzureHttp) -> tuple[Any, str]:
    try:
        body = http.get("graph", "/v1.0/policies/authorizationPolicy", operation="GetAuthorizationPolicy")
    except ApiError as exc:
        return None, err_text(exc)
    if isinstance(body, Mapping) and isinstance(body.get("value"), list):  # some tenants answer a collection
        body = (body["value"] or [{}])[0]
    body = body or {}
    out = {k: body.get(k) for k in _AUTHZ_KEEP if k in body}
    if "defaultUserRolePermissions" in body:
        out["defaultUserRolePermissions"] = body.get("defaultUserRolePermissions")
    return out, ""


def authentication_methods_policy(http: AzureHttp) -> tuple[Any, str]:
    try:
        body = http.get(
            "graph", "/v1.0/policies/authenticationMethodsPolicy", operation="GetAuthenticationMethodsPolicy"
        )
    except ApiError as exc:
        return None, err_text(exc)

    def targets(items: Any) -> list[dict[str, Any]]:
        return [{"targetType": t.get("targetType"), "id": t.get("id")} for t in items or []]

    configs = [
        {
            "id": c.get("id"),
            "state": c.get("state"),
            "includeTargets": targets(c.get("includeTargets")),
            "excludeTargets": targets(c.get("excludeTargets")),
        }
        for c in (body or {}).get("authenticationMethodConfigurations") or []
    ]
    return {
        "policyMigrationState": (body or {}).get("policyMigrationState"),
        "authenticationMethodConfigurations": configs,
    }, ""


def methods_policy_groups(policy: Mapping[str, Any] | None) -> set[str]:
    found: set[str] = set()
    for c in (policy or {}).get("authenticationMethodConfigurations") or []:
        for t in [*(c.get("includeTargets") or []), *(c.get("excludeTargets") or [])]:
            if t.get("id") and t.get("id") != "all_users":
                found.add(str(t["id"]))
    return found


def applications(http: AzureHttp, tenant: str) -> tuple[list[Resource], list[CollectionError]]:
    """App registrations with their secrets' and certificates' validity (no secret hint, no key)."""
    try:
        apps = http.list(
            "graph",
            "/v1.0/applications",
            {"$select": "id,appId,displayName,passwordCredentials,keyCredentials", "$top": "999"},
            operation="ListApplications",
        )
    except ApiError as exc:
        return [], [
            CollectionError(
                service="graph",
                operation="ListApplications",
                region="global",
                code=exc.code,
                message=exc.message or f"HTTP {exc.status}",
                resource_type=APP_TYPE,
            )
        ]
    resources = []
    for app in apps:
        oid = str(app.get("id"))
        attrs = {k: app.get(k) for k in ("id", "appId", "displayName")}
        for key in ("passwordCredentials", "keyCredentials"):
            attrs[key] = [{k: c.get(k) for k in _CRED_KEEP if k in c} for c in app.get(key) or []]
        resources.append(
            Resource(
                provider="azure",
                account=tenant,
                region="global",
                type=APP_TYPE,
                id=f"entra:{tenant}:application:{oid}",
                name=str(app.get("displayName") or app.get("appId") or oid),
                attributes=attrs,
            )
        )
    return resources, []

"""Microsoft Entra ID through Graph: one snapshot per tenant (users, their MFA and roles, policies)."""

from __future__ import annotations

from typing import Any

from agent.models import CollectionError, Resource
from collectors.azure.http import ApiError, AzureHttp

__all__ = ["TENANT_TYPE", "USER_TYPE", "collect_entra", "tenant_id_of", "user_id_of"]

USER_TYPE = "azure.entra.user"
TENANT_TYPE = "azure.entra.tenant"

_USER_FIELDS = "id,displayName,userPrincipalName,userType,accountEnabled,createdDateTime"
_REGISTRATION_KEEP = (
    "isMfaRegistered",
    "isMfaCapable",
    "isPasswordlessCapable",
    "isSsprRegistered",
    "methodsRegistered",
    "defaultMfaMethod",
    "isAdmin",
    "lastUpdatedDateTime",
)


def user_id_of(tenant: str, object_id: str) -> str:
    return f"entra:{tenant}:user:{object_id}"


def tenant_id_of(tenant: str) -> str:
    return f"entra:{tenant}:tenant"


def _error(op: str, exc: ApiError, rtype: str) -> CollectionError:
    return CollectionError(
        service="graph",
        operation=op,
        region="global",
        code=exc.code,
        message=exc.message or f"HTTP {exc.status}",
        resource_type=rtype,
    )


def _users(http: AzureHttp, errors: list[CollectionError]) -> tuple[list[dict[str, Any]] | None, str | None]:
    """Users with signInActivity when the tenant allows it; else without, and why."""
    try:
        return http.list(
            "graph",
            "/v1.0/users",
            {"$select": _USER_FIELDS + ",signInActivity", "$top": "999"},
            operation="ListUsers",
        ), None
    except ApiError as exc:
        if exc.status not in (400, 403):
            errors.append(_error("ListUsers", exc, USER_TYPE))
            return None, None
        why = f"{exc.code}: {exc.message}".strip()
    try:
        return http.list(
            "graph", "/v1.0/users", {"$select": _USER_FIELDS, "$top": "999"}, operation="ListUsers"
        ), why
    except ApiError as exc:
        errors.append(_error("ListUsers", exc, USER_TYPE))
        return None, None


def _roles(http: AzureHttp) -> dict[str, list[dict[str, str]]]:
    """principalId -> the directory roles assigned to it (name, template id, scope)."""
    definitions = {
        d.get("id"): d
        for d in http.list(
            "graph", "/v1.0/roleManagement/directory/roleDefinitions", operation="ListRoleDefinitions"
        )
    }
    held: dict[str, list[dict[str, str]]] = {}
    for a in http.list(
        "graph", "/v1.0/roleManagement/directory/roleAssignments", operation="ListRoleAssignments"
    ):
        d = definitions.get(a.get("roleDefinitionId")) or {}
        held.setdefault(str(a.get("principalId")), []).append(
            {
                "name": str(d.get("displayName") or a.get("roleDefinitionId")),
                "templateId": str(d.get("templateId") or a.get("roleDefinitionId") or ""),
                "scope": str(a.get("directoryScopeId") or "/"),
            }
        )
    return held


def collect_entra(http: AzureHttp, tenant: str) -> tuple[list[Resource], list[CollectionError]]:
    errors: list[CollectionError] = []
    resources: list[Resource] = []
    users, no_signin = _users(http, errors)

    registration: dict[str, dict[str, Any]] | None = None
    registration_error = ""
    try:
        rows = http.list(
            "graph",
            "/v1.0/reports/authenticationMethods/userRegistrationDetails",
            operation="ListUserRegistrationDetails",
        )
        registration = {str(r.get("id")): {k: r.get(k) for k in _REGISTRATION_KEEP if k in r} for r in rows}
    except ApiError as exc:
        registration_error = f"{exc.code}: {exc.message}"
    roles: dict[str, list[dict[str, str]]] | None = None
    roles_error = ""
    try:
        roles = _roles(http)
    except ApiError as exc:
        roles_error = f"{exc.code}: {exc.message}"

    for u in users or []:
        oid = str(u.get("id"))
        attrs = {
            k: u.get(k)
            for k in (
                "id",
                "displayName",
                "userPrincipalName",
                "userType",
                "accountEnabled",
                "createdDateTime",
            )
        }
        errs: dict[str, str] = {}
        if no_signin is None:
            attrs["SignInActivity"] = u.get("signInActivity") or {}
        else:
            errs["SignInActivity"] = no_signin
        if registration is not None:
            attrs["Registration"] = registration.get(oid)
        else:
            errs["Registration"] = registration_error
        if roles is not None:
            attrs["Roles"] = roles.get(oid, [])
        else:
            errs["Roles"] = roles_error
        resources.append(
            Resource(
                provider="azure",
                account=tenant,
                region="global",
                type=USER_TYPE,
                id=user_id_of(tenant, oid),
                name=str(u.get("userPrincipalName") or oid),
                attributes=attrs,
                errors=errs,
            )
        )

    tenant_attrs: dict[str, Any] = {"tenantId": tenant}
    tenant_errs: dict[str, str] = {}
    try:
        sd = http.get(
            "graph",
            "/v1.0/policies/identitySecurityDefaultsEnforcementPolicy",
            operation="GetSecurityDefaults",
        )
        tenant_attrs["SecurityDefaults"] = {"isEnabled": sd.get("isEnabled")}
    except ApiError as exc:
        tenant_errs["SecurityDefaults"] = f"{exc.code}: {exc.message}"
    try:
        tenant_attrs["ConditionalAccessPolicies"] = [
            {k: p.get(k) for k in ("id", "displayName", "state", "conditions", "grantControls")}
            for p in http.list(
                "graph",
                "/v1.0/identity/conditionalAccess/policies",
                operation="ListConditionalAccessPolicies",
            )
        ]
    except ApiError as exc:
        tenant_errs["ConditionalAccessPolicies"] = f"{exc.code}: {exc.message}"
    if roles is not None:
        tenant_attrs["RoleHolders"] = {pid: held for pid, held in sorted(roles.items())}
    else:
        tenant_errs["RoleHolders"] = roles_error
    resources.append(
        Resource(
            provider="azure",
            account=tenant,
            region="global",
            type=TENANT_TYPE,
            id=tenant_id_of(tenant),
            name=tenant,
            attributes=tenant_attrs,
            errors=tenant_errs,
        )
    )
    return resources, errors

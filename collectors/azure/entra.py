"""Microsoft Entra ID through Graph: one snapshot per tenant.

``azure.entra.user`` (sign-in activity, MFA capability, per-user MFA, every role held and how),
``azure.entra.tenant`` (security defaults, Conditional Access with the members of the groups it names,
authorization policy, every role assignment) and ``azure.entra.application`` (credential validity).
What a licence or permission withholds is recorded in ``Resource.errors``; the checks report it.
"""

from __future__ import annotations

from typing import Any

from agent.models import CollectionError, Resource
from collectors.azure.entra_auth import authentication_methods, per_user_mfa, registration
from collectors.azure.entra_groups import Groups
from collectors.azure.entra_policies import (
    APP_TYPE,
    applications,
    authentication_methods_policy,
    authorization_policy,
    conditional_access,
    methods_policy_groups,
    referenced_groups,
    security_defaults,
)
from collectors.azure.entra_roles import collect_roles
from collectors.azure.http import ApiError, AzureHttp

__all__ = ["APP_TYPE", "TENANT_TYPE", "USER_OBSERVATIONS", "USER_TYPE", "collect_entra", "tenant_id_of", "user_id_of"]

USER_TYPE = "azure.entra.user"
TENANT_TYPE = "azure.entra.tenant"
# a user's sign-ins (signInActivity) and the time the registration report row was refreshed
USER_OBSERVATIONS = (
    "Registration.lastUpdatedDateTime",
    "SignInActivity.lastNonInteractiveSignInDateTime",
    "SignInActivity.lastSignInDateTime",
    "SignInActivity.lastSuccessfulSignInDateTime",
)

_USER_FIELDS = "id,displayName,userPrincipalName,userType,accountEnabled,createdDateTime"
_USER_KEEP = ("id", "displayName", "userPrincipalName", "userType", "accountEnabled", "createdDateTime")
_SIGN_IN_KEEP = ("lastSignInDateTime", "lastNonInteractiveSignInDateTime", "lastSuccessfulSignInDateTime")
_PER_USER_OFF = "not read: per_user_mfa is false in the source configuration"


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
        return http.list("graph", "/v1.0/users", {"$select": _USER_FIELDS, "$top": "999"}, operation="ListUsers"), why
    except ApiError as exc:
        errors.append(_error("ListUsers", exc, USER_TYPE))
        return None, None


def collect_entra(
    http: AzureHttp, tenant: str, *, per_user_mfa_state: bool = True
) -> tuple[list[Resource], list[CollectionError]]:
    errors: list[CollectionError] = []
    users, no_signin = _users(http, errors)
    enabled = [str(u.get("id")) for u in users or [] if u.get("accountEnabled")]
    members = [str(u.get("id")) for u in users or [] if u.get("accountEnabled") and u.get("userType") != "Guest"]
    groups = Groups(http)
    roles = collect_roles(http, groups)
    report = registration(http)

    tenant_attrs: dict[str, Any] = {"tenantId": tenant}
    tenant_errs: dict[str, str] = {}

    def put(key: str, value: Any, why: str) -> None:
        if why:
            tenant_errs[key] = why
        else:
            tenant_attrs[key] = value

    put("SecurityDefaults", *security_defaults(http))
    policies, why = conditional_access(http)
    put("ConditionalAccessPolicies", policies, why)
    put("AuthorizationPolicy", *authorization_policy(http))
    wanted_groups = referenced_groups(policies or [])
    methods = None
    if report.licence_missing:  # no P1: derive capability from each user's methods and the policy
        methods_policy, why = authentication_methods_policy(http)
        put("AuthenticationMethodsPolicy", methods_policy, why)
        wanted_groups |= methods_policy_groups(methods_policy)
        methods = authentication_methods(http, members)  # a guest's methods live in their home tenant
    group_members, why = groups.attribute(wanted_groups)
    put("GroupMembers", group_members, "")
    if why:
        tenant_errs["GroupMembers"] = why
    put("RoleAssignments", roles.assignments, roles.error)
    for key, why in (
        ("EligibleRoles", roles.eligible_error),
        ("RoleSchedules", roles.schedules_error),
        ("RoleGroups", roles.group_error),
    ):
        if why:
            tenant_errs[key] = why
    mfa_state = per_user_mfa(http, enabled) if per_user_mfa_state else None

    resources: list[Resource] = []
    for u in users or []:
        oid = str(u.get("id"))
        attrs: dict[str, Any] = {k: u.get(k) for k in _USER_KEEP}
        errs: dict[str, str] = {}
        if no_signin is None:
            activity = u.get("signInActivity") or {}
            attrs["SignInActivity"] = {k: activity.get(k) for k in _SIGN_IN_KEEP}
        else:
            errs["SignInActivity"] = no_signin
        if report.rows is not None:
            attrs["Registration"] = report.rows.get(oid)
        else:
            errs["Registration"] = report.error
        if methods is not None and oid in methods.values:
            attrs["AuthenticationMethods"] = methods.values[oid]
        elif methods is not None:
            errs["AuthenticationMethods"] = methods.errors.get(oid, "not read (disabled account or guest)")
        # a role-holding group whose members are unknown could hold anyone: nobody's roles are complete
        if roles.error or roles.group_error:
            errs["Roles"] = roles.error or roles.group_error
        else:
            attrs["Roles"] = roles.active.get(oid, [])
        if roles.error or roles.group_error or roles.eligible is None:
            errs["EligibleRoles"] = roles.error or roles.group_error or roles.eligible_error
        else:
            attrs["EligibleRoles"] = roles.eligible.get(oid, [])
        if roles.schedules_error:
            errs["RoleSchedules"] = roles.schedules_error
        if mfa_state is None:
            errs["PerUserMfa"] = _PER_USER_OFF
        elif oid in mfa_state.values:
            attrs["PerUserMfa"] = mfa_state.values[oid]
        else:
            errs["PerUserMfa"] = mfa_state.errors.get(oid, "not read (account disabled)")
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
                observations=USER_OBSERVATIONS,
            )
        )
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
    apps, app_errors = applications(http, tenant)
    return resources + apps, errors + app_errors

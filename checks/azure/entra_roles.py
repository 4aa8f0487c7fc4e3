"""Privileged directory roles: how many Global Administrators, standing vs just-in-time access, and
service principals (apps) holding admin roles."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from agent.models import Resource
from checks.azure._entra import TENANT_TYPE, USER_TYPE, is_break_glass, summarise
from checks.azure._util import PRIVILEGED_ROLE_TEMPLATES, parse_time, privileged_roles, user_label
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

DOCS = "https://learn.microsoft.com/entra/identity/"
GLOBAL_ADMIN = "62e90394-69f5-4237-9190-012177145e10"
_ASSIGNMENTS = "GET /v1.0/roleManagement/directory/roleAssignments?$expand=principal: roleDefinitionId, principal"
_GROUPS = "GET /v1.0/groups/{id}/transitiveMembers: id, @odata.type (role-assignable groups)"
_SCHEDULES = (
    "GET /v1.0/roleManagement/directory/roleAssignmentScheduleInstances?$expand=principal: "
    "startDateTime, endDateTime, assignmentType"
)
_ELIGIBLE = "GET /v1.0/roleManagement/directory/roleEligibilityScheduleInstances?$expand=principal: endDateTime"
_NEEDS = "RoleManagement.Read.Directory, GroupMember.Read.All (Graph, application)"


@check(
    id="azure.entra.global_admin_count",
    title="Between 2 and 4 users hold Global Administrator actively (directly or through a group)",
    severity=Severity.MEDIUM,
    resource_type=TENANT_TYPE,
    requires=(USER_TYPE,),
    rationale=(
        "Every Global Administrator can take over the tenant, so fewer is safer; but one alone is a single "
        "point of failure. Microsoft recommends fewer than five, with two emergency accounts."
    ),
    remediation=Remediation(
        console=(
            "Entra admin center > Roles & admins > Global Administrator > Assignments: remove the role from users "
            "who do not need it (give them a narrower role, or make them eligible in PIM); if only one holder "
            "remains, add a second (e.g. a break-glass account)."
        ),
        cli='az rest --method GET --url "https://graph.microsoft.com/v1.0/roleManagement/directory/'
        "roleAssignments?$filter=roleDefinitionId eq '62e90394-69f5-4237-9190-012177145e10'&$expand=principal\"",
        docs=DOCS + "role-based-access-control/best-practices",
    ),
    params={"min": 2, "max": 4},
    reads=(_ASSIGNMENTS, _GROUPS, "GET /v1.0/users: accountEnabled, userPrincipalName"),
    needs=_NEEDS,
)
def global_admin_count(tenant: Resource, ctx: Context) -> Verdict:
    low, high = int(ctx.params.get("min", 2)), int(ctx.params.get("max", 4))
    holders = []
    for user in ctx.snapshot.of_type(USER_TYPE):
        roles = need(user, "Roles") or []
        if user.attributes.get("accountEnabled") and any(
            str(r.get("templateId") or "").lower() == GLOBAL_ADMIN for r in roles
        ):
            holders.append(user_label(user))
    names = ", ".join(sorted(holders)) or "none"
    if len(holders) < low:
        return failed(
            f"only {len(holders)} enabled user(s) hold Global Administrator actively ({names}); "
            f"at least {low} are needed so the tenant is never locked out"
        )
    if len(holders) > high:
        return failed(f"{len(holders)} enabled users hold Global Administrator actively, more than {high}: {names}")
    return passed(f"{len(holders)} enabled users hold Global Administrator actively ({names})")


def _until(role: Mapping[str, Any]) -> str:
    end = parse_time(role.get("endDateTime"))
    return f"until {end.date()}" if end else "permanently"


@check(
    id="azure.entra.privileged_roles_pim",
    title="Privileged directory roles are held just in time (PIM eligible or time-bound), not permanently",
    severity=Severity.MEDIUM,
    resource_type=USER_TYPE,
    rationale=(
        "A permanently active admin role is usable by anyone who steals the account, at any hour. With PIM the "
        "role is eligible and activated for hours with MFA and a reason; only break-glass accounts stay active."
    ),
    remediation=Remediation(
        console=(
            "Entra admin center > Identity governance > Privileged Identity Management > Microsoft Entra roles > "
            "Assignments > Active assignments: for each permanent privileged assignment choose Update and make "
            "it Eligible (or set an end date). Requires Microsoft Entra ID P2."
        ),
        cli='az rest --method GET --url "https://graph.microsoft.com/v1.0/roleManagement/directory/'
        'roleAssignmentScheduleInstances?$expand=principal"',
        docs=DOCS + "../id-governance/privileged-identity-management/pim-configure",
    ),
    params={"break_glass": [], "extra_roles": []},
    reads=(_ASSIGNMENTS, _SCHEDULES, _ELIGIBLE, _GROUPS),
    needs=_NEEDS + "; Microsoft Entra ID P2 (PIM) for the schedule instances",
)
def privileged_roles_pim(user: Resource, ctx: Context) -> Verdict:
    extra = ctx.params.get("extra_roles") or ()
    active = [r for r in need(user, "Roles") or [] if privileged_roles([r], extra)]
    if not active:
        eligible = [r for r in user.attributes.get("EligibleRoles") or [] if privileged_roles([r], extra)]
        if eligible:
            names = ", ".join(privileged_roles(eligible, extra))
            return passed(f"user {user_label(user)} holds {names} only as eligible (PIM)")
        return not_applicable(f"user {user_label(user)} holds no active privileged directory role")
    if is_break_glass(user, ctx.params.get("break_glass") or []):
        return not_applicable(f"user {user_label(user)} is a break-glass account named in the check's parameters")
    if any(r.get("permanent") is None for r in active):
        why = user.errors.get("RoleSchedules", "assignment schedules were not collected")
        raise MissingInput(
            f"whether the roles of {user_label(user)} are permanent is unknown: {why} "
            "(role assignment schedules need Microsoft Entra ID P2)"
        )
    standing = [r for r in active if r.get("permanent")]
    if standing:
        held = [
            f"{r.get('name')} ({'via group ' + r['group'].get('displayName', '') if r.get('group') else 'direct'})"
            for r in standing
        ]
        return failed(f"user {user_label(user)} holds {', '.join(sorted(set(held)))} permanently active")
    return passed(
        f"user {user_label(user)} holds its privileged roles time-bound "
        f"({', '.join(sorted({str(r.get('name')) + ' ' + _until(r) for r in active}))})"
    )


def _allowed(principal: Mapping[str, Any], allow: set[str]) -> bool:
    keys = {str(principal.get(k) or "").lower() for k in ("id", "appId", "displayName")}
    return bool(keys & allow)


@check(
    id="azure.entra.sp_no_privileged_role",
    title="No service principal (application) holds a privileged directory role, except allowed ones",
    severity=Severity.HIGH,
    resource_type=TENANT_TYPE,
    rationale=(
        "An app with a privileged role signs in with a secret or certificate, without MFA or Conditional "
        "Access for users; whoever holds its credential is an administrator. Allow only reviewed exceptions."
    ),
    remediation=Remediation(
        console=(
            "Entra admin center > Roles & admins > select the role > Assignments: find service principals, "
            "remove the role, and grant the app the narrowest Graph application permission it needs instead."
        ),
        cli='az rest --method GET --url "https://graph.microsoft.com/v1.0/roleManagement/directory/'
        'roleAssignments?$expand=principal"',
        docs=DOCS + "role-based-access-control/security-planning",
    ),
    params={"allowed": [], "extra_roles": []},
    reads=(_ASSIGNMENTS, _ELIGIBLE, _GROUPS),
    needs=_NEEDS,
)
def sp_no_privileged_role(tenant: Resource, ctx: Context) -> Verdict:
    assignments = need(tenant, "RoleAssignments") or []
    for key in ("RoleGroups", "EligibleRoles"):  # an unread group or eligibility could hide an app
        if key in tenant.errors:
            raise MissingInput(f"role holders incomplete: {tenant.errors[key]}")
    allow = {str(a).lower() for a in ctx.params.get("allowed") or []}
    extra = ctx.params.get("extra_roles") or ()
    found: dict[str, set[str]] = {}
    for a in assignments:
        if not privileged_roles([a], extra):
            continue
        principal = a.get("principal") or {}
        role = PRIVILEGED_ROLE_TEMPLATES.get(str(a.get("templateId") or "").lower(), str(a.get("name")))
        sps = [(principal, "direct")] if principal.get("type") == "servicePrincipal" else []
        sps += [
            (m, f"via group {principal.get('displayName')}")
            for m in a.get("members") or []
            if m.get("type") == "servicePrincipal"
        ]
        for sp, how in sps:
            if not _allowed(sp, allow):
                who = f"'{sp.get('displayName') or sp.get('id')}' (appId {sp.get('appId') or '?'})"
                found.setdefault(who, set()).add(f"{role}, {a.get('assignment', 'active')}, {how}")
    if found:
        items = [(who, "; ".join(sorted(roles))) for who, roles in sorted(found.items())]
        return failed(f"{len(found)} service principal(s) hold privileged directory roles: {summarise(items)}")
    return passed(
        f"no service principal holds a privileged directory role ({len(assignments)} assignments read"
        + (f", {len(allow)} allowed by parameter)" if allow else ")")
    )

"""Microsoft Entra ID users: a usable second factor, privileged roles, guests, unused accounts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from agent.models import Resource
from checks.azure._entra import TENANT_TYPE, capability, holdings
from checks.azure._util import days_since, is_enabled_member, parse_time, privileged_roles, user_label
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
_REPORT = "GET /v1.0/reports/authenticationMethods/userRegistrationDetails: isMfaCapable"
_FALLBACK = (
    "GET /v1.0/users/{id}/authentication/methods: @odata.type (only without Entra ID P1)",
    "GET /v1.0/policies/authenticationMethodsPolicy: authenticationMethodConfigurations (only without P1)",
)
_ROLES = (
    "GET /v1.0/roleManagement/directory/roleAssignments?$expand=principal: roleDefinitionId, principal",
    "GET /v1.0/roleManagement/directory/roleEligibilityScheduleInstances?$expand=principal: roleDefinitionId",
    "GET /v1.0/groups/{id}/transitiveMembers: id (groups holding roles)",
)
_MFA_NEEDS = (
    "AuditLog.Read.All (Graph, application) and Microsoft Entra ID P1 for the registration report; "
    "without P1: UserAuthenticationMethod.Read.All and Policy.Read.All"
)


def _tenant(ctx: Context) -> Resource | None:
    found = ctx.snapshot.of_type(TENANT_TYPE)
    return found[0] if found else None


def _all_roles(user: Resource, extra: Any = ()) -> list[Mapping[str, Any]]:
    """Active and eligible holdings; eligible ones count: a PIM-eligible admin can activate at will.
    Unknown eligibility matters only when the active roles hold nothing privileged."""
    active = need(user, "Roles") or []
    eligible = holdings(user, "EligibleRoles")
    if eligible is None:
        if privileged_roles(active, extra):
            return list(active)
        raise MissingInput(f"eligible (PIM) roles {user.errors.get('EligibleRoles', 'were not collected')}")
    return [*active, *eligible]


def _how_held(roles: list[Mapping[str, Any]], names: list[str]) -> str:
    parts = []
    for role in roles:
        if role.get("name") in names or role.get("templateId") in names:
            via = f"via group {role['group'].get('displayName')}" if role.get("group") else "directly"
            parts.append(f"{role.get('name')} ({role.get('assignment', 'active')}, {via})")
    return ", ".join(sorted(set(parts))) or ", ".join(names)


@check(
    id="azure.entra.user_mfa_registered",
    title="Enabled Entra ID member users can perform multi-factor authentication (a usable method registered)",
    severity=Severity.HIGH,
    resource_type="azure.entra.user",
    rationale=(
        "A password alone can be phished, sprayed or reused from another breach. A second factor only helps "
        "if the user has registered one the authentication methods policy still allows."
    ),
    remediation=Remediation(
        console=(
            "1. In the Microsoft Entra admin center open Protection > Authentication methods > User "
            "registration details and filter on 'Multifactor authentication capable: Not capable'.\n"
            "2. Ask each user to register an allowed method at https://aka.ms/mysecurityinfo, or enable the "
            "registration campaign; check that the methods they registered are enabled in the policy.\n"
            "3. Require MFA with security defaults or a Conditional Access policy."
        ),
        cli="az rest --method GET --url https://graph.microsoft.com/v1.0/reports/authenticationMethods/"
        'userRegistrationDetails --query "value[?!isMfaCapable].userPrincipalName"',
        docs=DOCS + "authentication/howto-authentication-methods-activity",
    ),
    reads=("GET /v1.0/users: accountEnabled, userType", _REPORT, *_FALLBACK),
    needs=_MFA_NEEDS,
)
def user_mfa_registered(user: Resource, ctx: Context) -> Verdict:
    if not user.attributes.get("accountEnabled"):
        return not_applicable(f"user {user_label(user)} is disabled")
    if not is_enabled_member(user):
        return not_applicable(
            f"user {user_label(user)} is a guest: their methods live in their home tenant; whether their sign-in "
            "here requires MFA is evidenced by azure.entra.user_mfa_required"
        )
    capable, source = capability(user, _tenant(ctx))
    if capable:
        return passed(f"user {user_label(user)} can perform MFA (per the {source})")
    return failed(f"user {user_label(user)} can sign in and cannot perform MFA (per the {source})")


@check(
    id="azure.entra.privileged_user_mfa",
    title="Holders of privileged Entra ID roles (active or PIM-eligible, direct or by group) can perform MFA",
    severity=Severity.CRITICAL,
    resource_type="azure.entra.user",
    rationale=(
        "An administrator account without a usable second factor is the shortest path to taking over the whole "
        "tenant. Roles held through a role-assignable group or eligible in PIM are just as powerful."
    ),
    remediation=Remediation(
        console=(
            "1. In the Entra admin center open Roles & admins and select the role "
            "(e.g. Global Administrator); check Assignments > Eligible and Active, and the groups listed.\n"
            "2. For each holder who cannot perform MFA, have them register an allowed method at "
            "https://aka.ms/mysecurityinfo before their next sign-in, or remove the role.\n"
            "3. Add a Conditional Access policy that requires MFA (ideally phishing-resistant) for "
            "directory roles."
        ),
        cli='az rest --method GET --url "https://graph.microsoft.com/v1.0/roleManagement/directory/'
        'roleAssignments?$expand=principal"',
        docs=DOCS + "role-based-access-control/security-planning",
    ),
    params={"extra_roles": []},
    reads=(*_ROLES, _REPORT, *_FALLBACK),
    needs="RoleManagement.Read.Directory, GroupMember.Read.All; "
    + _MFA_NEEDS
    + "; Microsoft Entra ID P2 for eligible (PIM) roles",
)
def privileged_user_mfa(user: Resource, ctx: Context) -> Verdict:
    extra = ctx.params.get("extra_roles") or ()
    roles = _all_roles(user, extra)
    held = privileged_roles(roles, extra)
    if not held:
        return not_applicable(f"user {user_label(user)} holds no privileged directory role")
    how = _how_held(roles, held)
    if not user.attributes.get("accountEnabled"):
        return passed(f"user {user_label(user)} holds {how} but the account is disabled")
    capable, source = capability(user, _tenant(ctx))
    if capable:
        return passed(f"user {user_label(user)} holds {how} and can perform MFA (per the {source})")
    return failed(f"user {user_label(user)} holds {how} and cannot perform MFA (per the {source})")


@check(
    id="azure.entra.guest_no_privileged_role",
    title="Guest users hold no privileged Entra ID directory role (active or eligible)",
    severity=Severity.HIGH,
    resource_type="azure.entra.user",
    rationale=(
        "A guest's password, MFA and offboarding are controlled by another organisation. Administrative "
        "roles belong to accounts your own joiner-mover-leaver process governs."
    ),
    remediation=Remediation(
        console=(
            "1. In the Entra admin center open Users, filter User type = Guest, and open the guest.\n"
            "2. Under Assigned roles remove every administrative role (active and eligible), and remove the "
            "guest from role-assignable groups.\n"
            "3. If the person needs admin rights, give them a member account in this tenant."
        ),
        cli="az rest --method DELETE --url https://graph.microsoft.com/v1.0/roleManagement/directory/"
        "roleAssignments/<assignment-id>",
        docs=DOCS + "users/users-restrict-guest-permissions",
    ),
    reads=("GET /v1.0/users: userType", *_ROLES),
    needs="User.Read.All, RoleManagement.Read.Directory, GroupMember.Read.All; Entra ID P2 for eligible roles",
)
def guest_no_privileged_role(user: Resource, ctx: Context) -> Verdict:
    if str(user.attributes.get("userType") or "Member") != "Guest":
        return not_applicable(f"user {user_label(user)} is a member, not a guest")
    roles = _all_roles(user)
    held = privileged_roles(roles)
    if held:
        return failed(f"guest {user_label(user)} holds privileged role(s): {_how_held(roles, held)}")
    return passed(f"guest {user_label(user)} holds no privileged directory role")


def _last_success(user: Resource) -> Any:
    try:
        activity = need(user, "SignInActivity") or {}
    except MissingInput as exc:
        raise MissingInput(f"{exc} (signInActivity needs AuditLog.Read.All and Microsoft Entra ID P1)") from None
    value = activity.get("lastSuccessfulSignInDateTime")
    try:
        return parse_time(value)
    except ValueError as exc:
        raise MissingInput(f"signInActivity.lastSuccessfulSignInDateTime is not a date: {value!r}") from exc


@check(
    id="azure.entra.user_inactive_90d",
    title="Enabled Entra ID accounts have signed in successfully within the last 90 days",
    severity=Severity.MEDIUM,
    resource_type="azure.entra.user",
    rationale=(
        "Accounts nobody uses belong to leavers, old projects or forgotten guests, and nobody notices when "
        "they are taken over. Failed attempts (password spraying) do not make an account active."
    ),
    remediation=Remediation(
        console=(
            "1. In the Entra admin center open Users, add the 'Last successful sign-in' column and sort by it.\n"
            "2. Confirm with the manager or sponsor that the account is no longer needed.\n"
            "3. Block sign-in (Account enabled: No), then delete it after your retention period; consider "
            "access reviews for inactive users and guests."
        ),
        cli="az ad user update --id <user-principal-name> --account-enabled false",
        docs=DOCS + "monitoring-health/howto-manage-inactive-user-accounts",
    ),
    params={"days": 90},
    reads=(
        "GET /v1.0/users?$select=signInActivity: accountEnabled, createdDateTime, "
        "signInActivity.lastSuccessfulSignInDateTime",
    ),
    needs="User.Read.All, AuditLog.Read.All (Graph, application); Microsoft Entra ID P1 for signInActivity",
)
def user_inactive_90d(user: Resource, ctx: Context) -> Verdict:
    days = int(ctx.params.get("days", 90))
    if not user.attributes.get("accountEnabled"):
        return not_applicable(f"user {user_label(user)} is disabled")
    last = _last_success(user)
    if last is not None:
        age = days_since(last, ctx.now)
        if age < days:
            return passed(
                f"user {user_label(user)} signed in successfully in the last {days} days",
                observed=f"last successful sign-in {last.isoformat()}",
            )
        return failed(
            f"user {user_label(user)} is enabled and last signed in successfully on {last.date()}, "
            f"{days} or more days ago"
        )
    try:
        created = parse_time(user.attributes.get("createdDateTime"))
    except ValueError:
        created = None
    if created is not None and days_since(created, ctx.now) < days:
        return passed(
            f"user {user_label(user)} was created on {created.date()}, less than {days} days ago, not used yet"
        )
    return failed(
        f"user {user_label(user)} is enabled and has no successful sign-in recorded "
        "(Entra records successful sign-ins since December 2023)"
    )

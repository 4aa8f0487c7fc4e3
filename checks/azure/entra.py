"""Microsoft Entra ID: MFA coverage, privileged roles, guests, unused accounts, tenant MFA policy."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from agent.models import Resource
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


def _registration(user: Resource) -> Mapping[str, Any]:
    reg = need(user, "Registration")
    if not isinstance(reg, Mapping):
        raise MissingInput(
            f"user {user_label(user)} has no row in the authentication-methods registration report"
        )
    return reg


def _mfa_registered(user: Resource) -> bool:
    reg = _registration(user)
    if "isMfaRegistered" not in reg:
        raise MissingInput(f"registration details of {user_label(user)} lack isMfaRegistered")
    return bool(reg["isMfaRegistered"])


@check(
    id="azure.entra.user_mfa_registered",
    title="Enabled Entra ID member users have registered a multi-factor authentication method",
    severity=Severity.HIGH,
    resource_type="azure.entra.user",
    rationale=(
        "A password alone can be phished, sprayed or reused from another breach. Every person who can "
        "sign in to the tenant needs a second factor registered before MFA can be required of them."
    ),
    remediation=Remediation(
        console=(
            "1. In the Microsoft Entra admin center open Protection > Authentication methods > User "
            "registration details and filter on 'Multifactor authentication capable: Not capable'.\n"
            "2. Ask each user to register at https://aka.ms/mysecurityinfo, or enable the registration "
            "campaign / an MFA registration policy.\n"
            "3. Require MFA with security defaults or a Conditional Access policy."
        ),
        cli="az rest --method GET --url https://graph.microsoft.com/v1.0/reports/authenticationMethods/"
        'userRegistrationDetails --query "value[?!isMfaRegistered].userPrincipalName"',
        docs=DOCS + "authentication/howto-registration-mfa-sspr-combined",
    ),
)
def user_mfa_registered(user: Resource, ctx: Context) -> Verdict:
    if not is_enabled_member(user):
        kind = (
            "disabled"
            if not user.attributes.get("accountEnabled")
            else "a guest (MFA is their home tenant's)"
        )
        return not_applicable(f"user {user_label(user)} is {kind}")
    if _mfa_registered(user):
        return passed(f"user {user_label(user)} has an MFA method registered")
    return failed(f"user {user_label(user)} can sign in and has no MFA method registered")


@check(
    id="azure.entra.privileged_user_mfa",
    title="Holders of privileged Entra ID roles (Global Administrator etc.) have MFA registered",
    severity=Severity.CRITICAL,
    resource_type="azure.entra.user",
    rationale=(
        "An administrator account without a second factor is the shortest path to taking over the whole "
        "tenant, its users and every subscription that trusts it."
    ),
    remediation=Remediation(
        console=(
            "1. In the Entra admin center open Roles & admins and select the role "
            "(e.g. Global Administrator).\n"
            "2. For each holder without MFA, have them register a method at https://aka.ms/mysecurityinfo "
            "before their next sign-in, or remove the role.\n"
            "3. Add a Conditional Access policy that requires MFA (ideally phishing-resistant) for "
            "directory roles."
        ),
        cli='az rest --method GET --url "https://graph.microsoft.com/v1.0/roleManagement/directory/'
        'roleAssignments?$expand=principal"',
        docs=DOCS + "role-based-access-control/security-planning",
    ),
    params={"extra_roles": []},
)
def privileged_user_mfa(user: Resource, ctx: Context) -> Verdict:
    roles = need(user, "Roles") or []
    held = privileged_roles(roles, ctx.params.get("extra_roles") or ())
    if not held:
        return not_applicable(f"user {user_label(user)} holds no privileged directory role")
    if not user.attributes.get("accountEnabled"):
        return passed(f"user {user_label(user)} holds {', '.join(held)} but the account is disabled")
    if _mfa_registered(user):
        return passed(f"user {user_label(user)} holds {', '.join(held)} and has MFA registered")
    return failed(f"user {user_label(user)} holds {', '.join(held)} and has no MFA method registered")


@check(
    id="azure.entra.guest_no_privileged_role",
    title="Guest users hold no privileged Entra ID directory role",
    severity=Severity.HIGH,
    resource_type="azure.entra.user",
    rationale=(
        "A guest's password, MFA and offboarding are controlled by another organisation. Administrative "
        "roles belong to accounts your own joiner-mover-leaver process governs."
    ),
    remediation=Remediation(
        console=(
            "1. In the Entra admin center open Users, filter User type = Guest, and open the guest.\n"
            "2. Under Assigned roles remove every administrative role.\n"
            "3. If the person needs admin rights, give them a member account in this tenant."
        ),
        cli="az rest --method DELETE --url https://graph.microsoft.com/v1.0/roleManagement/directory/"
        "roleAssignments/<assignment-id>",
        docs=DOCS + "users/users-restrict-guest-permissions",
    ),
)
def guest_no_privileged_role(user: Resource, ctx: Context) -> Verdict:
    if str(user.attributes.get("userType") or "Member") != "Guest":
        return not_applicable(f"user {user_label(user)} is a member, not a guest")
    held = privileged_roles(need(user, "Roles") or [])
    if held:
        return failed(f"guest {user_label(user)} holds privileged role(s): {', '.join(held)}")
    return passed(f"guest {user_label(user)} holds no privileged directory role")


def _last_sign_in(user: Resource) -> Any:
    activity = need(user, "SignInActivity") or {}
    dates = []
    for key in ("lastSignInDateTime", "lastNonInteractiveSignInDateTime", "lastSuccessfulSignInDateTime"):
        try:
            dates.append(parse_time(activity.get(key)))
        except ValueError as exc:
            raise MissingInput(f"signInActivity.{key} is not a date: {activity.get(key)!r}") from exc
    known = [d for d in dates if d is not None]
    return max(known) if known else None


@check(
    id="azure.entra.user_inactive_90d",
    title="Enabled Entra ID accounts have signed in within the last 90 days",
    severity=Severity.MEDIUM,
    resource_type="azure.entra.user",
    rationale=(
        "Accounts nobody uses belong to leavers, old projects or forgotten guests, and nobody notices when "
        "they are taken over. Disabling them is part of every access review."
    ),
    remediation=Remediation(
        console=(
            "1. In the Entra admin center open Users, add the 'Last sign-in' column and sort by it.\n"
            "2. Confirm with the manager or sponsor that the account is no longer needed.\n"
            "3. Block sign-in (Account enabled: No), then delete it after your retention period; consider "
            "access reviews for inactive users and guests."
        ),
        cli="az ad user update --id <user-principal-name> --account-enabled false",
        docs=DOCS + "monitoring-health/howto-manage-inactive-user-accounts",
    ),
    params={"days": 90},
)
def user_inactive_90d(user: Resource, ctx: Context) -> Verdict:
    days = int(ctx.params.get("days", 90))
    if not user.attributes.get("accountEnabled"):
        return not_applicable(f"user {user_label(user)} is disabled")
    last = _last_sign_in(user)
    if last is not None:
        age = days_since(last, ctx.now)
        if age < days:
            return passed(f"user {user_label(user)} signed in {age} days ago")
        return failed(f"user {user_label(user)} is enabled and last signed in {age} days ago ({last.date()})")
    try:
        created = parse_time(user.attributes.get("createdDateTime"))
    except ValueError:
        created = None
    if created is not None and days_since(created, ctx.now) < days:
        return passed(
            f"user {user_label(user)} was created {days_since(created, ctx.now)} days ago, not used yet"
        )
    return failed(f"user {user_label(user)} is enabled and has no sign-in recorded in {days}+ days")


# -- tenant ------------------------------------------------------------------------------------------


def _requires_mfa_for_all(policy: Mapping[str, Any]) -> bool:
    if str(policy.get("state") or "") != "enabled":
        return False
    cond = policy.get("conditions") or {}
    users = cond.get("users") or {}
    apps = cond.get("applications") or {}
    grant = policy.get("grantControls") or {}
    all_users = "All" in (users.get("includeUsers") or [])
    all_apps = "All" in (apps.get("includeApplications") or [])
    controls = [str(c).lower() for c in grant.get("builtInControls") or []]
    mfa = "mfa" in controls or bool(grant.get("authenticationStrength"))
    if (
        str(grant.get("operator") or "OR").upper() == "OR"
        and len(controls) > 1
        and not grant.get("authenticationStrength")
    ):
        mfa = False  # "MFA or compliant device" does not require MFA
    return all_users and all_apps and mfa


@check(
    id="azure.entra.tenant_mfa_enforced",
    title="The tenant requires MFA for all users (security defaults or Conditional Access)",
    severity=Severity.HIGH,
    resource_type="azure.entra.tenant",
    rationale=(
        "Registering a second factor only helps if sign-in demands it. Security defaults, or an enabled "
        "Conditional Access policy requiring MFA for all users and all cloud apps, make it mandatory."
    ),
    remediation=Remediation(
        console=(
            "1. Without Entra ID P1: open Entra admin center > Overview > Properties > Manage security "
            "defaults and set them to Enabled.\n"
            "2. With P1/P2: open Protection > Conditional Access > Create new policy from template "
            "'Require multifactor authentication for all users', exclude only break-glass accounts, "
            "and set it to On."
        ),
        cli="az rest --method PATCH --url https://graph.microsoft.com/v1.0/policies/"
        "identitySecurityDefaultsEnforcementPolicy --body '{\"isEnabled\": true}'",
        docs=DOCS + "conditional-access/policy-all-users-mfa-strength",
    ),
)
def tenant_mfa_enforced(tenant: Resource, ctx: Context) -> Verdict:
    problems: list[str] = []
    try:
        sd = need(tenant, "SecurityDefaults") or {}
        if sd.get("isEnabled") is True:
            return passed("security defaults are enabled: every user must register and use MFA")
    except MissingInput as exc:
        problems.append(f"security defaults unknown ({exc})")
    try:
        policies = need(tenant, "ConditionalAccessPolicies") or []
    except MissingInput as exc:
        problems.append(f"Conditional Access policies unknown ({exc})")
        raise MissingInput("; ".join(problems)) from None
    names = [str(p.get("displayName") or p.get("id")) for p in policies if _requires_mfa_for_all(p)]
    if names:
        return passed(f"Conditional Access policy {names[0]!r} requires MFA for all users and apps")
    if problems:
        raise MissingInput("; ".join(problems) + "; no Conditional Access policy requires MFA for all users")
    return failed(
        "security defaults are off and no enabled Conditional Access policy requires MFA for all users "
        f"and all apps ({len(policies)} policies read)"
    )

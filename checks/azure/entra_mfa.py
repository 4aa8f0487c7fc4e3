"""Does sign-in require MFA? For each user (members and guests), for the whole tenant, and for
Azure management."""

from __future__ import annotations

import checks.azure._ca as _ca
from agent.models import Resource
from checks.azure._entra import TENANT_TYPE, USER_TYPE, mfa_decision, tenant_of
from checks.azure._entra_tenant import (
    DOCS,
    NEEDS,
    READS_CA,
    READS_GROUPS,
    READS_PER_USER,
    READS_ROLES,
    READS_SD,
    READS_USERS,
    tenant_mfa_verdict,
)
from checks.azure._util import user_label
from checks.base import Context, MissingInput, Remediation, Severity, Verdict, check, failed, not_applicable, passed

_TEMPLATE_FIX = Remediation(
    console=(
        "1. Without Entra ID P1: Entra admin center > Overview > Properties > Manage security defaults > Enabled.\n"
        "2. With P1/P2: Protection > Conditional Access > Create new policy from template 'Require multifactor "
        "authentication for all users': Users: All users, exclude only your two break-glass accounts; Target "
        "resources: All cloud apps, no exclusions; no conditions; Grant: Require multifactor authentication "
        "(or an authentication strength) alone; Enable policy: On (not Report-only).\n"
        "3. Remove 'OR compliant device' alternatives and risk/location/platform conditions from that policy."
    ),
    cli="az rest --method GET --url https://graph.microsoft.com/v1.0/identity/conditionalAccess/policies",
    docs=DOCS + "conditional-access/policy-all-users-mfa-strength",
)


@check(
    id="azure.entra.user_mfa_required",
    title="Sign-in of each enabled Entra ID user (members and guests) requires MFA",
    severity=Severity.HIGH,
    resource_type=USER_TYPE,
    requires=(TENANT_TYPE,),
    rationale=(
        "A registered second factor protects nothing if sign-in never asks for it. This checks, per user, "
        "that security defaults, an enabled Conditional Access policy with no exclusion or narrowing "
        "condition that applies to them, or per-user MFA makes every sign-in require MFA."
    ),
    remediation=_TEMPLATE_FIX,
    reads=(READS_SD, READS_CA, READS_GROUPS, READS_ROLES, READS_PER_USER, READS_USERS),
    needs=NEEDS + "; per-user MFA state: Policy.Read.All on Graph beta",
)
def user_mfa_required(user: Resource, ctx: Context) -> Verdict:
    if not user.attributes.get("accountEnabled"):
        return not_applicable(f"user {user_label(user)} is disabled and cannot sign in")
    decision = mfa_decision(user, tenant_of(ctx))
    if decision.status == "pass":
        return passed(f"user {user_label(user)} must pass MFA at sign-in: {decision.reason}")
    if decision.status == "unknown":
        raise MissingInput(f"cannot tell whether sign-in of {user_label(user)} requires MFA: {decision.reason}")
    return failed(f"user {user_label(user)} can sign in without MFA: {decision.reason}")


@check(
    id="azure.entra.tenant_mfa_enforced",
    title="Every enabled user of the tenant must pass MFA at sign-in (break-glass accounts excepted)",
    severity=Severity.HIGH,
    resource_type=TENANT_TYPE,
    requires=(USER_TYPE,),
    rationale=(
        "One Conditional Access policy called 'MFA for all' proves nothing if it excludes the all-staff group, "
        "only fires on risky sign-ins, is report-only, or accepts a compliant device instead. Every enabled "
        "member and guest must be covered, except the two emergency accounts Microsoft recommends excluding."
    ),
    remediation=_TEMPLATE_FIX,
    params={"break_glass": []},
    reads=(READS_SD, READS_CA, READS_GROUPS, READS_ROLES, READS_PER_USER, READS_USERS),
    needs=NEEDS,
)
def tenant_mfa_enforced(tenant: Resource, ctx: Context) -> Verdict:
    return tenant_mfa_verdict(ctx, tenant, "the tenant", app=None, per_user=True)


@check(
    id="azure.entra.ca_mfa_azure_management",
    title="Conditional Access requires MFA for Azure management (portal, CLI, PowerShell, ARM) for all users",
    severity=Severity.HIGH,
    resource_type=TENANT_TYPE,
    requires=(USER_TYPE,),
    rationale=(
        "The Windows Azure Service Management API is how every subscription is changed. An enabled policy for "
        "all users on that app (or on all cloud apps), with no narrowing condition, must require MFA."
    ),
    remediation=Remediation(
        console=(
            "Protection > Conditional Access > New policy: Users: All users (exclude only break-glass accounts); "
            "Target resources: select 'Windows Azure Service Management API' (or All cloud apps); Grant: Require "
            "multifactor authentication; Enable policy: On."
        ),
        cli="az rest --method GET --url https://graph.microsoft.com/v1.0/identity/conditionalAccess/policies",
        docs=DOCS + "conditional-access/policy-old-require-mfa-azure-mgmt",
    ),
    params={"break_glass": []},
    reads=(READS_SD, READS_CA, READS_GROUPS, READS_ROLES, READS_USERS),
    needs=NEEDS,
)
def ca_mfa_azure_management(tenant: Resource, ctx: Context) -> Verdict:
    return tenant_mfa_verdict(ctx, tenant, "Azure management", app=_ca.AZURE_MANAGEMENT_APP, per_user=False)

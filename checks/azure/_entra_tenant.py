"""Tenant-wide MFA verdicts shared by the Entra MFA and Conditional Access checks."""

from __future__ import annotations

from collections import Counter

from agent.models import Resource
from checks.azure._entra import enabled_users, is_break_glass, mfa_decision, summarise
from checks.azure._util import user_label
from checks.base import Context, MissingInput, Verdict, failed, passed

__all__ = [
    "DOCS",
    "NEEDS",
    "READS_CA",
    "READS_GROUPS",
    "READS_PER_USER",
    "READS_ROLES",
    "READS_SD",
    "READS_USERS",
    "defaults_on",
    "tenant_mfa_verdict",
    "unless_defaults_unknown",
]

DOCS = "https://learn.microsoft.com/entra/identity/"
READS_CA = "GET /v1.0/identity/conditionalAccess/policies: state, conditions, grantControls"
READS_SD = "GET /v1.0/policies/identitySecurityDefaultsEnforcementPolicy: isEnabled"
READS_GROUPS = "GET /v1.0/groups/{id}/transitiveMembers: id (groups referenced by policies)"
READS_ROLES = "GET /v1.0/roleManagement/directory/roleAssignments?$expand=principal: roleDefinitionId, principal"
READS_USERS = "GET /v1.0/users: accountEnabled, userType, userPrincipalName"
READS_PER_USER = "GET /beta/users/{id}/authentication/requirements: perUserMfaState (one call per enabled user)"
NEEDS = (
    "Policy.Read.All, User.Read.All, GroupMember.Read.All, RoleManagement.Read.Directory (Graph, application); "
    "Conditional Access needs Microsoft Entra ID P1"
)


def defaults_on(tenant: Resource) -> bool | None:
    """Security defaults: True/False, None when they could not be read."""
    if "SecurityDefaults" in tenant.errors or "SecurityDefaults" not in tenant.attributes:
        return None
    return (tenant.attributes.get("SecurityDefaults") or {}).get("isEnabled") is True


def unless_defaults_unknown(tenant: Resource, verdict: Verdict) -> Verdict:
    """A failure stands only if security defaults are known to be off (they would cover everything)."""
    if verdict.status.value == "fail" and defaults_on(tenant) is None:
        why = tenant.errors.get("SecurityDefaults", "not collected")
        raise MissingInput(f"security defaults unknown ({why}); without them: {verdict.reason}")
    return verdict


def tenant_mfa_verdict(ctx: Context, tenant: Resource, what: str, *, app: str | None, per_user: bool) -> Verdict:
    """Every enabled user (break-glass accounts excepted) must pass MFA for ``what``; the message names
    the users who need not, and each policy gap with how many of them it lets through."""
    if defaults_on(tenant):
        return passed(f"security defaults are enabled: {what} requires MFA")
    names = ctx.params.get("break_glass") or []
    users = [u for u in enabled_users(ctx) if not is_break_glass(u, names)]
    if not users:  # "all 0 users covered" would be a pass on nothing
        raise MissingInput(
            f"no enabled user other than break-glass accounts is in the snapshot: coverage of {what} cannot be shown"
        )
    fails: list[str] = []
    unknown: list[tuple[str, str]] = []
    gaps: Counter[str] = Counter()
    for user in users:
        decision = mfa_decision(user, tenant, app=app, per_user=per_user)
        if decision.status == "fail":
            fails.append(user_label(user))
            gaps.update(decision.gaps)
        elif decision.status == "unknown":
            unknown.append((user_label(user), decision.reason))
    extra = f" (break-glass accounts excepted: {len(names)})" if names else ""
    if fails:
        who = ", ".join(fails[:10]) + (f" and {len(fails) - 10} more" if len(fails) > 10 else "")
        why = "; ".join(f"{gap} ({n} of them)" for gap, n in gaps.most_common(6)) or "no policy requires MFA"
        tail = f"; {len(unknown)} more users unknown" if unknown else ""
        base = "neither security defaults nor per-user MFA apply" if per_user else "security defaults are off"
        return unless_defaults_unknown(
            tenant,
            failed(
                f"{len(fails)} of {len(users)} enabled users can reach {what} without MFA{extra}: {who}; {base}; "
                f"Conditional Access gaps: {why}{tail}"
            ),
        )
    if unknown:
        raise MissingInput(f"cannot tell for {len(unknown)} of {len(users)} users: {summarise(unknown, 3)}")
    return passed(f"all {len(users)} enabled users (members and guests) must pass MFA for {what}{extra}")

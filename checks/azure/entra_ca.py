"""Conditional Access for administrators, role by role, and legacy authentication blocked."""

from __future__ import annotations

import checks.azure._ca as _ca
from agent.models import Resource
from checks.azure._entra import (
    TENANT_TYPE,
    USER_TYPE,
    directory_of,
    enabled_users,
    holdings,
    is_break_glass,
    role_ids,
    subject_of,
    summarise,
)
from checks.azure._entra_tenant import (
    DOCS,
    NEEDS,
    READS_CA,
    READS_GROUPS,
    READS_ROLES,
    READS_SD,
    READS_USERS,
    defaults_on,
    unless_defaults_unknown,
)
from checks.azure._util import PRIVILEGED_ROLE_TEMPLATES, user_label
from checks.base import Context, MissingInput, Remediation, Severity, Verdict, check, failed, need, passed


def _holders(ctx: Context, tenant: Resource) -> dict[str, list[_ca.Subject]]:
    """Role template id -> subjects holding it, active or eligible."""
    names = {str(n).lower() for n in ctx.params.get("break_glass") or []}
    found: dict[str, list[_ca.Subject]] = {}
    for user in ctx.snapshot.of_type(USER_TYPE):
        roles = [*(need(user, "Roles") or []), *(holdings(user, "EligibleRoles") or [])]
        if is_break_glass(user, names):
            continue
        for rid in role_ids(roles):
            found.setdefault(rid, []).append(subject_of(user, tenant))
    return found


@check(
    id="azure.entra.ca_mfa_admins",
    title="Conditional Access requires MFA for every privileged directory role, excluding none of its holders",
    severity=Severity.HIGH,
    resource_type=TENANT_TYPE,
    requires=(USER_TYPE,),
    rationale=(
        "Administrators must pass MFA at every sign-in. A policy that targets only some admin roles, excludes a "
        "group an admin is in, or is report-only leaves an admin role reachable with a password."
    ),
    remediation=Remediation(
        console=(
            "Protection > Conditional Access > Create new policy from template 'Require multifactor authentication "
            "for admins': include every privileged role, exclude only break-glass accounts, All cloud apps, "
            "Grant: Require multifactor authentication (or phishing-resistant strength), Enable policy: On."
        ),
        cli="az rest --method GET --url https://graph.microsoft.com/v1.0/identity/conditionalAccess/policies",
        docs=DOCS + "conditional-access/policy-old-require-mfa-admin",
    ),
    params={"break_glass": [], "extra_roles": []},
    reads=(
        READS_SD,
        READS_CA,
        READS_GROUPS,
        READS_ROLES,
        "GET /v1.0/roleManagement/directory/roleEligibilityScheduleInstances?$expand=principal: roleDefinitionId",
    ),
    needs=NEEDS + "; Microsoft Entra ID P2 for eligible (PIM) holders",
)
def ca_mfa_admins(tenant: Resource, ctx: Context) -> Verdict:
    if defaults_on(tenant):
        return passed("security defaults are enabled: administrators must pass MFA at every sign-in")
    policies = [p for p in need(tenant, "ConditionalAccessPolicies") or [] if _ca.is_mfa_policy(p)]
    roles = {r.lower(): n for r, n in PRIVILEGED_ROLE_TEMPLATES.items()}
    roles.update({str(r).lower(): str(r) for r in ctx.params.get("extra_roles") or []})
    holders, directory = _holders(ctx, tenant), directory_of(tenant)
    missing, unknown, by = [], [], set()
    for rid, name in sorted(roles.items(), key=lambda kv: kv[1]):
        reasons = []
        for policy in policies:
            try:
                gap = _ca.role_gap(policy, rid, holders.get(rid, []), directory)
            except _ca.Unknown as exc:
                reasons.append(f"unknown: {exc}")
                continue
            if gap is None:
                by.add(_ca.policy_name(policy))
                break
            if gap != "does not target the role":
                reasons.append(f"{_ca.policy_name(policy)} {gap}")
        else:
            if reasons and all(r.startswith("unknown: ") for r in reasons):
                unknown.append((name, reasons[0].removeprefix("unknown: ")))
            else:
                missing.append(
                    (
                        name,
                        next(
                            (r for r in reasons if not r.startswith("unknown")),
                            "no enabled MFA policy targets the role",
                        ),
                    )
                )
    if missing:
        return unless_defaults_unknown(
            tenant,
            failed(
                f"{len(missing)} of {len(roles)} privileged roles are not covered by an MFA policy: "
                f"{summarise(missing, 4)}"
            ),
        )
    if unknown:
        raise MissingInput(f"cannot tell for {len(unknown)} roles: {summarise(unknown, 2)}")
    return passed(f"all {len(roles)} privileged roles must pass MFA at every sign-in ({', '.join(sorted(by))})")


@check(
    id="azure.entra.legacy_auth_blocked",
    title="Legacy authentication (Exchange ActiveSync and other legacy clients) is blocked for all users",
    severity=Severity.HIGH,
    resource_type=TENANT_TYPE,
    requires=(USER_TYPE,),
    rationale=(
        "Legacy protocols (IMAP, POP, SMTP AUTH, ActiveSync basic auth) cannot prompt for MFA, so password "
        "spraying goes around every MFA policy. An enabled block policy for all users must cover them."
    ),
    remediation=Remediation(
        console=(
            "Protection > Conditional Access > Create new policy from template 'Block legacy authentication': "
            "All users (exclude only break-glass accounts), All cloud apps, Client apps: Exchange ActiveSync "
            "clients and Other clients, Grant: Block access, Enable policy: On. Or enable security defaults."
        ),
        cli="az rest --method GET --url https://graph.microsoft.com/v1.0/identity/conditionalAccess/policies",
        docs=DOCS + "conditional-access/policy-block-legacy-authentication",
    ),
    params={"break_glass": []},
    reads=(READS_SD, READS_CA, READS_GROUPS, READS_ROLES, READS_USERS),
    needs=NEEDS,
)
def legacy_auth_blocked(tenant: Resource, ctx: Context) -> Verdict:
    if defaults_on(tenant):
        return passed("security defaults are enabled: legacy authentication is blocked")
    policies = need(tenant, "ConditionalAccessPolicies") or []
    directory = directory_of(tenant)
    names = ctx.params.get("break_glass") or []
    users = [u for u in enabled_users(ctx) if not is_break_glass(u, names)]
    fails, unknown, by = [], [], set()
    for user in users:
        cover = _ca.legacy_coverage(policies, subject_of(user, tenant), directory)
        if cover.by:
            by.add(cover.by)
        elif cover.unknown:
            unknown.append((user_label(user), "; ".join(cover.unknown)))
        else:
            fails.append((user_label(user), "; ".join(cover.gaps[:2]) or "no enabled block policy"))
    if fails:
        return unless_defaults_unknown(
            tenant,
            failed(
                f"legacy authentication is open for {len(fails)} of {len(users)} enabled users: {summarise(fails, 3)}"
            ),
        )
    if unknown:
        raise MissingInput(f"cannot tell for {len(unknown)} users: {summarise(unknown, 2)}")
    return passed(f"legacy authentication is blocked for all {len(users)} enabled users by {', '.join(sorted(by))}")

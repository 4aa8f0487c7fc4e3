"""Entra ID facts the checks share: the tenant resource, a user as Conditional Access sees them,
whether sign-in requires MFA, and whether a user can actually perform MFA.

Pure functions over the attributes the collector records (see docs/azure-resources.md). A fact that
was not collected raises ``MissingInput`` (or is reported as unknown) so the check says ``error``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import checks.azure._ca as _ca
from agent.models import Resource
from checks.azure._util import PRIVILEGED_ROLE_TEMPLATES, user_label
from checks.base import Context, MissingInput, need

__all__ = [
    "APP_TYPE",
    "Decision",
    "TENANT_TYPE",
    "USER_TYPE",
    "capability",
    "directory_of",
    "enabled_users",
    "guest_kind",
    "holdings",
    "is_break_glass",
    "mfa_decision",
    "role_ids",
    "subject_of",
    "summarise",
    "tenant_of",
]

USER_TYPE = "azure.entra.user"
TENANT_TYPE = "azure.entra.tenant"
APP_TYPE = "azure.entra.application"

# A user's registered method (@odata.type) -> the authentication methods policy entries that allow it.
# Password, email OTP and Temporary Access Pass are not MFA methods; Windows Hello for Business and
# platform credentials are governed outside this policy.
_MFA_METHODS: dict[str, tuple[str, ...]] = {
    "#microsoft.graph.microsoftAuthenticatorAuthenticationMethod": ("MicrosoftAuthenticator",),
    "#microsoft.graph.fido2AuthenticationMethod": ("Fido2",),
    "#microsoft.graph.phoneAuthenticationMethod": ("Sms", "Voice"),
    "#microsoft.graph.softwareOathAuthenticationMethod": ("SoftwareOath",),
    "#microsoft.graph.hardwareOathAuthenticationMethod": ("HardwareOath",),
    "#microsoft.graph.windowsHelloForBusinessAuthenticationMethod": (),
    "#microsoft.graph.platformCredentialAuthenticationMethod": (),
}
_REQUIRED_STATES = ("enforced", "enabled")


def tenant_of(ctx: Context) -> Resource:
    found = ctx.snapshot.of_type(TENANT_TYPE)
    if not found:
        raise MissingInput("the tenant's policies (azure.entra.tenant) were not collected")
    return found[0]


def enabled_users(ctx: Context) -> list[Resource]:
    return [u for u in ctx.snapshot.of_type(USER_TYPE) if u.attributes.get("accountEnabled")]


def guest_kind(user: Resource) -> str:
    """Conditional Access's user kind: B2B users carry #EXT# in their UPN, local guests do not."""
    external = "#ext#" in str(user.attributes.get("userPrincipalName") or "").lower()
    if str(user.attributes.get("userType") or "Member") == "Guest":
        return "b2bCollaborationGuest" if external else "internalGuest"
    return "b2bCollaborationMember" if external else "member"


def holdings(user: Resource, key: str) -> list[Mapping[str, Any]] | None:
    """The role holdings under ``key`` (Roles: active, EligibleRoles: PIM), None if not read."""
    if key in user.errors or key not in user.attributes:
        return None
    return list(user.attributes.get(key) or [])


def role_ids(items: Iterable[Mapping[str, Any]]) -> frozenset[str]:
    return frozenset(str(h.get("templateId") or "").lower() for h in items if h.get("templateId"))


def is_break_glass(user: Resource, names: Iterable[str]) -> bool:
    wanted = {str(n).lower() for n in names}
    return bool(
        wanted
        & {str(user.attributes.get("userPrincipalName") or "").lower(), str(user.attributes.get("id") or "").lower()}
    )


def directory_of(tenant: Resource) -> _ca.Directory:
    groups = tenant.attributes.get("GroupMembers") or {}
    names = {str(r).lower(): n for r, n in PRIVILEGED_ROLE_TEMPLATES.items()}
    return _ca.Directory(
        groups={gid: str(g.get("displayName") or gid) for gid, g in groups.items()},
        group_error=str(tenant.errors.get("GroupMembers") or ""),
        role_names=names,
    )


def subject_of(user: Resource, tenant: Resource) -> _ca.Subject:
    oid = str(user.attributes.get("id") or "")
    groups = tenant.attributes.get("GroupMembers") or {}
    active = holdings(user, "Roles")
    eligible = holdings(user, "EligibleRoles")
    return _ca.Subject(
        id=oid,
        label=user_label(user),
        kind=guest_kind(user),
        groups=frozenset(gid for gid, g in groups.items() if oid in (g.get("members") or [])),
        active_roles=None if active is None else role_ids(active),
        any_roles=None if active is None or eligible is None else role_ids([*active, *eligible]),
    )


# -- does sign-in require MFA? ---------------------------------------------------------------------


@dataclass(frozen=True)
class Decision:
    status: Literal["pass", "fail", "unknown"]
    reason: str
    gaps: tuple[str, ...] = ()  # why each Conditional Access MFA policy does not cover the user


def _read(resource: Resource, key: str) -> tuple[Any, str]:
    try:
        return need(resource, key), ""
    except MissingInput as exc:
        return None, str(exc)


def _per_user_state(user: Resource) -> tuple[str | None, str]:
    value, why = _read(user, "PerUserMfa")
    if why:
        return None, f"per-user MFA state unknown ({why})"
    state = str((value or {}).get("perUserMfaState") or "")
    return (state, "") if state else (None, "per-user MFA state was not returned")


def mfa_decision(
    user: Resource, tenant: Resource, *, app: str | None = None, per_user: bool = True, limit: int = 4
) -> Decision:
    """Whether every sign-in of ``user`` to ``app`` (None: all cloud apps) must pass MFA: security
    defaults, an enabled Conditional Access policy without gaps, or (``per_user``) per-user MFA."""
    unknown: list[str] = []
    defaults, why = _read(tenant, "SecurityDefaults")
    if why:
        unknown.append(f"security defaults unknown ({why})")
    elif (defaults or {}).get("isEnabled") is True:
        return Decision("pass", "security defaults are enabled")
    policies, why = _read(tenant, "ConditionalAccessPolicies")
    gaps: Sequence[str] = ()
    if why:
        unknown.append(f"Conditional Access policies unknown ({why})")
    else:
        cover = _ca.mfa_coverage(policies or [], subject_of(user, tenant), directory_of(tenant), app=app)
        if cover.by:
            return Decision("pass", f"Conditional Access policy {cover.by} requires MFA at every sign-in")
        gaps, unknown = cover.gaps, [*unknown, *cover.unknown]
    state = "not considered"
    if per_user:
        found, why = _per_user_state(user)
        if found in _REQUIRED_STATES:
            return Decision("pass", f"per-user MFA is {found}")
        if found is None:
            unknown.append(why)
        state = found or "unknown"
    gap_text = "; ".join(gaps[:limit]) + (f"; and {len(gaps) - limit} more" if len(gaps) > limit else "")
    if unknown:
        return Decision("unknown", "; ".join(unknown) + (f"; gaps: {gap_text}" if gaps else ""), tuple(gaps))
    how = "security defaults are off" + (f", per-user MFA is {state}" if per_user else "")
    if not gaps:
        return Decision("fail", f"{how} and no Conditional Access policy requires MFA")
    return Decision("fail", f"{how} and no Conditional Access policy covers every sign-in ({gap_text})", tuple(gaps))


def summarise(failed: Sequence[tuple[str, str]], limit: int = 5) -> str:
    """'a (why); b (why); and 3 more' for a message."""
    text = "; ".join(f"{who} ({why})" for who, why in failed[:limit])
    return text + (f"; and {len(failed) - limit} more" if len(failed) > limit else "")


# -- can the user perform MFA? ---------------------------------------------------------------------


def _targets(entries: Iterable[Mapping[str, Any]], subject: _ca.Subject, directory: _ca.Directory) -> bool:
    for target in entries:
        tid = str(target.get("id") or "")
        if tid == "all_users":
            return True
        try:
            directory.group(tid)
        except _ca.Unknown as exc:
            raise MissingInput(f"authentication methods policy target: {exc}") from None
        if tid in subject.groups:
            return True
    return False


def _allowed_configs(policy: Mapping[str, Any], subject: _ca.Subject, directory: _ca.Directory) -> set[str]:
    allowed = set()
    for config in policy.get("authenticationMethodConfigurations") or []:
        if str(config.get("state") or "") != "enabled":
            continue
        if _targets(config.get("includeTargets") or [], subject, directory) and not _targets(
            config.get("excludeTargets") or [], subject, directory
        ):
            allowed.add(str(config.get("id") or ""))
    return allowed


def capability(user: Resource, tenant: Resource | None) -> tuple[bool, str]:
    """(can the user perform MFA, which source says so). The registration report's isMfaCapable
    (a strong method registered *and* allowed by policy); without the report (no Entra ID P1), the
    user's registered methods checked against the authentication methods policy the same way."""
    reg_error = ""
    if "Registration" in user.errors:
        reg_error = str(user.errors["Registration"])
    elif "Registration" in user.attributes:
        reg = user.attributes["Registration"]
        if not isinstance(reg, Mapping):
            raise MissingInput(f"user {user_label(user)} has no row in the registration report yet")
        if "isMfaCapable" not in reg:
            raise MissingInput(f"the registration report row of {user_label(user)} lacks isMfaCapable")
        return bool(reg["isMfaCapable"]), "registration report"
    if "AuthenticationMethods" not in user.attributes or "AuthenticationMethods" in user.errors:
        why = user.errors.get("AuthenticationMethods", "not collected")
        raise MissingInput(
            f"MFA capability unknown: registration report {reg_error or 'not collected'} (needs AuditLog.Read.All "
            f"and Entra ID P1); registered methods {why} (needs UserAuthenticationMethod.Read.All)"
        )
    if tenant is None:
        raise MissingInput("the authentication methods policy (tenant) was not collected")
    policy = need(tenant, "AuthenticationMethodsPolicy")
    subject, directory = subject_of(user, tenant), directory_of(tenant)
    allowed = _allowed_configs(policy or {}, subject, directory)
    for method in user.attributes.get("AuthenticationMethods") or []:
        kind = str(method.get("@odata.type") or "")
        if kind in _MFA_METHODS and (not _MFA_METHODS[kind] or allowed & set(_MFA_METHODS[kind])):
            return True, "registered methods and the authentication methods policy"
    return False, "registered methods and the authentication methods policy"

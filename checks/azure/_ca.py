"""Conditional Access as Microsoft Entra applies it, asked for one user at a time.

Pure functions over the Graph v1.0 shape of ``conditionalAccessPolicy``. The question is narrow on
purpose: must *every* sign-in of this user to all cloud apps (or to one app) pass MFA, whatever the
risk, location, platform, client or device? A policy answers yes only if it is enabled (report-only
enforces nothing), targets all apps (or the app) without excluding it, has no narrowing condition,
includes the user and does not exclude them, and its grant cannot be met without MFA ("MFA or a
compliant device" can). Anything the collector could not read raises ``Unknown``: the caller turns
it into ``error``, never into a pass.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "AZURE_MANAGEMENT_APP",
    "BUILTIN_MFA_STRENGTHS",
    "LEGACY_CLIENT_TYPES",
    "Coverage",
    "Directory",
    "Subject",
    "Unknown",
    "block_gap",
    "condition_gap",
    "exclusion_gap",
    "grant_gap",
    "is_block_policy",
    "is_mfa_policy",
    "legacy_coverage",
    "mfa_coverage",
    "mfa_gap",
    "policy_name",
    "role_gap",
]

#: "Windows Azure Service Management API": the portal, Azure CLI, PowerShell and ARM.
AZURE_MANAGEMENT_APP = "797f4846-ba00-4fd7-ba43-dac1f8f63013"
#: Client app types that are legacy authentication (no modern auth, so no MFA prompt).
LEGACY_CLIENT_TYPES = frozenset({"exchangeActiveSync", "other"})
_ALL_CLIENT_TYPES = frozenset({"browser", "mobileAppsAndDesktopClients"}) | LEGACY_CLIENT_TYPES
#: Built-in authentication strengths; each grants the MFA claim.
BUILTIN_MFA_STRENGTHS = {
    "00000000-0000-0000-0000-000000000002": "Multifactor authentication",
    "00000000-0000-0000-0000-000000000003": "Passwordless MFA",
    "00000000-0000-0000-0000-000000000004": "Phishing-resistant MFA",
}
_NOT_INCLUDED = "does not include the user"
_STATE_GAPS = {"enabledForReportingButNotEnforced": "is report-only", "disabled": "is off"}


class Unknown(Exception):
    """The policy references something the collector could not read (group members, roles)."""


@dataclass(frozen=True)
class Subject:
    """A user as Conditional Access sees them at sign-in.

    ``kind``: member, internalGuest, b2bCollaborationGuest or b2bCollaborationMember (the values of
    ``guestOrExternalUserTypes``). ``groups``: the groups of ``Directory.groups`` the user is in.
    ``active_roles``: role template ids held active (directly or through a group); None when roles
    could not be read. ``any_roles`` adds eligible (PIM) roles: a user can activate them at will.
    """

    id: str
    label: str
    kind: str = "member"
    groups: frozenset[str] = frozenset()
    active_roles: frozenset[str] | None = frozenset()
    any_roles: frozenset[str] | None = frozenset()


@dataclass(frozen=True)
class Directory:
    """What policies reference, as collected: group id -> name for groups whose members were read,
    and why the others could not be read."""

    groups: Mapping[str, str] = field(default_factory=dict)
    group_error: str = ""
    role_names: Mapping[str, str] = field(default_factory=dict)

    def group(self, gid: str) -> str:
        if gid not in self.groups:
            why = f": {self.group_error}" if self.group_error else ""
            raise Unknown(f"members of group {gid} were not read{why}")
        return self.groups[gid]

    def role(self, rid: str) -> str:
        return self.role_names.get(rid.lower(), rid)


@dataclass(frozen=True)
class Coverage:
    """``by``: the policy that requires MFA (None: none does); ``gaps``: why each MFA policy does not;
    ``unknown``: what could not be decided."""

    by: str | None = None
    gaps: tuple[str, ...] = ()
    unknown: tuple[str, ...] = ()


def policy_name(policy: Mapping[str, Any]) -> str:
    return f"'{policy.get('displayName') or policy.get('id') or '?'}'"


def _lower(values: Iterable[Any] | None) -> list[str]:
    return [str(v).lower() for v in values or []]


# -- grant -----------------------------------------------------------------------------------------


def _strength_mfa(strength: Mapping[str, Any]) -> bool:
    satisfied = strength.get("requirementsSatisfied")
    if satisfied is not None:
        return str(satisfied).lower() == "mfa"
    return str(strength.get("id") or "") in BUILTIN_MFA_STRENGTHS  # not expanded: only built-ins are known


def is_mfa_policy(policy: Mapping[str, Any]) -> bool:
    """The policy's grant mentions MFA at all (the built-in control or an authentication strength)."""
    grant = policy.get("grantControls") or {}
    controls = _lower(grant.get("builtInControls"))
    return "block" not in controls and ("mfa" in controls or bool(grant.get("authenticationStrength")))


def is_block_policy(policy: Mapping[str, Any]) -> bool:
    return "block" in _lower((policy.get("grantControls") or {}).get("builtInControls"))


def grant_gap(grant: Mapping[str, Any] | None) -> str | None:
    """None when the grant cannot be satisfied without MFA; else why it can."""
    grant = grant or {}
    controls = [str(c) for c in grant.get("builtInControls") or []]
    strength = grant.get("authenticationStrength")
    mfa_ways, others = [], [c for c in controls if c.lower() != "mfa"]
    if "mfa" in _lower(controls):
        mfa_ways.append("mfa")
    if isinstance(strength, Mapping) and strength:
        name = f"authentication strength '{strength.get('displayName') or strength.get('id')}'"
        (mfa_ways if _strength_mfa(strength) else others).append(name)
    others += [f"custom control {c}" for c in grant.get("customAuthenticationFactors") or []]
    if grant.get("termsOfUse"):
        others.append("terms of use")
    if not mfa_ways:
        return "does not require MFA (" + (", ".join(others) or "no grant control") + ")"
    if str(grant.get("operator") or "OR").upper() == "AND" or not others:
        return None
    return f"lets {' or '.join(others)} replace MFA"  # OR: any one alternative is enough


# -- conditions ------------------------------------------------------------------------------------


def _app_gap(apps: Mapping[str, Any], app: str | None) -> str | None:
    include = [str(a) for a in apps.get("includeApplications") or []]
    exclude = [str(a) for a in apps.get("excludeApplications") or []]
    if app is None:
        if "All" not in include:
            return "applies only to selected apps or actions, not all cloud apps"
        if exclude:
            return f"excludes {len(exclude)} app(s) ({', '.join(exclude[:3])})"
    else:
        if "All" not in include and app not in include:
            return f"does not include app {app}"
        if app in exclude:
            return f"excludes app {app}"
    if apps.get("applicationFilter"):
        return "selects apps with an application filter"
    return None


def condition_gap(
    conditions: Mapping[str, Any] | None,
    *,
    app: str | None = None,
    client_types: bool = True,
    blocked: frozenset[str] = frozenset(),
) -> str | None:
    """None when no condition narrows the policy for ``app`` (None: all cloud apps); else the first
    narrowing found. ``client_types=False`` leaves the client app types to the caller; client types in
    ``blocked`` (legacy clients a block policy stops anyway) need not be covered."""
    cond = conditions or {}
    gap = _app_gap(cond.get("applications") or {}, app)
    if gap:
        return gap
    for key, label in (
        ("userRiskLevels", "user risk"),
        ("signInRiskLevels", "sign-in risk"),
        ("insiderRiskLevels", "insider risk"),
    ):
        levels = cond.get(key)
        if levels:
            text = levels if isinstance(levels, str) else ", ".join(str(v) for v in levels)
            return f"applies only at {label} {text}"
    if cond.get("servicePrincipalRiskLevels") or (cond.get("clientApplications") or {}).get("includeServicePrincipals"):
        return "targets workload identities, not users"
    types = {str(t) for t in cond.get("clientAppTypes") or []}
    if client_types and types and "all" not in types and not types | blocked >= _ALL_CLIENT_TYPES:
        return f"applies only to client apps {', '.join(sorted(types))}"
    platforms = cond.get("platforms") or {}
    if platforms:
        if "all" not in _lower(platforms.get("includePlatforms")):
            return f"applies only on platforms {', '.join(platforms.get('includePlatforms') or [])}"
        if platforms.get("excludePlatforms"):
            return f"excludes platforms {', '.join(platforms['excludePlatforms'])}"
    locations = cond.get("locations") or {}
    if locations:
        include = [str(v) for v in locations.get("includeLocations") or []]
        if include and "All" not in include:
            return "applies only in selected locations"
        if locations.get("excludeLocations"):
            names = ["trusted locations" if v == "AllTrusted" else str(v) for v in locations["excludeLocations"]]
            return f"excludes locations ({', '.join(names)})"
    devices = cond.get("devices") or {}
    if devices.get("deviceFilter") or devices.get("includeDevices") or devices.get("excludeDevices"):
        return "applies only to devices matching a device filter"
    flows = (cond.get("authenticationFlows") or {}).get("transferMethods")
    if flows:
        return f"applies only to authentication flows {flows}"
    return None


# -- users -----------------------------------------------------------------------------------------


def _kinds(spec: Mapping[str, Any] | None) -> set[str]:
    return {t.strip() for t in str((spec or {}).get("guestOrExternalUserTypes") or "").split(",") if t.strip()}


def _included(users: Mapping[str, Any], subject: Subject, directory: Directory) -> bool:
    include = [str(u) for u in users.get("includeUsers") or []]
    if "All" in include or subject.id in include:
        return True
    if subject.kind != "member" and "GuestsOrExternalUsers" in include:
        return True
    spec = users.get("includeGuestsOrExternalUsers")
    if subject.kind in _kinds(spec):
        tenants = (spec or {}).get("externalTenants") or {}
        # a guest's home tenant is not collected: only "all external tenants" certainly includes them
        if subject.kind == "internalGuest" or str(tenants.get("membershipKind") or "") == "all":
            return True
    roles = [str(r).lower() for r in users.get("includeRoles") or []]
    if roles and subject.active_roles is not None and subject.active_roles & set(roles):
        return True
    unknown = []
    for gid in users.get("includeGroups") or []:
        try:
            directory.group(str(gid))
        except Unknown as exc:
            unknown.append(str(exc))
            continue
        if str(gid) in subject.groups:
            return True
    if roles and subject.active_roles is None:
        unknown.append("the user's directory roles were not read")
    if unknown:
        raise Unknown("; ".join(unknown))
    return False


def exclusion_gap(users: Mapping[str, Any], subject: Subject, directory: Directory) -> str | None:
    """Why the users condition excludes ``subject`` (None: it does not)."""
    if subject.id in [str(u) for u in users.get("excludeUsers") or []]:
        return "excludes the user"
    if subject.kind != "member" and "GuestsOrExternalUsers" in (users.get("excludeUsers") or []):
        return "excludes guests and external users"
    if subject.kind in _kinds(users.get("excludeGuestsOrExternalUsers")):
        return f"excludes {subject.kind} users"  # whatever their home tenant
    roles = [str(r).lower() for r in users.get("excludeRoles") or []]
    if roles and subject.any_roles is not None and subject.any_roles & set(roles):
        held = sorted(subject.any_roles & set(roles))
        return f"excludes role '{directory.role(held[0])}'"
    unknown = []
    for gid in users.get("excludeGroups") or []:
        try:
            name = directory.group(str(gid))
        except Unknown as exc:
            unknown.append(str(exc))
            continue
        if str(gid) in subject.groups:
            return f"excludes group '{name}'"
    if roles and subject.any_roles is None:
        unknown.append("the user's directory roles were not read")
    if unknown:
        raise Unknown("; ".join(unknown))
    return None


def _users_gap(users: Mapping[str, Any], subject: Subject, directory: Directory) -> str | None:
    excluded = exclusion_gap(users, subject, directory)
    if excluded:
        return excluded
    return None if _included(users, subject, directory) else _NOT_INCLUDED


# -- one policy, one user --------------------------------------------------------------------------


def mfa_gap(
    policy: Mapping[str, Any],
    subject: Subject,
    directory: Directory,
    *,
    app: str | None = None,
    blocked: frozenset[str] = frozenset(),
) -> str | None:
    """None when ``policy`` requires MFA at every sign-in of ``subject`` to ``app`` (None: all apps);
    ``blocked``: legacy client types blocked for the subject, which the policy need not cover."""
    state = str(policy.get("state") or "")
    if state != "enabled":
        return _STATE_GAPS.get(state, f"is in state {state!r}")
    cond = policy.get("conditions") or {}
    return (
        _users_gap(cond.get("users") or {}, subject, directory)
        or grant_gap(policy.get("grantControls"))
        or condition_gap(cond, app=app, blocked=blocked)
    )


def mfa_coverage(
    policies: Sequence[Mapping[str, Any]], subject: Subject, directory: Directory, *, app: str | None = None
) -> Coverage:
    """Which enabled policy requires MFA for every sign-in of ``subject``, or why none does."""
    gaps: list[str] = []
    elsewhere: list[str] = []  # policies for other users: least telling, listed last
    unknown: list[str] = []
    blocked = _blocked_legacy(policies, subject, directory)  # "MFA for modern clients" + "block legacy"
    for policy in policies:
        if not is_mfa_policy(policy):
            continue
        try:
            gap = mfa_gap(policy, subject, directory, app=app, blocked=blocked)
        except Unknown as exc:
            unknown.append(f"policy {policy_name(policy)}: {exc}")
            continue
        if gap is None:
            return Coverage(by=policy_name(policy))
        (elsewhere if gap == _NOT_INCLUDED else gaps).append(f"{policy_name(policy)} {gap}")
    return Coverage(gaps=tuple(gaps + elsewhere), unknown=tuple(unknown))


def role_gap(policy: Mapping[str, Any], role: str, holders: Iterable[Subject], directory: Directory) -> str | None:
    """None when ``policy`` requires MFA at every sign-in to all apps for whoever holds ``role``
    (targeted by All users or by the role) and excludes none of its current ``holders``."""
    state = str(policy.get("state") or "")
    if state != "enabled":
        return _STATE_GAPS.get(state, f"is in state {state!r}")
    gap = grant_gap(policy.get("grantControls"))
    if gap:
        return gap
    cond = policy.get("conditions") or {}
    users = cond.get("users") or {}
    roles = [str(r).lower() for r in users.get("includeRoles") or []]
    if "All" not in (users.get("includeUsers") or []) and role.lower() not in roles:
        return "does not target the role"
    if role.lower() in [str(r).lower() for r in users.get("excludeRoles") or []]:
        return "excludes the role"
    for holder in holders:
        why = exclusion_gap(users, holder, directory)
        if why:
            return f"{why}, which takes out holder {holder.label}"
    return condition_gap(cond)


def block_gap(policy: Mapping[str, Any], subject: Subject, directory: Directory) -> tuple[frozenset[str], str | None]:
    """(legacy client types ``policy`` blocks for ``subject`` at every sign-in to all apps, gap)."""
    cond = policy.get("conditions") or {}
    types = {str(t) for t in cond.get("clientAppTypes") or []}
    if "easSupported" in types or "easUnsupported" in types:
        types.add("exchangeActiveSync")
    blocked = LEGACY_CLIENT_TYPES if not types or "all" in types else LEGACY_CLIENT_TYPES & types
    state = str(policy.get("state") or "")
    if state != "enabled":
        return blocked, _STATE_GAPS.get(state, f"is in state {state!r}")
    gap = _users_gap(cond.get("users") or {}, subject, directory) or condition_gap(cond, client_types=False)
    return blocked, gap


def _blocked_legacy(policies: Sequence[Mapping[str, Any]], subject: Subject, directory: Directory) -> frozenset[str]:
    """Legacy client types that enabled block policies stop for ``subject`` without any gap."""
    found: set[str] = set()
    for policy in policies:
        if is_block_policy(policy):
            try:
                types, gap = block_gap(policy, subject, directory)
            except Unknown:
                continue  # cannot count it as blocked
            if gap is None:
                found |= types
    return frozenset(found)


def legacy_coverage(policies: Sequence[Mapping[str, Any]], subject: Subject, directory: Directory) -> Coverage:
    """Which enabled block policies stop legacy authentication (Exchange ActiveSync and other
    clients) for ``subject``: both client types must be blocked, by one policy or two."""
    covered: set[str] = set()
    by: list[str] = []
    gaps: list[str] = []
    unknown: list[str] = []
    for policy in policies:
        if not is_block_policy(policy):
            continue
        try:
            blocked, gap = block_gap(policy, subject, directory)
        except Unknown as exc:
            unknown.append(f"policy {policy_name(policy)}: {exc}")
            continue
        if not blocked:
            continue
        if gap:
            gaps.append(f"{policy_name(policy)} {gap}")
        else:
            covered |= blocked
            by.append(policy_name(policy))
    if covered >= LEGACY_CLIENT_TYPES:
        return Coverage(by=" and ".join(by))
    missing = sorted(LEGACY_CLIENT_TYPES - covered)
    if by:
        gaps.append(f"{' and '.join(by)} leave(s) {', '.join(missing)} open")
    return Coverage(gaps=tuple(gaps), unknown=tuple(unknown))

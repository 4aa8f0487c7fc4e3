"""The demo tenant's Entra ID as Microsoft Graph serves it: path -> list (paged) or object.

Each negative shape the Entra checks must catch, once, in a small readable tenant:

- Conditional Access: "Require MFA for all users" excludes the all-staff group; "MFA for risky sign-ins"
  applies only at high sign-in risk; "MFA pilot" is report-only; "Engineering: MFA or compliant device"
  accepts an authentication strength OR a compliant device; only Global Administrator has an admin policy.
- users: bob registered a method the policy disallows (isMfaRegistered true, isMfaCapable false) but
  per-user MFA is enforced for him; carol is Global Administrator through the role-assignable group
  "Tenant Admins" and cannot do MFA; dave's recent sign-ins all failed (password spraying), his last
  successful one is 200 days old; erin is PIM-eligible for Privileged Role Administrator and, like dave,
  can sign in without MFA; gus is a guest covered by the all-users policy (guest MFA evidenced).
- a service principal ("deploy-pipeline") holds Application Administrator.
- apps: billing-api still carries an expired secret, reporting-app has a two-year secret.
- authorization policy: anyone may invite guests, guests see the directory, users may consent to any
  app and register apps.

Without Entra ID P1 (a fault the tests inject, not the default) the collector falls back to each user's
registered methods and the authentication methods policy, which are here too.

Recent sign-ins and the registration report's refresh time tick (served relative to each request, as
Graph moves them for accounts in use); old ones, like dave's last success, stay fixed.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from posture_demo.azure_ids import GLOBAL_ADMIN, SECURITY_READER
from posture_demo.azure_ids import iso as _iso
from posture_demo.fake_azure import Tick

__all__ = ["entra_graph"]

PRIV_ROLE_ADMIN = "e8611ab8-c189-46e8-94e1-60213ab1f814"
APP_ADMIN = "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3"
_ROLES = {
    GLOBAL_ADMIN: "Global Administrator",
    SECURITY_READER: "Security Reader",
    PRIV_ROLE_ADMIN: "Privileged Role Administrator",
    APP_ADMIN: "Application Administrator",
}
STAFF, ENG, ADMINS = "g-staff", "g-eng", "g-tenant-admins"
_GROUPS = {STAFF: "All staff", ENG: "Engineering", ADMINS: "Tenant Admins"}
_T = "#microsoft.graph."

# oid, upn, name, guest, days since last attempt, days since last success, methods, report capable
_PEOPLE = [
    ("u-alice", "alice@contoso.example", "Alice Admin", False, 1, 1, ["microsoftAuthenticator"], True),
    ("u-bob", "bob@contoso.example", "Bob Builder", False, 2, 2, ["phone"], False),
    ("u-carol", "carol@contoso.example", "Carol Global", False, 3, 3, [], False),
    ("u-dave", "dave@contoso.example", "Dave Departed", False, 2, 200, ["fido2"], True),
    ("u-erin", "erin@contoso.example", "Erin Engineer", False, 5, 5, ["microsoftAuthenticator"], True),
    ("u-guest", "gus_partner.example#EXT#@contoso.example", "Gus Guest", True, 20, 20, [], None),
]
_MEMBERS = {STAFF: ["u-alice", "u-bob", "u-carol", "u-dave", "u-erin"], ENG: ["u-dave", "u-erin"], ADMINS: ["u-carol"]}
_PER_USER = {"u-bob": "enforced"}
_SP = {
    "@odata.type": _T + "servicePrincipal",
    "id": "sp-deploy",
    "displayName": "deploy-pipeline",
    "appId": "5b2f6a1e-0c4d-4e8f-9a7b-3c2d1e0f9a8b",
}
_RECENT_DAYS = 30  # a sign-in this recent recurs: it ticks; an older one is history and stays fixed
_REPORT_LAG = timedelta(minutes=10)  # the registration report is refreshed shortly before each read


def _signed_in(days: int, now: datetime) -> Tick | str:
    ago = timedelta(days=days)
    return Tick(-ago) if days <= _RECENT_DAYS else _iso(now - ago)


def _user(
    oid: str, upn: str, name: str, guest: bool, tried: int, success: int, created: datetime, now: datetime
) -> dict[str, Any]:
    return {
        "id": oid,
        "displayName": name,
        "userPrincipalName": upn,
        "userType": "Guest" if guest else "Member",
        "accountEnabled": True,
        "createdDateTime": _iso(created),
        "signInActivity": {
            "lastSignInDateTime": _signed_in(tried, now),  # an attempt, successful or not
            # apps refreshing tokens for the accounts in use
            "lastNonInteractiveSignInDateTime": _signed_in(success, now) if success <= _RECENT_DAYS else None,
            "lastSuccessfulSignInDateTime": _signed_in(success, now),
        },
    }


def _principal(oid: str) -> dict[str, Any]:
    if oid in _GROUPS:
        return {"@odata.type": _T + "group", "id": oid, "displayName": _GROUPS[oid], "isAssignableToRole": True}
    if oid == _SP["id"]:
        return dict(_SP)
    upn = next(p[1] for p in _PEOPLE if p[0] == oid)
    return {"@odata.type": _T + "user", "id": oid, "userPrincipalName": upn, "displayName": upn.split("@")[0]}


def _assignment(aid: str, oid: str, role: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": aid,
        "principalId": oid,
        "roleDefinitionId": role,
        "directoryScopeId": "/",
        "principal": _principal(oid),
        **extra,
    }


def _ca(
    pid: str,
    name: str,
    *,
    state: str = "enabled",
    users: dict[str, Any] | None = None,
    grant: dict[str, Any] | None = None,
    **conditions: Any,
) -> dict[str, Any]:
    return {
        "id": pid,
        "displayName": name,
        "state": state,
        "conditions": {
            "users": {
                "includeUsers": ["All"],
                "excludeUsers": [],
                "includeGroups": [],
                "excludeGroups": [],
                "includeRoles": [],
                "excludeRoles": [],
                **(users or {}),
            },
            "applications": {"includeApplications": ["All"], "excludeApplications": []},
            "clientAppTypes": ["all"],
            "userRiskLevels": [],
            "signInRiskLevels": [],
            "platforms": None,
            "locations": None,
            **conditions,
        },
        "grantControls": {
            "operator": "OR",
            "builtInControls": ["mfa"],
            "customAuthenticationFactors": [],
            "termsOfUse": [],
            "authenticationStrength": None,
            **(grant or {}),
        },
    }


_MFA_STRENGTH = {
    "id": "00000000-0000-0000-0000-000000000002",
    "displayName": "Multifactor authentication",
    "policyType": "builtIn",
    "requirementsSatisfied": "mfa",
}
_POLICIES = [
    _ca("ca-all", "Require MFA for all users", users={"excludeGroups": [STAFF]}),
    _ca("ca-risk", "MFA for risky sign-ins", signInRiskLevels=["high"]),
    _ca("ca-pilot", "MFA pilot", state="enabledForReportingButNotEnforced"),
    _ca(
        "ca-eng",
        "Engineering: MFA or compliant device",
        users={"includeUsers": [], "includeGroups": [ENG]},
        grant={"builtInControls": ["compliantDevice"], "authenticationStrength": _MFA_STRENGTH},
    ),
    _ca("ca-admins", "Require MFA for admins", users={"includeUsers": [], "includeRoles": [GLOBAL_ADMIN]}),
    _ca(
        "ca-legacy",
        "Block legacy authentication",
        clientAppTypes=["exchangeActiveSync", "other"],
        grant={"builtInControls": ["block"]},
    ),
]


def _methods(kinds: list[str]) -> list[dict[str, Any]]:
    out = [{"@odata.type": _T + "passwordAuthenticationMethod", "id": "28c10230-6103-485e-b985-444c60001490"}]
    for i, kind in enumerate(kinds):
        method: dict[str, Any] = {"@odata.type": f"{_T}{kind}AuthenticationMethod", "id": f"m-{i}"}
        if kind == "phone":
            method.update(phoneType="mobile", phoneNumber="+1 5555550100")
        out.append(method)
    return out


def _methods_policy() -> dict[str, Any]:
    def config(cid: str, state: str) -> dict[str, Any]:
        return {
            "@odata.type": f"{_T}{cid[0].lower()}{cid[1:]}AuthenticationMethodConfiguration",
            "id": cid,
            "state": state,
            "includeTargets": [{"targetType": "group", "id": "all_users"}],
        }

    return {
        "id": "authenticationMethodsPolicy",
        "policyMigrationState": "migrationComplete",
        "authenticationMethodConfigurations": [
            config("MicrosoftAuthenticator", "enabled"),
            config("Fido2", "enabled"),
            config("Sms", "disabled"),
            config("Voice", "disabled"),
            config("Email", "enabled"),
            config("TemporaryAccessPass", "enabled"),
        ],
    }


def _app(oid: str, name: str, secrets: list[tuple[datetime, datetime]], now: datetime) -> dict[str, Any]:
    return {
        "id": oid,
        "appId": f"{oid}-appid",
        "displayName": name,
        "keyCredentials": [],
        "passwordCredentials": [
            {
                "keyId": f"{oid}-s{i}",
                "displayName": f"secret {i + 1}",
                "hint": "abc",
                "startDateTime": _iso(start),
                "endDateTime": _iso(end),
            }
            for i, (start, end) in enumerate(secrets)
        ],
    }


def entra_graph(now: datetime | None = None) -> dict[str, Any]:
    """Graph paths of the tenant's directory: users, MFA, roles, groups, policies, apps."""
    now = now or datetime.now(UTC)
    day = timedelta(days=1)
    created = now - 400 * day
    paths: dict[str, Any] = {
        "/v1.0/users": [_user(o, u, n, g, t, s, created, now) for o, u, n, g, t, s, _, _ in _PEOPLE],
        "/v1.0/reports/authenticationMethods/userRegistrationDetails": [
            {
                "id": o,
                "userPrincipalName": u,
                "isMfaRegistered": bool(m),
                "isMfaCapable": c,
                "methodsRegistered": ["mobilePhone" if k == "phone" else k for k in m],
                "isAdmin": o == "u-alice",
                "lastUpdatedDateTime": Tick(-_REPORT_LAG),
            }
            for o, u, _, g, _, _, m, c in _PEOPLE
            if not g
        ],
        "/v1.0/roleManagement/directory/roleDefinitions": [
            {"id": rid, "templateId": rid, "displayName": name} for rid, name in _ROLES.items()
        ],
        "/v1.0/roleManagement/directory/roleAssignments": [
            _assignment("ra-1", "u-alice", GLOBAL_ADMIN),
            _assignment("ra-2", ADMINS, GLOBAL_ADMIN),  # carol is Global Administrator through this group
            _assignment("ra-3", "u-erin", SECURITY_READER),
            _assignment("ra-4", _SP["id"], APP_ADMIN),
        ],
        "/v1.0/roleManagement/directory/roleAssignmentScheduleInstances": [
            {
                "id": f"rasi-{i}",
                "principalId": p,
                "roleDefinitionId": r,
                "directoryScopeId": "/",
                "assignmentType": "Assigned",
                "memberType": "Direct",
                "startDateTime": _iso(created),
                "endDateTime": None,
            }
            for i, (p, r) in enumerate(
                [("u-alice", GLOBAL_ADMIN), (ADMINS, GLOBAL_ADMIN), ("u-erin", SECURITY_READER), (_SP["id"], APP_ADMIN)]
            )
        ],
        "/v1.0/roleManagement/directory/roleEligibilityScheduleInstances": [
            _assignment(
                "resi-1",
                "u-erin",
                PRIV_ROLE_ADMIN,
                memberType="Direct",
                startDateTime=_iso(now - 30 * day),
                endDateTime=_iso(now + 150 * day),
            ),
        ],
        "/v1.0/policies/identitySecurityDefaultsEnforcementPolicy": {
            "id": "00000000-0000-0000-0000-000000000005",
            "displayName": "Security Defaults",
            "isEnabled": False,
        },
        "/v1.0/identity/conditionalAccess/policies": _POLICIES,
        "/v1.0/policies/authorizationPolicy": {
            "id": "authorizationPolicy",
            "allowInvitesFrom": "everyone",
            "guestUserRoleId": "10dae51f-b6af-4016-8d66-8c2a99b929b3",
            "allowedToSignUpEmailBasedSubscriptions": True,
            "defaultUserRolePermissions": {
                "allowedToCreateApps": True,
                "allowedToCreateSecurityGroups": True,
                "allowedToReadOtherUsers": True,
                "permissionGrantPoliciesAssigned": [
                    "ManagePermissionGrantsForSelf.microsoft-user-default-legacy",
                    "ManagePermissionGrantsForOwnedResource.microsoft-dynamically-managed-permissions-for-team",
                ],
            },
        },
        "/v1.0/policies/authenticationMethodsPolicy": _methods_policy(),
        "/v1.0/applications": [
            _app(
                "app-billing",
                "billing-api",
                [(now - 400 * day, now - 35 * day), (now - 40 * day, now + 140 * day)],
                now,
            ),
            _app("app-reporting", "reporting-app", [(now - 10 * day, now + 720 * day)], now),
            _app("app-portal", "customer-portal", [(now - 60 * day, now + 120 * day)], now),
        ],
    }
    for gid, name in _GROUPS.items():
        paths[f"/v1.0/groups/{gid}"] = {"id": gid, "displayName": name}
        paths[f"/v1.0/groups/{gid}/transitiveMembers"] = [_principal(oid) for oid in _MEMBERS[gid]]
    for oid, _, _, _, _, _, kinds, _ in _PEOPLE:
        paths[f"/beta/users/{oid}/authentication/requirements"] = {"perUserMfaState": _PER_USER.get(oid, "disabled")}
        paths[f"/v1.0/users/{oid}/authentication/methods"] = _methods(kinds)
    return paths

"""The demo tenant's Entra ID, as Microsoft Graph serves it: path -> list (paged) or object.

Users without MFA, a global admin without MFA, a guest, an unused account, Conditional Access."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from agent.demo.azure_ids import GLOBAL_ADMIN, SECURITY_READER
from agent.demo.azure_ids import iso as _iso

__all__ = ["entra_graph"]


def _user(
    oid: str,
    upn: str,
    name: str,
    *,
    guest: bool = False,
    enabled: bool = True,
    last: datetime | None,
    created: datetime,
) -> dict[str, Any]:
    return {
        "id": oid,
        "displayName": name,
        "userPrincipalName": upn,
        "userType": "Guest" if guest else "Member",
        "accountEnabled": enabled,
        "createdDateTime": _iso(created),
        "signInActivity": {
            "lastSignInDateTime": _iso(last) if last else None,
            "lastNonInteractiveSignInDateTime": None,
        },
    }


def _reg(oid: str, upn: str, mfa: bool, admin: bool = False) -> dict[str, Any]:
    return {
        "id": oid,
        "userPrincipalName": upn,
        "isMfaRegistered": mfa,
        "isMfaCapable": mfa,
        "methodsRegistered": ["microsoftAuthenticatorPush"] if mfa else [],
        "isAdmin": admin,
    }



def entra_graph(now: datetime | None = None) -> dict[str, Any]:
    """Graph paths of the tenant's directory: users, MFA registration, roles, policies."""
    now = now or datetime.now(UTC)
    people = [
        ("u-alice", "alice@contoso.example", "Alice Admin", False, True, 1, True),
        ("u-bob", "bob@contoso.example", "Bob Builder", False, True, 2, False),
        ("u-carol", "carol@contoso.example", "Carol Global", False, True, 3, False),
        ("u-dave", "dave@contoso.example", "Dave Departed", False, True, 200, True),
        ("u-erin", "erin@contoso.example", "Erin Engineer", False, True, 5, True),
        ("u-guest", "gus_partner.example#EXT#@contoso.example", "Gus Guest", True, True, 20, False),
    ]
    users = [
        _user(
            oid,
            upn,
            name,
            guest=g,
            enabled=e,
            last=now - timedelta(days=d),
            created=now - timedelta(days=400),
        )
        for oid, upn, name, g, e, d, _ in people
    ]
    registration = [
        _reg(oid, upn, mfa, oid in ("u-alice", "u-carol")) for oid, upn, _, g, _, _, mfa in people if not g
    ]
    return {
        "/v1.0/users": users,
        "/v1.0/reports/authenticationMethods/userRegistrationDetails": registration,
        "/v1.0/roleManagement/directory/roleDefinitions": [
            {"id": GLOBAL_ADMIN, "templateId": GLOBAL_ADMIN, "displayName": "Global Administrator"},
            {"id": SECURITY_READER, "templateId": SECURITY_READER, "displayName": "Security Reader"},
        ],
        "/v1.0/roleManagement/directory/roleAssignments": [
            {
                "id": "ra-1",
                "principalId": "u-alice",
                "roleDefinitionId": GLOBAL_ADMIN,
                "directoryScopeId": "/",
            },
            {
                "id": "ra-2",
                "principalId": "u-carol",
                "roleDefinitionId": GLOBAL_ADMIN,
                "directoryScopeId": "/",
            },
            {
                "id": "ra-3",
                "principalId": "u-erin",
                "roleDefinitionId": SECURITY_READER,
                "directoryScopeId": "/",
            },
        ],
        "/v1.0/policies/identitySecurityDefaultsEnforcementPolicy": {
            "id": "00000000-0000-0000-0000-000000000005",
            "displayName": "Security Defaults",
            "isEnabled": False,
        },
        "/v1.0/identity/conditionalAccess/policies": [
            {
                "id": "ca-1",
                "displayName": "Require MFA for admins",
                "state": "enabled",
                "conditions": {
                    "users": {"includeUsers": [], "includeRoles": [GLOBAL_ADMIN], "excludeUsers": []},
                    "applications": {"includeApplications": ["All"]},
                },
                "grantControls": {"operator": "OR", "builtInControls": ["mfa"]},
            },
        ],
    }

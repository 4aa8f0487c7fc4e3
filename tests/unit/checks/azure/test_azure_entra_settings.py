"""Tenant user settings from the authorization policy: guest invitations, guest access, user consent,
app registration."""
# ruff: noqa: E501 -- case tables read best with one case per line

from __future__ import annotations

from typing import Any

import pytest
from azure_check_fixtures import ERROR, FAIL, PASS, Case, assert_covered, case, check_case
from entra_fixtures import tenant

import checks.azure.entra_settings as settings

LEGACY = "ManagePermissionGrantsForSelf.microsoft-user-default-legacy"
LOW = "ManagePermissionGrantsForSelf.microsoft-user-default-low"
TEAMS = "ManagePermissionGrantsForOwnedResource.microsoft-dynamically-managed-permissions-for-team"
DENIED = {"AuthorizationPolicy": "Authorization_RequestDenied: Insufficient privileges (Policy.Read.All)"}


def authz(**over: Any) -> Any:
    policy: dict[str, Any] = {
        "allowInvitesFrom": "adminsAndGuestInviters",
        "guestUserRoleId": settings.RESTRICTED_GUEST,
        "defaultUserRolePermissions": {"allowedToCreateApps": False, "permissionGrantPoliciesAssigned": []},
    }
    perms = over.pop("perms", {})
    policy.update(over)
    policy["defaultUserRolePermissions"] = {**policy["defaultUserRolePermissions"], **perms}
    return tenant(AuthorizationPolicy=policy)


CASES = [
    case(settings.guest_invites_restricted, authz(), PASS, "adminsAndGuestInviters", id="pass"),
    case(settings.guest_invites_restricted, authz(allowInvitesFrom="none"), PASS, "none", id="none"),
    case(
        settings.guest_invites_restricted,
        authz(allowInvitesFrom="everyone"),
        FAIL,
        "anyone (guests included)",
        id="everyone",
    ),
    case(
        settings.guest_invites_restricted,
        authz(allowInvitesFrom="adminsGuestInvitersAndAllMembers"),
        FAIL,
        "every member user",
        id="members",
        looks_fine="guests can no longer invite, but every member still can: not only admin roles",
    ),
    case(settings.guest_invites_restricted, tenant(errors=DENIED), ERROR, "Policy.Read.All", id="denied"),
    case(
        settings.guest_invites_restricted,
        tenant(AuthorizationPolicy={}),
        ERROR,
        "allowInvitesFrom was not returned",
        id="field-missing",
    ),
    case(settings.guest_access_restricted, authz(), PASS, "restricted to their own directory objects", id="pass"),
    case(
        settings.guest_access_restricted,
        authz(guestUserRoleId="10dae51f-b6af-4016-8d66-8c2a99b929b3"),
        FAIL,
        "limited access",
        id="default-limited",
        looks_fine="the default level is called 'limited access', yet guests can still enumerate users and groups",
    ),
    case(
        settings.guest_access_restricted,
        authz(guestUserRoleId="a0b1b346-4d3e-4e8b-98f8-753987be4970"),
        FAIL,
        "same access as members",
        id="member-level",
    ),
    case(settings.guest_access_restricted, tenant(errors=DENIED), ERROR, "Authorization_RequestDenied", id="denied"),
    case(settings.user_consent_restricted, authz(), PASS, "cannot consent", id="pass"),
    case(
        settings.user_consent_restricted,
        authz(perms={"permissionGrantPoliciesAssigned": [TEAMS]}),
        PASS,
        "cannot consent",
        id="group-owner-consent-only",
    ),
    case(
        settings.user_consent_restricted,
        authz(perms={"permissionGrantPoliciesAssigned": [LEGACY, TEAMS]}),
        FAIL,
        "microsoft-user-default-legacy",
        id="legacy",
    ),
    case(
        settings.user_consent_restricted,
        authz(perms={"permissionGrantPoliciesAssigned": [LOW]}),
        FAIL,
        "microsoft-user-default-low",
        id="low-by-default",
        looks_fine="consent is limited to verified publishers and low-risk permissions, but users can still consent",
    ),
    case(
        settings.user_consent_restricted,
        authz(perms={"permissionGrantPoliciesAssigned": [LOW]}),
        PASS,
        "verified publishers",
        params={"allow_verified_publishers": True},
        id="low-allowed",
    ),
    case(
        settings.user_consent_restricted,
        authz(perms={"permissionGrantPoliciesAssigned": ["ManagePermissionGrantsForSelf.custom-consent"]}),
        FAIL,
        "custom-consent",
        params={"allow_verified_publishers": True},
        id="custom-policy",
    ),
    case(settings.user_consent_restricted, tenant(errors=DENIED), ERROR, "denied", id="denied"),
    case(settings.users_cannot_register_apps, authz(), PASS, "cannot register", id="pass"),
    case(
        settings.users_cannot_register_apps,
        authz(perms={"allowedToCreateApps": True}),
        FAIL,
        "every user can register",
        id="fail",
    ),
    case(
        settings.users_cannot_register_apps,
        tenant(AuthorizationPolicy={"defaultUserRolePermissions": {}}),
        ERROR,
        "allowedToCreateApps was not returned",
        id="missing",
        looks_fine="defaultUserRolePermissions is there but says nothing about app registration: the default is 'yes'",
    ),
    case(settings.users_cannot_register_apps, tenant(errors=DENIED), ERROR, "Policy.Read.All", id="denied"),
]


@pytest.mark.parametrize("c", CASES)
def test_entra_settings_case(c: Case) -> None:
    check_case(c)


def test_every_check_has_pass_fail_error() -> None:
    assert_covered(CASES, [settings])

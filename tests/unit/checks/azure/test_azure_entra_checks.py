"""Entra ID user checks: a usable second factor, privileged roles (however held), guests, inactivity."""
# ruff: noqa: E501 -- case tables read best with one case per line

from __future__ import annotations

import pytest
from azure_check_fixtures import ERROR, FAIL, NA, PASS, Case, ago, assert_covered, case, check_case
from entra_fixtures import (
    CAPABLE,
    GA,
    NO_P1,
    NOT_REGISTERED,
    PRA,
    READER,
    REGISTERED_NOT_CAPABLE,
    guest,
    role,
    tenant,
    user,
)

import checks.azure.entra as entra
from checks.azure import _util

T = "#microsoft.graph."
METHODS_POLICY = {
    "policyMigrationState": "migrationComplete",
    "authenticationMethodConfigurations": [
        {
            "id": "MicrosoftAuthenticator",
            "state": "enabled",
            "includeTargets": [{"targetType": "group", "id": "all_users"}],
            "excludeTargets": [],
        },
        {
            "id": "Sms",
            "state": "disabled",
            "includeTargets": [{"targetType": "group", "id": "all_users"}],
            "excludeTargets": [],
        },
        {
            "id": "Fido2",
            "state": "enabled",
            "includeTargets": [{"targetType": "group", "id": "g-admins"}],
            "excludeTargets": [],
        },
    ],
}
NO_P1_TENANT = tenant(
    AuthenticationMethodsPolicy=METHODS_POLICY, GroupMembers={"g-admins": {"displayName": "Admins", "members": ["u1"]}}
)


def no_p1_user(methods: list[str], oid: str = "u1", **over: object) -> object:
    """A user in a tenant without Entra ID P1: no registration report, their methods instead."""
    return user(
        oid,
        errors={"Registration": NO_P1},
        AuthenticationMethods=[
            {"@odata.type": T + "passwordAuthenticationMethod"},
            *({"@odata.type": f"{T}{m}AuthenticationMethod"} for m in methods),
        ],
        **over,
    )


CASES = [
    # MFA capability
    case(entra.user_mfa_registered, user(), PASS, "can perform MFA (per the registration report)", id="pass"),
    case(entra.user_mfa_registered, user(Registration=NOT_REGISTERED), FAIL, "cannot perform MFA", id="fail"),
    case(
        entra.user_mfa_registered,
        user(Registration=REGISTERED_NOT_CAPABLE),
        FAIL,
        "cannot perform MFA",
        id="defect-registered-not-capable",
        looks_fine="isMfaRegistered is true, but the registered method (SMS) is disabled by policy: isMfaCapable is false",
    ),
    case(entra.user_mfa_registered, guest(), NA, "azure.entra.user_mfa_required", id="guest"),
    case(
        entra.user_mfa_registered,
        user(Registration=NOT_REGISTERED, accountEnabled=False),
        NA,
        "disabled",
        id="disabled",
    ),
    case(entra.user_mfa_registered, user(Registration=None), ERROR, "no row", id="not-in-report"),
    case(
        entra.user_mfa_registered,
        user(Registration={"isMfaRegistered": True}),
        ERROR,
        "isMfaCapable",
        id="no-capable-field",
        looks_fine="isMfaRegistered is true but the row carries no isMfaCapable",
    ),
    case(
        entra.user_mfa_registered,
        user(errors={"Registration": "Authorization_RequestDenied: no AuditLog.Read.All"}),
        ERROR,
        "AuditLog.Read.All",
        id="denied",
    ),
    case(
        entra.user_mfa_registered,
        [no_p1_user(["microsoftAuthenticator"]), NO_P1_TENANT],
        PASS,
        "registered methods and the authentication methods policy",
        id="defect-no-p1-fallback-pass",
    ),
    case(
        entra.user_mfa_registered,
        [no_p1_user(["phone"]), NO_P1_TENANT],
        FAIL,
        "registered methods",
        id="defect-no-p1-fallback-sms-disabled",
        looks_fine="a phone method is registered, but SMS and voice are disabled in the authentication methods policy",
    ),
    case(
        entra.user_mfa_registered,
        [no_p1_user(["email", "temporaryAccessPass"]), NO_P1_TENANT],
        FAIL,
        "cannot perform MFA",
        id="no-p1-email-tap-only",
        looks_fine="email OTP and a Temporary Access Pass are registered, but neither is an MFA method",
    ),
    case(
        entra.user_mfa_registered,
        [no_p1_user(["fido2"]), NO_P1_TENANT],
        PASS,
        "can perform MFA",
        id="no-p1-fido2-group-target",
    ),
    case(
        entra.user_mfa_registered,
        [no_p1_user(["fido2"], oid="u2"), NO_P1_TENANT],
        FAIL,
        "cannot perform MFA",
        id="no-p1-fido2-not-targeted",
    ),
    case(
        entra.user_mfa_registered,
        [no_p1_user(["microsoftAuthenticator"]), tenant()],
        ERROR,
        "AuthenticationMethodsPolicy",
        id="no-p1-policy-missing",
    ),
    case(
        entra.user_mfa_registered,
        user(errors={"Registration": NO_P1, "AuthenticationMethods": "Authorization_RequestDenied: denied"}),
        ERROR,
        "UserAuthenticationMethod.Read.All",
        id="no-p1-methods-denied",
    ),
    # privileged roles, however held
    case(
        entra.privileged_user_mfa,
        user(Roles=[role(GA)]),
        PASS,
        "Global Administrator (active, directly) and can perform MFA",
        id="pass",
    ),
    case(
        entra.privileged_user_mfa,
        user(Roles=[role(GA)], Registration=NOT_REGISTERED),
        FAIL,
        "holds Global Administrator (active, directly) and cannot",
        id="fail",
    ),
    case(
        entra.privileged_user_mfa,
        user(Roles=[role(GA, group="tenant_admins")], Registration=NOT_REGISTERED),
        FAIL,
        "via group Tenant_Admins",
        id="ga-by-group",
        looks_fine="no role is assigned to the user; Global Administrator comes through a role-assignable group",
    ),
    case(
        entra.privileged_user_mfa,
        user(EligibleRoles=[role(PRA, "eligible", end=ago(-90), permanent=False)], Registration=NOT_REGISTERED),
        FAIL,
        "Privileged Role Administrator (eligible",
        id="pim-eligible",
        looks_fine="no active role at all; the user is PIM-eligible and can activate Privileged Role Administrator at will",
    ),
    case(
        entra.privileged_user_mfa,
        user(Roles=[role(GA)], Registration=REGISTERED_NOT_CAPABLE),
        FAIL,
        "cannot perform MFA",
        id="ga-registered-not-capable",
        looks_fine="isMfaRegistered is true for the admin, but isMfaCapable is false",
    ),
    case(
        entra.privileged_user_mfa,
        user(Roles=[role(READER)], Registration=NOT_REGISTERED),
        NA,
        "no privileged",
        id="reader",
    ),
    case(
        entra.privileged_user_mfa,
        user(Roles=[role(READER)], Registration=NOT_REGISTERED),
        FAIL,
        "Security Reader",
        params={"extra_roles": ["Security Reader"]},
        id="extra-role",
    ),
    case(
        entra.privileged_user_mfa,
        user(Roles=[role(GA)], Registration=NOT_REGISTERED, accountEnabled=False),
        PASS,
        "disabled",
        id="disabled",
    ),
    case(
        entra.privileged_user_mfa,
        user(errors={"Roles": "Authorization_RequestDenied"}),
        ERROR,
        "Roles",
        id="roles-denied",
    ),
    case(
        entra.privileged_user_mfa,
        user(errors={"EligibleRoles": "Authorization_RequestDenied: RoleEligibilitySchedule.Read.Directory"}),
        ERROR,
        "RoleEligibilitySchedule",
        id="eligibility-denied",
    ),
    case(
        entra.privileged_user_mfa,
        user(Roles=[role(GA)], Registration=NOT_REGISTERED, errors={"EligibleRoles": "Authorization_RequestDenied"}),
        FAIL,
        "Global Administrator",
        id="eligibility-unknown-active-ga",
    ),
    case(
        entra.privileged_user_mfa,
        user(Roles=[role(GA)], errors={"Registration": "denied"}),
        ERROR,
        "Registration",
        id="reg-denied",
    ),
    # guests
    case(entra.guest_no_privileged_role, guest(), PASS, "no privileged", id="pass"),
    case(entra.guest_no_privileged_role, guest(Roles=[role(GA)]), FAIL, "Global Administrator", id="fail"),
    case(
        entra.guest_no_privileged_role,
        guest(EligibleRoles=[role(GA, "eligible", permanent=False)]),
        FAIL,
        "eligible",
        id="eligible",
        looks_fine="the guest holds no active role, but is eligible for Global Administrator in PIM",
    ),
    case(entra.guest_no_privileged_role, user(Roles=[role(GA)]), NA, "member", id="member"),
    case(entra.guest_no_privileged_role, guest(errors={"Roles": "denied"}), ERROR, "Roles", id="error"),
    # inactivity: only successful sign-ins count
    case(
        entra.user_inactive_90d,
        user(),
        PASS,
        "signed in successfully in the last 90 days (observed: last successful sign-in 2025-05-29T12:00",
        id="pass",
    ),
    case(
        entra.user_inactive_90d,
        user(
            SignInActivity={
                "lastSignInDateTime": ago(1),
                "lastNonInteractiveSignInDateTime": ago(1),
                "lastSuccessfulSignInDateTime": ago(200),
            }
        ),
        FAIL,
        "last signed in successfully on 2024-11-13",
        id="defect-failed-only-signins",
        looks_fine="lastSignInDateTime and lastNonInteractiveSignInDateTime are yesterday, but they count failed attempts (password spraying)",
    ),
    case(
        entra.user_inactive_90d,
        user(SignInActivity={"lastSuccessfulSignInDateTime": ago(120)}),
        FAIL,
        "last signed in successfully on 2025-02-01, 90 or more days ago",
        id="fail",
    ),
    case(
        entra.user_inactive_90d,
        user(SignInActivity={"lastSignInDateTime": ago(2), "lastSuccessfulSignInDateTime": None}),
        FAIL,
        "no successful sign-in",
        id="never-succeeded",
        looks_fine="a sign-in attempt two days ago, but no successful sign-in since December 2023",
    ),
    case(
        entra.user_inactive_90d,
        user(SignInActivity={}, createdDateTime=ago(5)),
        PASS,
        "created on 2025-05-27, less than 90 days ago, not used yet",
        id="new",
    ),
    case(
        entra.user_inactive_90d,
        user(SignInActivity={"lastSuccessfulSignInDateTime": ago(120)}, accountEnabled=False),
        NA,
        "disabled",
        id="disabled",
    ),
    case(
        entra.user_inactive_90d,
        user(SignInActivity={"lastSuccessfulSignInDateTime": ago(40)}),
        FAIL,
        "on 2025-04-22, 30 or more days ago",
        params={"days": 30},
        id="param",
    ),
    case(
        entra.user_inactive_90d,
        user(SignInActivity={"lastSuccessfulSignInDateTime": "2025-05-30T10:11:12.1234567Z"}),
        PASS,
        "(observed: last successful sign-in 2025-05-30T10:11:12.123456",
        id="seven-digits",
    ),
    case(
        entra.user_inactive_90d,
        user(errors={"SignInActivity": "Authentication_RequestFromNonPremiumTenantOrB2CTenant: no premium"}),
        ERROR,
        "Entra ID P1",
        id="no-p1",
    ),
    case(
        entra.user_inactive_90d,
        user(SignInActivity={"lastSuccessfulSignInDateTime": "yesterday"}),
        ERROR,
        "not a date",
        id="garbage",
    ),
]


@pytest.mark.parametrize("c", CASES)
def test_entra_case(c: Case) -> None:
    check_case(c)


def test_every_entra_check_has_pass_fail_error() -> None:
    assert_covered(CASES, [entra])


def test_listing_error_gives_one_scope_error() -> None:
    from azure_check_fixtures import listing_error

    finding = Case(entra.user_mfa_registered, [], ERROR, errors=[listing_error("azure.entra.user")]).run()
    assert finding.status == ERROR and "could not list azure.entra.user" in finding.message


def test_privileged_roles_by_template_or_name() -> None:
    ga, reader = role(GA), role(READER)
    assert _util.privileged_roles([ga, reader]) == ["Global Administrator"]
    assert _util.privileged_roles([{"name": "Global Administrator"}]) == ["Global Administrator"]
    assert _util.privileged_roles([reader], ["Security Reader"]) == ["Security Reader"]


def test_capable_comes_from_the_report_when_both_are_there() -> None:
    # the report wins over a method list: it applies the policy exactly as Entra does
    both = user(
        Registration=REGISTERED_NOT_CAPABLE, AuthenticationMethods=[{"@odata.type": T + "fido2AuthenticationMethod"}]
    )
    assert Case(entra.user_mfa_registered, [both, NO_P1_TENANT], FAIL).run().status == FAIL
    assert CAPABLE["isMfaCapable"] is True

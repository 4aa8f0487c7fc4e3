"""Entra ID checks: MFA registration, privileged roles, guests, inactivity, tenant MFA enforcement."""
# ruff: noqa: E501 -- case tables read best with one case per line

from __future__ import annotations

from typing import Any

import pytest
from azure_check_fixtures import ERROR, FAIL, NA, PASS, TENANT, Case, ago, assert_covered, case, check_case

import checks.azure.entra as entra
from agent.models import Resource
from checks.azure import _util

GA = {"name": "Global Administrator", "templateId": "62e90394-69f5-4237-9190-012177145e10", "scope": "/"}
READER = {"name": "Security Reader", "templateId": "5d6b6bb7-de71-4623-b4af-96380a352509", "scope": "/"}
MFA = {"isMfaRegistered": True, "methodsRegistered": ["fido2"]}
NO_MFA = {"isMfaRegistered": False, "methodsRegistered": []}


def user(errors: dict[str, str] | None = None, **over: Any) -> Resource:
    attrs: dict[str, Any] = {"id": "u1", "userPrincipalName": "alice@contoso.example", "userType": "Member",
                             "accountEnabled": True, "createdDateTime": ago(400), "Registration": MFA,
                             "Roles": [], "SignInActivity": {"lastSignInDateTime": ago(3)}}
    attrs.update(over)
    return Resource(provider="azure", account=TENANT, region="global", type="azure.entra.user",
                    id=f"entra:{TENANT}:user:u1", name="alice@contoso.example", attributes=attrs,
                    errors=dict(errors or {}))


def tenant(errors: dict[str, str] | None = None, **attrs: Any) -> Resource:
    return Resource(provider="azure", account=TENANT, region="global", type="azure.entra.tenant",
                    id=f"entra:{TENANT}:tenant", name=TENANT, attributes=attrs, errors=dict(errors or {}))


def ca(state: str = "enabled", users: list[str] | None = None, apps: list[str] | None = None,
       controls: list[str] | None = None, operator: str = "OR") -> dict[str, Any]:
    return {"id": "p", "displayName": "MFA all", "state": state,
            "conditions": {"users": {"includeUsers": ["All"] if users is None else users},
                           "applications": {"includeApplications": ["All"] if apps is None else apps}},
            "grantControls": {"operator": operator, "builtInControls": ["mfa"] if controls is None else controls}}


SD_OFF = {"isEnabled": False}
CASES = [
    # MFA registration
    case(entra.user_mfa_registered, user(), PASS, "has an MFA method", id="pass"),
    case(entra.user_mfa_registered, user(Registration=NO_MFA), FAIL, "no MFA method", id="fail"),
    case(entra.user_mfa_registered, user(Registration=NO_MFA, userType="Guest"), NA, "guest", id="guest"),
    case(entra.user_mfa_registered, user(Registration=NO_MFA, accountEnabled=False), NA, "disabled", id="disabled"),
    case(entra.user_mfa_registered, user(Registration=None), ERROR, "no row", id="not-in-report"),
    case(entra.user_mfa_registered, user(errors={"Registration": "Authorization_RequestDenied: no AuditLog.Read.All"}), ERROR, "AuditLog.Read.All", id="denied"),
    # privileged roles
    case(entra.privileged_user_mfa, user(Roles=[GA]), PASS, "Global Administrator and has MFA", id="pass"),
    case(entra.privileged_user_mfa, user(Roles=[GA], Registration=NO_MFA), FAIL, "holds Global Administrator and has no MFA", id="fail"),
    case(entra.privileged_user_mfa, user(Roles=[{"name": "Privileged Role Administrator", "templateId": "e8611ab8-c189-46e8-94e1-60213ab1f814"}], Registration=NO_MFA), FAIL, "Privileged Role Administrator", id="fail-pra"),
    case(entra.privileged_user_mfa, user(Roles=[READER], Registration=NO_MFA), NA, "no privileged", id="reader"),
    case(entra.privileged_user_mfa, user(Roles=[READER], Registration=NO_MFA), FAIL, "Security Reader", params={"extra_roles": ["Security Reader"]}, id="extra-role"),
    case(entra.privileged_user_mfa, user(Roles=[GA], Registration=NO_MFA, accountEnabled=False), PASS, "disabled", id="disabled"),
    case(entra.privileged_user_mfa, user(errors={"Roles": "Authorization_RequestDenied"}), ERROR, "Roles", id="roles-denied"),
    case(entra.privileged_user_mfa, user(Roles=[GA], errors={"Registration": "denied"}), ERROR, "Registration", id="reg-denied"),
    # guests
    case(entra.guest_no_privileged_role, user(userType="Guest"), PASS, "no privileged", id="pass"),
    case(entra.guest_no_privileged_role, user(userType="Guest", Roles=[GA]), FAIL, "Global Administrator", id="fail"),
    case(entra.guest_no_privileged_role, user(Roles=[GA]), NA, "member", id="member"),
    case(entra.guest_no_privileged_role, user(userType="Guest", errors={"Roles": "denied"}), ERROR, "Roles", id="error"),
    # inactivity
    case(entra.user_inactive_90d, user(), PASS, "signed in 3 days ago", id="pass"),
    case(entra.user_inactive_90d, user(SignInActivity={"lastSignInDateTime": ago(120), "lastNonInteractiveSignInDateTime": ago(10)}), PASS, "10 days", id="non-interactive"),
    case(entra.user_inactive_90d, user(SignInActivity={"lastSignInDateTime": ago(120)}), FAIL, "120 days ago", id="fail"),
    case(entra.user_inactive_90d, user(SignInActivity={"lastSignInDateTime": None}), FAIL, "no sign-in", id="never"),
    case(entra.user_inactive_90d, user(SignInActivity={}, createdDateTime=ago(5)), PASS, "created 5 days ago", id="new"),
    case(entra.user_inactive_90d, user(SignInActivity={"lastSignInDateTime": ago(120)}, accountEnabled=False), NA, "disabled", id="disabled"),
    case(entra.user_inactive_90d, user(SignInActivity={"lastSignInDateTime": ago(40)}), FAIL, "40 days", params={"days": 30}, id="param"),
    case(entra.user_inactive_90d, user(SignInActivity={"lastSignInDateTime": "2025-05-30T10:11:12.1234567Z"}), PASS, "signed in 2 days", id="seven-digits"),
    case(entra.user_inactive_90d, user(errors={"SignInActivity": "Authentication_RequestFromNonPremiumTenantOrB2CTenant"}), ERROR, "NonPremium", id="no-p1"),
    case(entra.user_inactive_90d, user(SignInActivity={"lastSignInDateTime": "yesterday"}), ERROR, "not a date", id="garbage"),
    # tenant MFA
    case(entra.tenant_mfa_enforced, tenant(SecurityDefaults={"isEnabled": True}, ConditionalAccessPolicies=[]), PASS, "security defaults are enabled", id="sd"),
    case(entra.tenant_mfa_enforced, tenant(SecurityDefaults=SD_OFF, ConditionalAccessPolicies=[ca()]), PASS, "MFA all", id="ca"),
    case(entra.tenant_mfa_enforced, tenant(SecurityDefaults=SD_OFF, ConditionalAccessPolicies=[ca(controls=[], operator="AND") | {"grantControls": {"authenticationStrength": {"id": "x"}}}]), PASS, "requires MFA", id="ca-strength"),
    case(entra.tenant_mfa_enforced, tenant(SecurityDefaults=SD_OFF, ConditionalAccessPolicies=[]), FAIL, "security defaults are off", id="nothing"),
    case(entra.tenant_mfa_enforced, tenant(SecurityDefaults=SD_OFF, ConditionalAccessPolicies=[ca(state="enabledForReportingButNotEnforced")]), FAIL, "no enabled", id="report-only"),
    case(entra.tenant_mfa_enforced, tenant(SecurityDefaults=SD_OFF, ConditionalAccessPolicies=[ca(users=[])]), FAIL, "1 policies", id="admins-only"),
    case(entra.tenant_mfa_enforced, tenant(SecurityDefaults=SD_OFF, ConditionalAccessPolicies=[ca(apps=["office"])]), FAIL, "all apps", id="one-app"),
    case(entra.tenant_mfa_enforced, tenant(SecurityDefaults=SD_OFF, ConditionalAccessPolicies=[ca(controls=["mfa", "compliantDevice"])]), FAIL, "no enabled", id="mfa-or-device"),
    case(entra.tenant_mfa_enforced, tenant(errors={"SecurityDefaults": "denied"}, ConditionalAccessPolicies=[ca()]), PASS, "MFA all", id="sd-unknown-ca-ok"),
    case(entra.tenant_mfa_enforced, tenant(SecurityDefaults=SD_OFF, errors={"ConditionalAccessPolicies": "Policy.Read.All missing"}), ERROR, "Policy.Read.All", id="ca-denied"),
    case(entra.tenant_mfa_enforced, tenant(errors={"SecurityDefaults": "denied"}, ConditionalAccessPolicies=[]), ERROR, "security defaults unknown", id="sd-denied"),
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
    assert _util.privileged_roles([GA, READER]) == ["Global Administrator"]
    assert _util.privileged_roles([{"name": "Global Administrator"}]) == ["Global Administrator"]
    assert _util.privileged_roles([READER], ["Security Reader"]) == ["Security Reader"]

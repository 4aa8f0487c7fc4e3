"""Does sign-in require MFA? Conditional Access read the way Entra applies it, per user and per tenant;
MFA for admins and for Azure management; legacy authentication blocked."""
# ruff: noqa: E501 -- case tables read best with one case per line

from __future__ import annotations

import pytest
from azure_check_fixtures import ERROR, FAIL, NA, PASS, Case, assert_covered, case, check_case
from entra_fixtures import GA, MFA_STRENGTH, PRA, SEC_ADMIN, ca, groups, guest, role, tenant, user

import checks.azure._ca as _ca
import checks.azure.entra_ca as cac
import checks.azure.entra_mfa as mfa

STAFF = groups(all_staff=["u1", "u2"])
T = tenant  # short for the tables
ALICE, BOB = user("u1", "alice@contoso.example"), user("u2", "bob@contoso.example")
GUS = guest()
AZURE = _ca.AZURE_MANAGEMENT_APP
HIGH_RISK = {"signInRiskLevels": ["high"]}
OR_DEVICE = {"builtInControls": ["compliantDevice"], "authenticationStrength": MFA_STRENGTH}
LEGACY = ["exchangeActiveSync", "other"]
BLOCK = {"builtInControls": ["block"]}
ADMINS = {"includeUsers": [], "includeRoles": [GA, PRA, SEC_ADMIN]}
PER_USER_UNKNOWN = {"PerUserMfa": "not read: per_user_mfa is false in the source configuration"}


def block_legacy(**users: object) -> dict[str, object]:
    return ca("Block legacy", users=dict(users), grant=BLOCK, clientAppTypes=LEGACY)


CASES = [
    # one user: is every sign-in protected by MFA?
    case(
        mfa.user_mfa_required,
        [ALICE, T(ConditionalAccessPolicies=[ca()])],
        PASS,
        "'MFA all' requires MFA",
        id="pass-ca",
    ),
    case(
        mfa.user_mfa_required,
        [ALICE, T(SecurityDefaults={"isEnabled": True})],
        PASS,
        "security defaults",
        id="pass-defaults",
    ),
    case(
        mfa.user_mfa_required,
        [user(PerUserMfa={"perUserMfaState": "enforced"}), T()],
        PASS,
        "per-user MFA is enforced",
        id="per-user-mfa",
    ),
    case(mfa.user_mfa_required, [ALICE, T()], FAIL, "no Conditional Access policy requires MFA", id="fail-nothing"),
    case(
        mfa.user_mfa_required,
        [ALICE, T(ConditionalAccessPolicies=[ca(users={"excludeGroups": ["all_staff"]})], GroupMembers=STAFF)],
        FAIL,
        "excludes group 'All Staff'",
        id="excluded-group",
        looks_fine="an enabled policy for All users and All apps requires MFA, but excludes the group the user is in",
    ),
    case(
        mfa.user_mfa_required,
        [ALICE, T(ConditionalAccessPolicies=[ca(**HIGH_RISK)])],
        FAIL,
        "sign-in risk high",
        id="high-risk-only",
        looks_fine="All users, All apps, require MFA; but only when the sign-in risk is high",
    ),
    case(
        mfa.user_mfa_required,
        [ALICE, T(ConditionalAccessPolicies=[ca(state="enabledForReportingButNotEnforced")])],
        FAIL,
        "report-only",
        id="report-only",
        looks_fine="the policy requires MFA for everyone, in report-only mode: nothing is enforced",
    ),
    case(
        mfa.user_mfa_required,
        [ALICE, T(ConditionalAccessPolicies=[ca(grant=OR_DEVICE)])],
        FAIL,
        "compliantDevice replace MFA",
        id="strength-or-device",
        looks_fine="the grant requires an MFA authentication strength, OR a compliant device: a device alone is enough",
    ),
    case(
        mfa.user_mfa_required,
        [
            ALICE,
            T(
                ConditionalAccessPolicies=[
                    ca(
                        grant={
                            "operator": "AND",
                            "builtInControls": ["compliantDevice"],
                            "authenticationStrength": MFA_STRENGTH,
                        }
                    )
                ]
            ),
        ],
        PASS,
        "requires MFA",
        id="strength-and-device",
    ),
    case(
        mfa.user_mfa_required,
        [GUS, T(ConditionalAccessPolicies=[ca(users={"includeUsers": ["GuestsOrExternalUsers"]})])],
        PASS,
        "requires MFA",
        id="guest-covered",
    ),
    case(
        mfa.user_mfa_required,
        [
            GUS,
            T(
                ConditionalAccessPolicies=[
                    ca(
                        users={
                            "excludeGuestsOrExternalUsers": {
                                "guestOrExternalUserTypes": "b2bCollaborationGuest,internalGuest",
                                "externalTenants": {"membershipKind": "all"},
                            }
                        }
                    )
                ]
            ),
        ],
        FAIL,
        "excludes b2bCollaborationGuest",
        id="guest-excluded",
        looks_fine="All users is included, and guests are excluded by their external user type",
    ),
    case(
        mfa.user_mfa_required,
        [
            ALICE,
            T(
                ConditionalAccessPolicies=[ca(users={"excludeGroups": ["all_staff"]})],
                errors={"GroupMembers": "group all_staff: Authorization_RequestDenied"},
            ),
        ],
        ERROR,
        "all_staff",
        id="group-unknown",
    ),
    case(
        mfa.user_mfa_required,
        [user(errors=PER_USER_UNKNOWN), T()],
        ERROR,
        "per-user MFA state unknown",
        id="per-user-off",
        looks_fine="no policy covers the user, and per-user MFA was not read: it may be on, it may be off",
    ),
    case(
        mfa.user_mfa_required,
        [ALICE, T(errors={"ConditionalAccessPolicies": "Authorization_RequestDenied: Policy.Read.All"})],
        ERROR,
        "Policy.Read.All",
        id="ca-denied",
    ),
    case(mfa.user_mfa_required, [user(accountEnabled=False), T()], NA, "disabled", id="disabled"),
    # the whole tenant
    case(
        mfa.tenant_mfa_enforced,
        [T(SecurityDefaults={"isEnabled": True}), ALICE],
        PASS,
        "security defaults are enabled",
        id="sd",
    ),
    case(
        mfa.tenant_mfa_enforced,
        [T(ConditionalAccessPolicies=[ca()]), ALICE, BOB, GUS],
        PASS,
        "all 3 enabled users",
        id="ca",
    ),
    case(
        mfa.tenant_mfa_enforced,
        [
            T(ConditionalAccessPolicies=[ca(grant={"builtInControls": [], "authenticationStrength": MFA_STRENGTH})]),
            ALICE,
        ],
        PASS,
        "all 1 enabled users",
        id="ca-strength",
    ),
    case(mfa.tenant_mfa_enforced, [T(), ALICE], FAIL, "1 of 1 enabled users", id="nothing"),
    case(
        mfa.tenant_mfa_enforced,
        [
            T(),
            user(PerUserMfa={"perUserMfaState": "enforced"}),
            user("u2", "bob@contoso.example", PerUserMfa={"perUserMfaState": "enabled"}),
        ],
        PASS,
        "all 2 enabled users",
        id="defect-per-user-mfa",
    ),
    case(
        mfa.tenant_mfa_enforced,
        [
            T(ConditionalAccessPolicies=[ca(users={"excludeGroups": ["all_staff"]})], GroupMembers=STAFF),
            ALICE,
            BOB,
            GUS,
        ],
        FAIL,
        "2 of 3 enabled users can reach the tenant without MFA: alice@contoso.example, bob@contoso.example",
        id="defect-all-staff-excluded",
        looks_fine="'MFA all' targets All users and All apps with MFA, but excludes the all-staff group",
    ),
    case(
        mfa.tenant_mfa_enforced,
        [T(ConditionalAccessPolicies=[ca(**HIGH_RISK)]), ALICE],
        FAIL,
        "applies only at sign-in risk high (1 of them)",
        id="defect-high-risk-only",
        looks_fine="All users, All apps, require MFA, with a sign-in risk condition: it fires for high-risk sign-ins only",
    ),
    case(
        mfa.tenant_mfa_enforced,
        [T(ConditionalAccessPolicies=[ca(state="enabledForReportingButNotEnforced")]), ALICE],
        FAIL,
        "is report-only",
        id="report-only",
        looks_fine="the policy is shaped right but its state is enabledForReportingButNotEnforced",
    ),
    case(
        mfa.tenant_mfa_enforced,
        [T(ConditionalAccessPolicies=[ca(grant=OR_DEVICE)]), ALICE],
        FAIL,
        "lets compliantDevice replace MFA",
        id="defect-strength-or-device",
        looks_fine="an authentication strength is set, but OR a compliant device: the old check counted it as MFA",
    ),
    case(
        mfa.tenant_mfa_enforced,
        [
            T(ConditionalAccessPolicies=[ca(apps={"excludeApplications": ["00000002-0000-0ff1-ce00-000000000000"]})]),
            ALICE,
        ],
        FAIL,
        "excludes 1 app",
        id="excluded-app",
        looks_fine="All cloud apps, minus one excluded app (Exchange Online)",
    ),
    case(
        mfa.tenant_mfa_enforced,
        [
            T(
                ConditionalAccessPolicies=[
                    ca(locations={"includeLocations": ["All"], "excludeLocations": ["AllTrusted"]})
                ]
            ),
            ALICE,
        ],
        FAIL,
        "excludes locations (trusted locations)",
        id="trusted-locations",
        looks_fine="MFA for everyone, except from trusted locations (the office network)",
    ),
    case(
        mfa.tenant_mfa_enforced,
        [
            T(
                ConditionalAccessPolicies=[
                    ca(platforms={"includePlatforms": ["windows", "macOS"], "excludePlatforms": []})
                ]
            ),
            ALICE,
        ],
        FAIL,
        "applies only on platforms windows, macOS",
        id="platforms",
    ),
    case(
        mfa.tenant_mfa_enforced,
        [T(ConditionalAccessPolicies=[ca(clientAppTypes=["browser"])]), ALICE],
        FAIL,
        "applies only to client apps browser",
        id="browser-only",
    ),
    case(
        mfa.tenant_mfa_enforced,
        [T(ConditionalAccessPolicies=[ca(clientAppTypes=["browser", "mobileAppsAndDesktopClients"])]), ALICE],
        FAIL,
        "applies only to client apps browser, mobileAppsAndDesktopClients",
        id="modern-clients-only",
        looks_fine="MFA for browsers and desktop/mobile apps, but legacy clients (IMAP, POP, ActiveSync) are neither covered nor blocked",
    ),
    case(
        mfa.tenant_mfa_enforced,
        [
            T(
                ConditionalAccessPolicies=[
                    ca(clientAppTypes=["browser", "mobileAppsAndDesktopClients"]),
                    block_legacy(includeUsers=["All"]),
                ]
            ),
            ALICE,
        ],
        PASS,
        "all 1",
        id="modern-clients-and-legacy-blocked",
    ),
    case(
        mfa.tenant_mfa_enforced,
        [
            T(
                ConditionalAccessPolicies=[
                    ca(devices={"deviceFilter": {"mode": "exclude", "rule": "device.isCompliant -eq True"}})
                ]
            ),
            ALICE,
        ],
        FAIL,
        "device filter",
        id="device-filter",
    ),
    case(
        mfa.tenant_mfa_enforced,
        [T(ConditionalAccessPolicies=[ca(users={"excludeUsers": ["u2"]})]), ALICE, BOB],
        FAIL,
        "1 of 2 enabled users",
        id="excluded-user",
    ),
    case(
        mfa.tenant_mfa_enforced,
        [T(ConditionalAccessPolicies=[ca(users={"excludeUsers": ["u2"]})]), ALICE, BOB],
        PASS,
        "all 1 enabled users",
        params={"break_glass": ["BOB@contoso.example"]},
        id="break-glass",
    ),
    case(
        mfa.tenant_mfa_enforced,
        [
            T(ConditionalAccessPolicies=[ca(users={"includeUsers": [], "includeRoles": [GA]})]),
            user("u1", Roles=[role(GA)]),
            user("u2", "bob@contoso.example", PerUserMfa={"perUserMfaState": "enforced"}),
        ],
        PASS,
        "all 2",
        id="mixed-ca-and-per-user",
    ),
    case(
        mfa.tenant_mfa_enforced,
        [
            T(ConditionalAccessPolicies=[ca(users={"includeUsers": [], "includeRoles": [GA]})]),
            user("u1", Roles=[], EligibleRoles=[role(GA, "eligible", permanent=False)]),
        ],
        FAIL,
        "does not include the user",
        id="eligible-not-active",
        looks_fine="the policy targets Global Administrator and the user is a Global Administrator, but only eligible: CA targets active roles",
    ),
    case(
        mfa.tenant_mfa_enforced,
        [
            T(ConditionalAccessPolicies=[ca(users={"includeUsers": ["All"], "excludeUsers": ["u2"]})]),
            ALICE,
            user("u2", "bob@contoso.example", accountEnabled=False),
        ],
        PASS,
        "all 1 enabled users",
        id="disabled-ignored",
    ),
    case(
        mfa.tenant_mfa_enforced,
        [T(ConditionalAccessPolicies=[ca()]), user(accountEnabled=False)],
        ERROR,
        "no enabled user",
        id="defect-no-users",
        looks_fine="'every enabled user is covered' holds vacuously when the snapshot has no enabled user at all",
    ),
    case(
        mfa.tenant_mfa_enforced,
        [
            T(
                ConditionalAccessPolicies=[ca(users={"excludeGroups": ["all_staff"]})],
                errors={"GroupMembers": "group all_staff: Authorization_RequestDenied: GroupMember.Read.All"},
            ),
            ALICE,
        ],
        ERROR,
        "GroupMember.Read.All",
        id="group-denied",
    ),
    case(
        mfa.tenant_mfa_enforced,
        [T(errors={"ConditionalAccessPolicies": "Policy.Read.All missing"}), ALICE],
        ERROR,
        "Policy.Read.All",
        id="ca-denied",
    ),
    case(
        mfa.tenant_mfa_enforced,
        [T(errors={"SecurityDefaults": "denied"}), ALICE],
        ERROR,
        "security defaults unknown",
        id="sd-denied",
    ),
    case(
        mfa.tenant_mfa_enforced,
        [T(errors={"SecurityDefaults": "denied"}, ConditionalAccessPolicies=[ca()]), ALICE],
        PASS,
        "all 1",
        id="sd-unknown-ca-ok",
    ),
    case(
        mfa.tenant_mfa_enforced,
        [T(), user(errors=PER_USER_UNKNOWN)],
        ERROR,
        "per-user MFA state unknown",
        id="per-user-unknown",
    ),
    # MFA for Azure management
    case(
        mfa.ca_mfa_azure_management,
        [T(ConditionalAccessPolicies=[ca(apps={"includeApplications": [AZURE]})]), ALICE, GUS],
        PASS,
        "Azure management",
        id="pass-app",
    ),
    case(mfa.ca_mfa_azure_management, [T(ConditionalAccessPolicies=[ca()]), ALICE], PASS, "all 1", id="pass-all-apps"),
    case(
        mfa.ca_mfa_azure_management,
        [
            T(ConditionalAccessPolicies=[ca(apps={"includeApplications": ["All"], "excludeApplications": [AZURE]})]),
            ALICE,
        ],
        FAIL,
        f"excludes app {AZURE}",
        id="all-apps-but-azure",
        looks_fine="the MFA policy targets All cloud apps, but lists the Azure management app under excluded apps",
    ),
    case(
        mfa.ca_mfa_azure_management,
        [
            T(ConditionalAccessPolicies=[ca(apps={"includeApplications": ["00000003-0000-0000-c000-000000000000"]})]),
            ALICE,
        ],
        FAIL,
        "does not include app",
        id="other-app",
    ),
    case(
        mfa.ca_mfa_azure_management,
        [T(), user(PerUserMfa={"perUserMfaState": "enforced"})],
        FAIL,
        "security defaults are off",
        id="per-user-not-ca",
        looks_fine="per-user MFA is enforced, but no Conditional Access policy covers Azure management",
    ),
    case(
        mfa.ca_mfa_azure_management,
        [T(errors={"ConditionalAccessPolicies": "Authorization_RequestDenied"}), ALICE],
        ERROR,
        "Authorization_RequestDenied",
        id="error",
    ),
    # MFA for administrators, role by role
    case(
        cac.ca_mfa_admins,
        [T(ConditionalAccessPolicies=[ca()]), ALICE],
        PASS,
        "all 14 privileged roles",
        id="pass-all-users",
    ),
    case(cac.ca_mfa_admins, [T(SecurityDefaults={"isEnabled": True})], PASS, "security defaults", id="pass-defaults"),
    case(
        cac.ca_mfa_admins,
        [T(ConditionalAccessPolicies=[ca(users=ADMINS)]), user(Roles=[role(GA)])],
        FAIL,
        "11 of 14 privileged roles",
        id="some-roles",
        looks_fine="a 'require MFA for admins' policy exists, but it names only 3 of the 14 privileged roles",
    ),
    case(
        cac.ca_mfa_admins,
        [
            T(ConditionalAccessPolicies=[ca(users={"excludeGroups": ["all_staff"]})], GroupMembers=STAFF),
            user("u1", Roles=[role(GA)]),
        ],
        FAIL,
        "Global Administrator ('MFA all' excludes group 'All Staff', which takes out holder alice@contoso.example)",
        id="holder-excluded",
        looks_fine="the policy covers All users, so every role, but excludes a group a Global Administrator is in",
    ),
    case(
        cac.ca_mfa_admins,
        [T(ConditionalAccessPolicies=[ca(users={"excludeRoles": [GA]})])],
        FAIL,
        "excludes the role",
        id="role-excluded",
    ),
    case(
        cac.ca_mfa_admins,
        [T(ConditionalAccessPolicies=[ca(users={"excludeUsers": ["u1"]})]), user("u1", Roles=[role(GA)])],
        PASS,
        "all 14",
        params={"break_glass": ["u1"]},
        id="break-glass",
    ),
    case(
        cac.ca_mfa_admins,
        [T(ConditionalAccessPolicies=[ca(state="enabledForReportingButNotEnforced")])],
        FAIL,
        "report-only",
        id="report-only",
        looks_fine="the admin policy is right in every respect but is report-only",
    ),
    case(
        cac.ca_mfa_admins,
        [T(ConditionalAccessPolicies=[ca()]), user(errors={"Roles": "Authorization_RequestDenied"})],
        ERROR,
        "Roles",
        id="roles-denied",
    ),
    case(
        cac.ca_mfa_admins,
        [
            T(
                ConditionalAccessPolicies=[ca(users={"excludeGroups": ["g9"]})],
                errors={"GroupMembers": "group g9: Request_ResourceNotFound"},
            ),
            user(Roles=[role(GA)]),
        ],
        ERROR,
        "g9",
        id="group-unknown",
    ),
    # legacy authentication
    case(
        cac.legacy_auth_blocked,
        [T(ConditionalAccessPolicies=[block_legacy(includeUsers=["All"])]), ALICE, GUS],
        PASS,
        "blocked for all 2",
        id="pass",
    ),
    case(
        cac.legacy_auth_blocked,
        [T(SecurityDefaults={"isEnabled": True})],
        PASS,
        "security defaults",
        id="pass-defaults",
    ),
    case(
        cac.legacy_auth_blocked,
        [
            T(
                ConditionalAccessPolicies=[
                    ca("EAS", grant=BLOCK, clientAppTypes=["exchangeActiveSync"]),
                    ca("Other", grant=BLOCK, clientAppTypes=["other"]),
                ]
            ),
            ALICE,
        ],
        PASS,
        "'EAS' and 'Other'",
        id="pass-two-policies",
    ),
    case(cac.legacy_auth_blocked, [T(), ALICE], FAIL, "no enabled block policy", id="fail"),
    case(
        cac.legacy_auth_blocked,
        [T(ConditionalAccessPolicies=[ca("EAS", grant=BLOCK, clientAppTypes=["exchangeActiveSync"])]), ALICE],
        FAIL,
        "leave(s) other open",
        id="eas-only",
        looks_fine="a block policy for Exchange ActiveSync exists, but 'other clients' (IMAP, POP, SMTP) stay open",
    ),
    case(
        cac.legacy_auth_blocked,
        [
            T(
                ConditionalAccessPolicies=[
                    {**block_legacy(includeUsers=["All"]), "state": "enabledForReportingButNotEnforced"}
                ]
            ),
            ALICE,
        ],
        FAIL,
        "report-only",
        id="report-only",
        looks_fine="the block-legacy-authentication template is in place, in report-only mode",
    ),
    case(
        cac.legacy_auth_blocked,
        [
            T(
                ConditionalAccessPolicies=[block_legacy(includeUsers=["All"], excludeGroups=["all_staff"])],
                GroupMembers=STAFF,
            ),
            ALICE,
        ],
        FAIL,
        "excludes group",
        id="excluded-group",
    ),
    case(
        cac.legacy_auth_blocked,
        [T(errors={"ConditionalAccessPolicies": "Authorization_RequestDenied"}), ALICE],
        ERROR,
        "Authorization_RequestDenied",
        id="error",
    ),
]


@pytest.mark.parametrize("c", CASES)
def test_entra_ca_case(c: Case) -> None:
    check_case(c)


def test_every_check_has_pass_fail_error() -> None:
    assert_covered(CASES, [mfa, cac])


# -- the pure helper -------------------------------------------------------------------------------

SUBJECT = _ca.Subject(
    id="u1", label="alice", groups=frozenset({"g1"}), active_roles=frozenset({GA}), any_roles=frozenset({GA, PRA})
)
DIRECTORY = _ca.Directory(groups={"g1": "Staff", "g2": "Other"}, role_names={PRA: "Privileged Role Administrator"})


@pytest.mark.parametrize(
    "grant,gap",
    [
        ({"operator": "OR", "builtInControls": ["mfa"]}, None),
        ({"operator": "AND", "builtInControls": ["mfa", "compliantDevice"]}, None),
        ({"operator": "OR", "builtInControls": ["mfa", "compliantDevice"]}, "lets compliantDevice replace MFA"),
        (
            {"operator": "OR", "builtInControls": ["mfa", "domainJoinedDevice", "approvedApplication"]},
            "lets domainJoinedDevice or approvedApplication replace MFA",
        ),
        ({"operator": "OR", "builtInControls": ["mfa"], "termsOfUse": ["tou-1"]}, "lets terms of use replace MFA"),
        (
            {"operator": "OR", "builtInControls": ["mfa"], "customAuthenticationFactors": ["duo"]},
            "lets custom control duo replace MFA",
        ),
        (
            {
                "operator": "OR",
                "builtInControls": [],
                "authenticationStrength": {"id": "00000000-0000-0000-0000-000000000004"},
            },
            None,
        ),
        (
            {
                "operator": "OR",
                "builtInControls": [],
                "authenticationStrength": {
                    "id": "custom",
                    "displayName": "Password+SMS",
                    "requirementsSatisfied": "none",
                },
            },
            "does not require MFA",
        ),
        (
            {
                "operator": "OR",
                "builtInControls": [],
                "authenticationStrength": {"id": "custom", "displayName": "Unknown custom"},
            },
            "does not require MFA",
        ),
        ({"operator": "OR", "builtInControls": ["compliantDevice"]}, "does not require MFA"),
        (None, "does not require MFA"),
    ],
)
def test_grant(grant: dict[str, object] | None, gap: str | None) -> None:
    got = _ca.grant_gap(grant)
    assert (got is None) if gap is None else (got is not None and gap in got), got


@pytest.mark.parametrize(
    "conditions,gap",
    [
        ({}, None),
        ({"clientAppTypes": ["browser", "mobileAppsAndDesktopClients", "exchangeActiveSync", "other"]}, None),
        ({"userRiskLevels": ["high", "medium"]}, "user risk high, medium"),
        ({"insiderRiskLevels": "elevated"}, "insider risk elevated"),
        ({"servicePrincipalRiskLevels": ["high"]}, "workload identities"),
        (
            {"applications": {"includeApplications": ["All"], "applicationFilter": {"mode": "exclude", "rule": "x"}}},
            "application filter",
        ),
        ({"applications": {"includeUserActions": ["urn:user:registersecurityinfo"]}}, "not all cloud apps"),
        ({"locations": {"includeLocations": ["AllTrusted"]}}, "selected locations"),
        ({"platforms": {"includePlatforms": ["all"], "excludePlatforms": ["iOS"]}}, "excludes platforms iOS"),
        ({"authenticationFlows": {"transferMethods": "deviceCodeFlow"}}, "authentication flows deviceCodeFlow"),
    ],
)
def test_conditions(conditions: dict[str, object], gap: str | None) -> None:
    cond = {"applications": {"includeApplications": ["All"]}, **conditions}
    got = _ca.condition_gap(cond)
    assert (got is None) if gap is None else (got is not None and gap in got), got


@pytest.mark.parametrize(
    "users,gap",
    [
        ({"includeUsers": ["All"]}, None),
        ({"includeUsers": ["u1"]}, None),
        ({"includeGroups": ["g1"]}, None),
        ({"includeRoles": [GA]}, None),
        ({"includeRoles": [PRA]}, "does not include the user"),  # eligible only: CA targets active roles
        (
            {"includeUsers": ["All"], "excludeRoles": [PRA]},
            "excludes role 'Privileged Role Administrator'",
        ),  # could activate
        ({"includeUsers": ["All"], "excludeGroups": ["g2"]}, None),
        ({"includeUsers": ["None"]}, "does not include the user"),
        ({"includeUsers": ["GuestsOrExternalUsers"]}, "does not include the user"),
    ],
)
def test_users(users: dict[str, object], gap: str | None) -> None:
    policy = ca(users={"includeUsers": [], **users})
    got = _ca.mfa_gap(policy, SUBJECT, DIRECTORY, app=None)
    assert got == gap


def test_guest_kinds_and_enumerated_tenants() -> None:
    b2b = _ca.Subject(id="g", label="gus", kind="b2bCollaborationGuest")
    spec = {
        "guestOrExternalUserTypes": "b2bCollaborationGuest",
        "externalTenants": {"membershipKind": "enumerated", "members": ["t1"]},
    }
    # the guest's home tenant is not collected: an enumerated list may not include it
    assert (
        _ca.mfa_gap(ca(users={"includeUsers": [], "includeGuestsOrExternalUsers": spec}), b2b, DIRECTORY)
        == "does not include the user"
    )
    spec_all = {**spec, "externalTenants": {"membershipKind": "all"}}
    assert _ca.mfa_gap(ca(users={"includeUsers": [], "includeGuestsOrExternalUsers": spec_all}), b2b, DIRECTORY) is None
    # ... but an exclusion for that type excludes them whatever tenants it lists
    assert "excludes" in str(_ca.mfa_gap(ca(users={"excludeGuestsOrExternalUsers": spec}), b2b, DIRECTORY))


def test_unknown_group_membership_is_never_a_pass() -> None:
    with pytest.raises(_ca.Unknown, match="g9"):
        _ca.mfa_gap(ca(users={"excludeGroups": ["g9"]}), SUBJECT, DIRECTORY)
    cover = _ca.mfa_coverage([ca(users={"excludeGroups": ["g9"]})], SUBJECT, DIRECTORY)
    assert cover.by is None and cover.unknown
    no_roles = _ca.Subject(id="u1", label="alice", active_roles=None, any_roles=None)
    with pytest.raises(_ca.Unknown, match="roles were not read"):
        _ca.mfa_gap(ca(users={"includeUsers": ["All"], "excludeRoles": [GA]}), no_roles, DIRECTORY)


def test_block_policies_are_not_mfa_policies() -> None:
    assert not _ca.is_mfa_policy(ca(grant=BLOCK))
    assert _ca.mfa_coverage([ca(grant=BLOCK)], SUBJECT, DIRECTORY) == _ca.Coverage()

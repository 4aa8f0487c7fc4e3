"""The Entra collector against the fake tenant over the wire, then the real checks: the demo's negative
shapes are all found, and missing licences or permissions give errors that say which, never a pass."""

from __future__ import annotations

from typing import Any

import pytest
from posture_demo.fake_azure import DEMO_TENANT, FakeAzure

from agent.evaluate import evaluate
from agent.models import Finding, Snapshot, Status
from agent.registry import checks_in
from collectors import CollectContext
from collectors.azure import collect
from collectors.azure.config import AzureSource
from collectors.azure.http import allowed

PASS, FAIL, ERROR, NA = Status.PASS, Status.FAIL, Status.ERROR, Status.NOT_APPLICABLE
ENTRA = [c for c in checks_in("checks.azure") if c.id.startswith("azure.entra.")]
NO_P1 = "Authentication_RequestFromNonPremiumTenantOrB2CTenant"
NO_P2 = "AadPremiumLicenseRequired"


def entra_snapshot(fake: FakeAzure, **extra: Any) -> Snapshot:
    snaps = collect(AzureSource.model_validate(fake.source_config(arm=False, **extra)), CollectContext())
    [snap] = [s for s in snaps if s.account == DEMO_TENANT]
    return snap


def findings(snap: Snapshot) -> dict[tuple[str, str], Finding]:
    """(check id without prefix, resource short name) -> finding."""
    out = {}
    for f in evaluate(snap, ENTRA):
        out[(f.check_id.removeprefix("azure.entra."), f.resource_id.rsplit(":", 1)[-1])] = f
    return out


def expect(found: dict[tuple[str, str], Finding], check: str, who: str, status: Status, *words: str) -> None:
    f = found[(check, who)]
    assert f.status == status, f"{check} on {who}: {f.status}: {f.message}"
    for word in words:
        assert word in f.message, f"{check} on {who}: {word!r} not in {f.message!r}"


def test_the_demo_finds_every_negative_shape(fake: FakeAzure) -> None:
    snap = entra_snapshot(fake)
    assert snap.complete, snap.errors
    got = findings(snap)
    # Conditional Access gaps: excluded all-staff group, high risk only, report-only, strength OR device
    expect(
        got,
        "tenant_mfa_enforced",
        "tenant",
        FAIL,
        "dave@contoso.example",
        "erin@contoso.example",
        "'Require MFA for all users' excludes group 'All staff'",
        "applies only at sign-in risk high",
        "'MFA pilot' is report-only",
        "lets compliantDevice replace MFA",
    )
    expect(got, "user_mfa_required", "u-erin", FAIL, "lets compliantDevice replace MFA")
    expect(got, "user_mfa_required", "u-bob", PASS, "per-user MFA is enforced")
    expect(got, "user_mfa_required", "u-carol", PASS, "'Require MFA for admins'")
    expect(got, "user_mfa_required", "u-guest", PASS, "'Require MFA for all users'")  # guest MFA evidenced
    expect(got, "ca_mfa_admins", "tenant", FAIL, "Privileged Role Administrator")
    expect(got, "ca_mfa_azure_management", "tenant", FAIL, "bob@contoso.example")
    expect(got, "legacy_auth_blocked", "tenant", PASS, "'Block legacy authentication'")
    # registered but not capable; failed-only recent sign-ins
    expect(got, "user_mfa_registered", "u-bob", FAIL, "cannot perform MFA", "registration report")
    expect(got, "user_inactive_90d", "u-dave", FAIL, "90 or more days ago")
    # Global Administrator by group membership, PIM-eligible admin, service principal with a privileged role
    expect(got, "privileged_user_mfa", "u-carol", FAIL, "Global Administrator (active, via group Tenant Admins)")
    expect(got, "privileged_user_mfa", "u-erin", PASS, "Privileged Role Administrator (eligible, directly)")
    expect(got, "privileged_roles_pim", "u-carol", FAIL, "via group Tenant Admins", "permanently active")
    expect(got, "privileged_roles_pim", "u-erin", PASS, "only as eligible")
    expect(got, "global_admin_count", "tenant", PASS, "alice@contoso.example, carol@contoso.example")
    expect(got, "sp_no_privileged_role", "tenant", FAIL, "'deploy-pipeline'", "Application Administrator")
    # app credentials
    expect(got, "app_no_expired_credentials", "app-billing", FAIL, "expired")
    expect(got, "app_secret_lifetime", "app-reporting", FAIL, "730 days")
    expect(got, "app_secret_lifetime", "app-portal", PASS)
    # permissive authorization policy
    for check in (
        "guest_invites_restricted",
        "guest_access_restricted",
        "user_consent_restricted",
        "users_cannot_register_apps",
    ):
        expect(got, check, "tenant", FAIL)
    assert all(f.status != ERROR for f in got.values()), [f.message for f in got.values() if f.status == ERROR]


def test_defect_roles_through_groups_pim_and_service_principals(fake: FakeAzure) -> None:
    """Roles granted to a role-assignable group land on its members; PIM eligibility and schedules are read;
    service principals are recorded. The old collector keyed roles by principal id: carol had none."""
    snap = entra_snapshot(fake)
    carol = snap.get(f"entra:{DEMO_TENANT}:user:u-carol")
    erin = snap.get(f"entra:{DEMO_TENANT}:user:u-erin")
    assert carol is not None and erin is not None
    [ga] = carol.attributes["Roles"]
    assert ga["name"] == "Global Administrator" and ga["group"] == {
        "id": "g-tenant-admins",
        "displayName": "Tenant Admins",
    }
    assert ga["assignment"] == "active" and ga["permanent"] is True
    [pra] = erin.attributes["EligibleRoles"]
    assert pra["name"] == "Privileged Role Administrator" and pra["permanent"] is False and pra["endDateTime"]
    [tenant] = snap.of_type("azure.entra.tenant")
    sps = [a for a in tenant.attributes["RoleAssignments"] if a["principal"]["type"] == "servicePrincipal"]
    assert [(a["principal"]["displayName"], a["name"]) for a in sps] == [
        ("deploy-pipeline", "Application Administrator")
    ]
    group = next(a for a in tenant.attributes["RoleAssignments"] if a["principal"]["type"] == "group")
    assert [m["id"] for m in group["members"]] == ["u-carol"]


def test_tenant_without_p1_falls_back_to_registered_methods(fake: FakeAzure) -> None:
    fake.fail(
        "graph",
        r"userRegistrationDetails",
        403,
        times=-1,
        code=NO_P1,
        message="Neither tenant is B2C or tenant doesn't have premium license",
    )
    fake.fail(
        "graph",
        r"^/v1\.0/users$",
        403,
        times=1,
        query="signInActivity",
        code=NO_P1,
        message="Neither tenant is B2C or tenant doesn't have premium license",
    )
    snap = entra_snapshot(fake)
    got = findings(snap)
    # the same verdicts as the report gives, from each user's methods and the methods policy
    expect(got, "user_mfa_registered", "u-bob", FAIL, "registered methods and the authentication methods policy")
    expect(got, "user_mfa_registered", "u-carol", FAIL, "registered methods")
    expect(got, "user_mfa_registered", "u-alice", PASS, "registered methods")
    expect(got, "user_mfa_registered", "u-dave", PASS, "registered methods")
    expect(got, "user_inactive_90d", "u-dave", ERROR, NO_P1, "Entra ID P1")
    bob = snap.get(f"entra:{DEMO_TENANT}:user:u-bob")
    assert bob is not None and "P1" in bob.errors["Registration"]
    assert {"@odata.type": "#microsoft.graph.phoneAuthenticationMethod", "phoneType": "mobile"} in bob.attributes[
        "AuthenticationMethods"
    ], "phone numbers stay out"
    assert len(fake.calls("graph", r"^/v1\.0/users/[^/]+/authentication/methods$")) == 5  # one per enabled member


def test_tenant_without_p2_says_so_and_never_passes_pim(fake: FakeAzure) -> None:
    for path in ("roleAssignmentScheduleInstances", "roleEligibilityScheduleInstances"):
        fake.fail("graph", path, 400, times=-1, code=NO_P2, message="The tenant needs an AAD Premium 2 license.")
    got = findings(entra_snapshot(fake))
    expect(got, "privileged_roles_pim", "u-alice", ERROR, NO_P2, "Microsoft Entra ID P2")
    expect(got, "privileged_roles_pim", "u-carol", ERROR, "P2")
    # without P2 there is no PIM, so no eligible role: erin holds no privileged role any more
    expect(got, "privileged_user_mfa", "u-erin", NA)
    expect(got, "privileged_user_mfa", "u-carol", FAIL, "via group Tenant Admins")


def test_eligibility_denied_is_an_error_not_a_missing_admin(fake: FakeAzure) -> None:
    fake.fail("graph", "roleEligibilityScheduleInstances", 403, times=-1)
    got = findings(entra_snapshot(fake))
    expect(got, "privileged_user_mfa", "u-erin", ERROR, "Authorization_RequestDenied")
    expect(got, "privileged_user_mfa", "u-carol", FAIL)  # active roles alone already tell


def test_per_user_mfa_switched_off_is_unknown_never_a_pass(fake: FakeAzure) -> None:
    got = findings(entra_snapshot(fake, per_user_mfa=False))
    assert not fake.calls("graph", r"^/beta/users/"), "no per-user request when switched off"
    expect(got, "user_mfa_required", "u-bob", ERROR, "per-user MFA state unknown", "per_user_mfa is false")
    expect(got, "user_mfa_required", "u-alice", PASS)  # Conditional Access alone tells
    # dave and erin may have per-user MFA: without their state the tenant cannot be judged
    expect(got, "tenant_mfa_enforced", "tenant", ERROR, "per-user MFA state unknown")


def test_per_user_mfa_costs_one_request_per_enabled_user_and_stops_when_denied(fake: FakeAzure) -> None:
    entra_snapshot(fake)
    assert len(fake.calls("graph", r"^/beta/users/[^/]+/authentication/requirements$")) == 6
    fake.requests.clear()
    fake.fail("graph", r"/authentication/requirements$", 403, times=-1)
    got = findings(entra_snapshot(fake))
    assert len(fake.calls("graph", r"/authentication/requirements$")) == 1, "a denial is not retried per user"
    expect(got, "user_mfa_required", "u-bob", ERROR, "Authorization_RequestDenied")


def test_group_members_denied_is_unknown(fake: FakeAzure) -> None:
    fake.fail("graph", r"^/v1\.0/groups/g-staff", 403, times=-1)
    got = findings(entra_snapshot(fake))
    expect(got, "user_mfa_required", "u-dave", ERROR, "g-staff")
    expect(got, "tenant_mfa_enforced", "tenant", ERROR, "g-staff")


def test_applications_denied_is_one_scope_error(fake: FakeAzure) -> None:
    fake.fail("graph", r"^/v1\.0/applications$", 403, times=-1)
    snap = entra_snapshot(fake)
    assert [e.resource_type for e in snap.errors] == ["azure.entra.application"]
    errors = [f for f in evaluate(snap, ENTRA) if f.check_id.startswith("azure.entra.app_")]
    assert [f.status for f in errors] == [ERROR, ERROR] and all(f.resource_id.startswith("scope:") for f in errors)


@pytest.mark.parametrize(
    "path,ok",
    [
        ("/v1.0/groups/g-staff/transitiveMembers", True),
        ("/v1.0/groups/g-staff", True),
        ("/v1.0/groups/g-staff/owners", False),
        ("/beta/users/u-bob/authentication/requirements", True),
        ("/beta/users/u-bob/authentication/methods", False),
        ("/v1.0/users/u-bob/authentication/methods", True),
        ("/v1.0/users/u-bob/authentication/methods/m-1/resetPassword", False),
        ("/v1.0/applications", True),
        ("/v1.0/applications/app-1/addPassword", False),
    ],
)
def test_allowlist_for_the_new_reads(path: str, ok: bool) -> None:
    assert allowed("GET", "graph", path) is ok
    assert not allowed("POST", "graph", path)


def test_ids_from_graph_never_add_a_path_segment() -> None:
    from collectors.azure.entra_groups import safe_id

    assert safe_id("0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9") == "0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9"
    assert safe_id("u-bob") == "u-bob"
    for bad in ("../policies", "a/b", "x?$expand=members", "", None, "#frag"):
        assert safe_id(bad) is None

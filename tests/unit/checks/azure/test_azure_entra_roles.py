"""Privileged directory roles: Global Administrator count, just-in-time (PIM) access, service principals
holding admin roles."""
# ruff: noqa: E501 -- case tables read best with one case per line

from __future__ import annotations

from typing import Any

import pytest
from azure_check_fixtures import ERROR, FAIL, NA, PASS, Case, ago, assert_covered, case, check_case
from entra_fixtures import GA, NO_P2, PRA, READER, role, tenant, user

import checks.azure.entra_roles as roles

ADMINS = [user(f"u{i}", f"admin{i}@contoso.example", Roles=[role(GA)]) for i in range(1, 6)]
VIA_GROUP = user("u9", "grace@contoso.example", Roles=[role(GA, group="tenant_admins")])
SP = {
    "id": "sp-1",
    "type": "servicePrincipal",
    "displayName": "deploy-pipeline",
    "appId": "5b2f6a1e-0c4d-4e8f-9a7b-3c2d1e0f9a8b",
}


def assignment(template: str, principal: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {**role(template), "principal": principal, **extra}


CASES = [
    # Global Administrator count
    case(roles.global_admin_count, [tenant(), *ADMINS[:2]], PASS, "2 enabled users", id="pass"),
    case(
        roles.global_admin_count,
        [tenant(), *ADMINS],
        FAIL,
        "5 enabled users hold Global Administrator actively, more than 4",
        id="too-many",
    ),
    case(roles.global_admin_count, [tenant(), ADMINS[0]], FAIL, "only 1 enabled user(s)", id="too-few"),
    case(
        roles.global_admin_count,
        [tenant(), *ADMINS[:3], user("u7", "ops@contoso.example", Roles=[role(GA, group="tenant_admins")]), VIA_GROUP],
        FAIL,
        "5 enabled users",
        id="by-group",
        looks_fine="only 3 users have Global Administrator assigned to them; 2 more hold it through a role-assignable group",
    ),
    case(
        roles.global_admin_count,
        [
            tenant(),
            *ADMINS[:4],
            user("u8", "eve@contoso.example", EligibleRoles=[role(GA, "eligible", permanent=False)]),
        ],
        PASS,
        "4 enabled users",
        id="eligible-not-counted",
    ),
    case(
        roles.global_admin_count,
        [tenant(), *ADMINS[:4], user("u8", "old@contoso.example", accountEnabled=False, Roles=[role(GA)])],
        PASS,
        "4 enabled users",
        id="disabled-not-counted",
    ),
    case(
        roles.global_admin_count, [tenant(), ADMINS[0], ADMINS[1]], FAIL, "more than 1", params={"max": 1}, id="param"
    ),
    case(
        roles.global_admin_count,
        [
            tenant(),
            *ADMINS[:2],
            user("u8", errors={"Roles": "Authorization_RequestDenied: RoleManagement.Read.Directory"}),
        ],
        ERROR,
        "RoleManagement.Read.Directory",
        id="roles-denied",
    ),
    # just in time
    case(
        roles.privileged_roles_pim,
        user(Roles=[role(GA, end=ago(-30), permanent=False)]),
        PASS,
        "time-bound",
        id="pass-time-bound",
    ),
    case(
        roles.privileged_roles_pim,
        user(EligibleRoles=[role(PRA, "eligible", permanent=False)]),
        PASS,
        "only as eligible",
        id="pass-eligible",
    ),
    case(
        roles.privileged_roles_pim,
        user(Roles=[role(GA)]),
        FAIL,
        "Global Administrator (direct) permanently active",
        id="fail",
    ),
    case(
        roles.privileged_roles_pim,
        user(Roles=[role(GA, group="tenant_admins")], EligibleRoles=[role(GA, "eligible", permanent=False)]),
        FAIL,
        "via group Tenant_Admins",
        id="permanent-via-group",
        looks_fine="the user is PIM-eligible for Global Administrator, yet also holds it permanently through a group",
    ),
    case(
        roles.privileged_roles_pim,
        user(Roles=[role(GA)]),
        NA,
        "break-glass",
        params={"break_glass": ["alice@contoso.example"]},
        id="break-glass",
    ),
    case(roles.privileged_roles_pim, user(Roles=[role(READER)]), NA, "no active privileged", id="reader"),
    case(
        roles.privileged_roles_pim,
        user(Roles=[role(GA, permanent=None)], errors={"RoleSchedules": NO_P2}),
        ERROR,
        "Microsoft Entra ID P2",
        id="no-p2",
        looks_fine="the role shows up as an assignment, but without the schedule nobody knows whether it ends",
    ),
    case(
        roles.privileged_roles_pim,
        user(errors={"Roles": "Authorization_RequestDenied"}),
        ERROR,
        "Authorization_RequestDenied",
        id="roles-denied",
    ),
    # service principals
    case(
        roles.sp_no_privileged_role,
        tenant(RoleAssignments=[assignment(GA, {"id": "u1", "type": "user"}), assignment(READER, SP)]),
        PASS,
        "no service principal",
        id="pass",
    ),
    case(
        roles.sp_no_privileged_role, tenant(RoleAssignments=[assignment(GA, SP)]), FAIL, "'deploy-pipeline'", id="fail"
    ),
    case(
        roles.sp_no_privileged_role,
        tenant(
            RoleAssignments=[
                assignment(
                    PRA,
                    {"id": "g1", "type": "group", "displayName": "Automation"},
                    members=[{"id": "u1", "type": "user"}, SP],
                )
            ]
        ),
        FAIL,
        "via group Automation",
        id="via-group",
        looks_fine="no role is assigned to a service principal; one is a member of a role-assignable group",
    ),
    case(
        roles.sp_no_privileged_role,
        tenant(RoleAssignments=[assignment(PRA, SP, assignment="eligible")]),
        FAIL,
        "eligible",
        id="eligible",
    ),
    case(
        roles.sp_no_privileged_role,
        tenant(RoleAssignments=[assignment(GA, SP)]),
        PASS,
        "1 allowed by parameter",
        params={"allowed": ["5B2F6A1E-0C4D-4E8F-9A7B-3C2D1E0F9A8B"]},
        id="allowed",
    ),
    case(
        roles.sp_no_privileged_role,
        tenant(errors={"RoleAssignments": "Authorization_RequestDenied: RoleManagement.Read.Directory"}),
        ERROR,
        "RoleManagement.Read.Directory",
        id="denied",
    ),
    case(
        roles.sp_no_privileged_role,
        tenant(
            RoleAssignments=[assignment(GA, {"id": "g1", "type": "group", "displayName": "Automation"})],
            errors={
                "RoleGroups": "members of role-holding groups could not be read: group g1: Authorization_RequestDenied"
            },
        ),
        ERROR,
        "group g1",
        id="group-unread",
        looks_fine="no service principal appears among the assignments, but the members of a role-holding group were not read",
    ),
]


@pytest.mark.parametrize("c", CASES)
def test_entra_roles_case(c: Case) -> None:
    check_case(c)


def test_every_check_has_pass_fail_error() -> None:
    assert_covered(CASES, [roles])

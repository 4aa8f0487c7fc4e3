"""The Google Workspace checks, case by case: pass, fail, error (not collected) and looks fine but is not."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from agent.evaluate import evaluate
from agent.models import CollectionError, Resource, Snapshot, Status
from agent.registry import checks_in
from checks.base import Check
from checks.googleworkspace import customer as cust
from checks.googleworkspace import users
from tests.unit.checks.casekit import assert_complete, note

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
PASS, FAIL, ERROR, NA = Status.PASS, Status.FAIL, Status.ERROR, Status.NOT_APPLICABLE
NEVER = "1970-01-01T00:00:00.000Z"


def ago(days: float) -> str:
    return (NOW - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def user(local: str = "u", *, errors: dict[str, str] | None = None, **kw: Any) -> Resource:
    attrs: dict[str, Any] = {
        "id": local,
        "primaryEmail": f"{local}@x.example",
        "isAdmin": False,
        "isDelegatedAdmin": False,
        "suspended": False,
        "archived": False,
        "isEnrolledIn2Sv": True,
        "isEnforcedIn2Sv": True,
        "lastLoginTime": ago(1),
        "creationTime": ago(400),
    }
    attrs.update(kw)
    for key in errors or {}:
        attrs.pop(key, None)
    return Resource(
        provider="googleworkspace",
        account="x.example",
        region="global",
        type="googleworkspace.user",
        id=f"googleworkspace:x.example:user:{local}",
        name=attrs["primaryEmail"],
        attributes=attrs,
        errors=errors or {},
    )


def customer(errors: dict[str, str] | None = None, **kw: Any) -> Resource:
    attrs: dict[str, Any] = {
        "Settings": {"inactive_days": 90, "max_super_admins": 4},
        "SuperAdmins": {"active": ["a@x.example", "b@x.example"], "inactive": [], "unknown": [], "unknownCount": 0},
        "TwoStepVerification": {
            "activeUsers": 10,
            "notEnforcedCount": 0,
            "notEnforced": [],
            "unknownCount": 0,
            "unknown": [],
            "enforcedForAll": True,
        },
    }
    attrs.update(kw)
    for key in errors or {}:
        attrs.pop(key, None)
    return Resource(
        provider="googleworkspace",
        account="x.example",
        region="global",
        type="googleworkspace.customer",
        id="googleworkspace:x.example:customer",
        attributes=attrs,
        errors=errors or {},
    )


def supers(*emails: str, inactive: tuple[str, ...] = (), unknown: int = 0) -> dict[str, Any]:
    return {
        "active": list(emails),
        "inactive": list(inactive),
        "unknown": ["q@x.example"] * unknown,
        "unknownCount": unknown,
    }


def tsv(active: int, not_enforced: list[str], unknown: list[str] | None = None) -> dict[str, Any]:
    unknown = unknown or []
    return {
        "activeUsers": active,
        "notEnforcedCount": len(not_enforced),
        "notEnforced": not_enforced,
        "unknownCount": len(unknown),
        "unknown": unknown,
        "enforcedForAll": None if unknown and not not_enforced else not not_enforced,
    }


LISTING_FAILED = [
    CollectionError(
        service="directory",
        operation="ListUsers",
        region="global",
        code="forbidden",
        message="Not Authorized",
        resource_type=t,
    )
    for t in ("googleworkspace.user", "googleworkspace.customer")
]


@dataclass
class Case:
    chk: Check
    resources: list[Resource]
    expect: Status
    reason: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    errors: list[CollectionError] = field(default_factory=list)


def case(
    chk: Check,
    resources: Resource | list[Resource],
    expect: Status,
    reason: str = "",
    *,
    id: str,
    params: dict[str, Any] | None = None,
    errors: list[CollectionError] | None = None,
    looks_fine: str = "",
) -> Any:
    note(chk.id, expect, looks_fine)
    items = resources if isinstance(resources, list) else [resources]
    return pytest.param(Case(chk, items, expect, reason, params or {}, errors or []), id=f"{chk.id}:{id}")


C = customer()
CASES = [
    # enrolled ---------------------------------------------------------------------------------------
    case(users.two_step_verification_enrolled, user(), PASS, "is enrolled", id="pass"),
    case(users.two_step_verification_enrolled, user(isEnrolledIn2Sv=False, isEnforcedIn2Sv=False), FAIL, id="fail"),
    case(
        users.two_step_verification_enrolled,
        user(errors={"isEnrolledIn2Sv": "not returned by the API"}),
        ERROR,
        "isEnrolledIn2Sv",
        id="error",
    ),
    case(
        users.two_step_verification_enrolled,
        user(isEnrolledIn2Sv=False, isEnforcedIn2Sv=True),
        FAIL,
        "although it is enforced",
        id="enforced-not-enrolled",
        looks_fine="2SV is enforced for the user, but they have not enrolled: a new-user period lets them in "
        "with a password",
    ),
    case(users.two_step_verification_enrolled, user(suspended=True, isEnrolledIn2Sv=False), NA, id="suspended"),
    case(users.two_step_verification_enrolled, user(errors={"archived": "x"}), ERROR, id="state-unknown"),
    # enforced ---------------------------------------------------------------------------------------
    case(users.two_step_verification_enforced, user(), PASS, id="pass"),
    case(users.two_step_verification_enforced, user(isEnforcedIn2Sv=False, isEnrolledIn2Sv=False), FAIL, id="fail"),
    case(users.two_step_verification_enforced, user(errors={"isEnforcedIn2Sv": "x"}), ERROR, id="error"),
    case(
        users.two_step_verification_enforced,
        user(isEnforcedIn2Sv=False, isEnrolledIn2Sv=True),
        FAIL,
        "can turn it off",
        id="enrolled-not-enforced",
        looks_fine="the user is enrolled, but nothing stops them turning it off",
    ),
    case(users.two_step_verification_enforced, user(archived=True, isEnforcedIn2Sv=False), NA, id="archived"),
    # administrators ---------------------------------------------------------------------------------
    case(users.admin_two_step_verification, user(isAdmin=True), PASS, "super administrator", id="pass"),
    case(users.admin_two_step_verification, user(isAdmin=True, isEnrolledIn2Sv=False), FAIL, id="fail"),
    case(
        users.admin_two_step_verification,
        user(isDelegatedAdmin=True, isEnrolledIn2Sv=False),
        FAIL,
        "delegated administrator",
        id="delegated",
        looks_fine="isAdmin is false, but a delegated administrator role still administers users or settings",
    ),
    case(users.admin_two_step_verification, user(), NA, "not an administrator", id="not-admin"),
    case(users.admin_two_step_verification, user(errors={"isAdmin": "x"}), ERROR, id="error-admin-unknown"),
    case(users.admin_two_step_verification, user(isAdmin=True, errors={"isEnrolledIn2Sv": "x"}), ERROR, id="error"),
    case(
        users.admin_two_step_verification,
        user(isAdmin=True, isEnrolledIn2Sv=False, errors={"isDelegatedAdmin": "x"}),
        FAIL,
        id="super-with-delegated-unknown",
    ),
    case(users.admin_two_step_verification, user(isAdmin=True, suspended=True, isEnrolledIn2Sv=False), NA, id="gone"),
    # inactive ---------------------------------------------------------------------------------------
    case(users.inactive, [user(lastLoginTime=ago(10)), C], PASS, "within the last 90 days", id="pass"),
    case(users.inactive, [user(lastLoginTime=ago(120)), C], FAIL, "last signed in on 2025-02-01", id="fail"),
    case(users.inactive, [user(errors={"lastLoginTime": "x"}), C], ERROR, id="error"),
    case(
        users.inactive,
        [user(lastLoginTime=NEVER, creationTime=ago(200)), C],
        FAIL,
        "never signed in",
        id="never",
        looks_fine="lastLoginTime is set, but 1970-01-01 is how the API says 'never'",
    ),
    case(users.inactive, [user(lastLoginTime=NEVER, creationTime=ago(5)), C], PASS, "not used yet", id="new"),
    case(users.inactive, [user(lastLoginTime=ago(120)), customer(Settings={"inactive_days": 180})], PASS, id="source"),
    case(users.inactive, [user(lastLoginTime=ago(40)), C], FAIL, id="param", params={"days": 30}),
    case(users.inactive, [user(lastLoginTime=ago(120))], ERROR, "was not collected", id="no-customer"),
    case(users.inactive, [user(lastLoginTime="yesterday"), C], ERROR, "not a time", id="garbage-time"),
    case(users.inactive, [user(suspended=True, lastLoginTime=ago(500)), C], NA, id="suspended"),
    # customer: 2SV enforced -------------------------------------------------------------------------
    case(cust.two_step_verification_enforced, C, PASS, "all 10 active users", id="pass"),
    case(
        cust.two_step_verification_enforced,
        customer(TwoStepVerification=tsv(10, ["b@x.example"])),
        FAIL,
        "1 of 10 active users: b@x.example",
        id="fail",
    ),
    case(cust.two_step_verification_enforced, customer(errors={"TwoStepVerification": "x"}), ERROR, id="error"),
    case(
        cust.two_step_verification_enforced,
        customer(TwoStepVerification=tsv(10, [], ["c@x.example"])),
        ERROR,
        "unknown for 1 active users",
        id="unknown",
        looks_fine="no user is known not to be enforced, but one user's state was not returned",
    ),
    case(cust.two_step_verification_enforced, C, ERROR, id="listing-failed", errors=LISTING_FAILED),
    # customer: super admin count --------------------------------------------------------------------
    case(cust.super_admin_count, C, PASS, "2 active super administrators", id="pass"),
    case(
        cust.super_admin_count,
        customer(SuperAdmins=supers("a", "b", "c", "d", "e")),
        FAIL,
        "5 active super administrators, more than 4",
        id="fail",
    ),
    case(cust.super_admin_count, customer(errors={"SuperAdmins": "x"}), ERROR, id="error"),
    case(
        cust.super_admin_count,
        customer(SuperAdmins=supers("a", "b", "c", "d", unknown=1)),
        ERROR,
        "unknown",
        id="unknown",
        looks_fine="four known super administrators is within the limit, but one user's isAdmin was not returned",
    ),
    case(cust.super_admin_count, customer(SuperAdmins=supers("a", "b", inactive=("c", "d", "e"))), PASS, id="susp"),
    case(cust.super_admin_count, customer(SuperAdmins=supers("a", "b", "c")), FAIL, id="param", params={"max": 2}),
    case(cust.super_admin_count, customer(SuperAdmins=supers()), ERROR, "no active super administrator", id="none"),
]


@pytest.mark.parametrize("c", CASES)
def test_case(c: Case) -> None:
    snap = Snapshot(
        source="t",
        provider="googleworkspace",
        account="x.example",
        started_at=NOW - timedelta(minutes=1),
        finished_at=NOW,
        resources=tuple(c.resources),
        errors=tuple(c.errors),
    )
    target = next(r.id for r in c.resources if r.type == c.chk.meta.resource_type)
    found = [f for f in evaluate(snap, [c.chk], params={c.chk.id: c.params}) if f.resource_id == target]
    assert len(found) == 1, found
    assert found[0].status == c.expect, found[0].message
    assert c.reason.lower() in found[0].message.lower(), found[0].message


def test_every_googleworkspace_check_has_a_full_case_table() -> None:
    assert_complete(checks_in("checks.googleworkspace"))

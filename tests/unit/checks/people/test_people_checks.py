"""The people-ledger checks, case by case: pass, fail, error (not collected) and looks fine but is not."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from agent.evaluate import evaluate
from agent.models import Resource, Snapshot, Status
from agent.registry import checks_in
from checks.base import Check
from checks.people import ledger as people
from tests.unit.checks.casekit import assert_complete, note

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
TODAY = NOW.date()
PASS, FAIL, ERROR, NA = Status.PASS, Status.FAIL, Status.ERROR, Status.NOT_APPLICABLE
SEEN = "2025-06-01T11:00:00Z"  # when the identity sources' joined snapshots were collected


def day(days_ago: int) -> str:
    return (TODAY - timedelta(days=days_ago)).isoformat()


def ident(provider: str = "okta", login: str = "ann", **kw: Any) -> dict[str, Any]:
    base = {
        "source": provider,
        "provider": provider,
        "account": "acct",
        "type": "okta.user",
        "id": f"{provider}:{login}",
        "login": login,
        "email": None,
        "active": True,
        "human": True,
        "admin": False,
        "mfa": True,
        "unknown": [],
        "joined_by": "email",
        "map_entry": None,
    }
    return {**base, **kw}


def person(
    *held: dict[str, Any], errors: dict[str, str] | None = None, email: str = "ann@x.example", **kw: Any
) -> Resource:
    attrs: dict[str, Any] = {
        "email": email,
        "name": "Ann",
        "start_date": day(400),
        "end_date": None,
        "background_check_date": day(410),
        "security_training_date": day(100),
        "employment_type": "employee",
        "manager": None,
        "identities": list(held),
    }
    attrs.update(kw)
    for key in errors or {}:
        if key != "identities":
            attrs.pop(key, None)
    return Resource(
        provider="people",
        account="roster",
        region="global",
        type="people.person",
        id=f"people:roster:person:{email}",
        name="Ann",
        attributes=attrs,
        errors=errors or {},
    )


def orphan(owner: str | None = None, **kw: Any) -> Resource:
    attrs = {**ident("github", "bot"), "reason": "it has no email address and no map entry", "owner": owner, **kw}
    attrs.pop("joined_by")
    attrs.pop("map_entry")
    return Resource(
        provider="people",
        account="roster",
        region="global",
        type="people.identity",
        id="people:roster:identity:github:bot",
        name="github:bot",
        attributes=attrs,
    )


def ledger(seen: str | None = SEEN, grace_days: int = 1, window_days: int = 30) -> Resource:
    return Resource(
        provider="people",
        account="roster",
        region="global",
        type="people.ledger",
        id="people:roster:ledger",
        attributes={
            "sources": [
                {"name": name, "status": "ok", "collected_at": seen}
                for name in ("okta", "github", "googleworkspace", "aws", "azure")
            ],
            "Settings": {
                "offboarding_grace_seconds": grace_days * 86400,
                "onboarding_window_seconds": window_days * 86400,
                "max_identity_age_seconds": 2 * 86400,
            },
        },
    )


@dataclass
class Case:
    chk: Check
    resources: list[Resource]
    expect: Status
    reason: str = ""
    params: dict[str, Any] = field(default_factory=dict)


def case(
    chk: Check,
    resources: Resource | list[Resource],
    expect: Status,
    reason: str = "",
    *,
    id: str,
    params: dict[str, Any] | None = None,
    looks_fine: str = "",
) -> Any:
    note(chk.id, expect, looks_fine)
    items = resources if isinstance(resources, list) else [resources]
    if not any(r.type == "people.ledger" for r in items):
        items = [*items, ledger()]
    return pytest.param(Case(chk, items, expect, reason, params or {}), id=f"{chk.id}:{id}")


LEFT = {"end_date": day(10)}
SOURCES_DOWN = {"identities": "identity source okta has never been collected (no run in the store)"}
CASES = [
    # leavers ----------------------------------------------------------------------------------------
    case(people.leaver_access_removed, person(ident(active=False), **LEFT), PASS, "none of the identities", id="pass"),
    case(people.leaver_access_removed, person(**LEFT), PASS, "no identity in any joined source", id="pass-none"),
    case(people.leaver_access_removed, person(ident(), **LEFT), FAIL, "okta:ann (okta)", id="fail"),
    case(people.leaver_access_removed, person(ident()), NA, "still employed", id="employed"),
    case(people.leaver_access_removed, person(ident(), end_date=day(1)), NA, "may stay active until", id="in-grace"),
    case(
        people.leaver_access_removed,
        [person(ident(), end_date=day(1)), ledger(grace_days=0)],
        FAIL,
        "still has 1 active identity",
        id="no-grace",
    ),
    case(
        people.leaver_access_removed,
        person(ident(active=False), errors=SOURCES_DOWN, **LEFT),
        ERROR,
        "never been collected",
        id="error-source",
    ),
    case(
        people.leaver_access_removed,
        person(ident(active=False), errors={"end_date": "roster.csv line 3, column end_date: bad"}),
        ERROR,
        "end_date",
        id="error-roster",
    ),
    case(
        people.leaver_access_removed,
        person(ident(active=True, unknown=["active"]), **LEFT),
        ERROR,
        "can sign in is unknown",
        id="error-active-unknown",
    ),
    case(
        people.leaver_access_removed,
        [person(ident(), **LEFT), ledger(seen=(NOW - timedelta(days=20)).isoformat())],
        ERROR,
        "was active when last collected",
        id="seen-before-deadline",
    ),
    case(
        people.leaver_access_removed,
        person(ident("okta", active=False), ident("github", "ann-gh", joined_by="map"), errors=SOURCES_DOWN, **LEFT),
        FAIL,
        "github:ann-gh",
        id="suspended-in-idp-active-in-github",
        looks_fine="the identity provider account is deactivated, but the GitHub membership (joined by the "
        "identity map) still works; a failure stays a failure even when another source is down",
    ),
    # accounts of nobody -----------------------------------------------------------------------------
    case(people.belongs_to_person, orphan(owner="platform-team"), PASS, "service account of platform-team", id="pass"),
    case(people.belongs_to_person, orphan(), FAIL, "belongs to nobody", id="fail"),
    case(people.belongs_to_person, orphan(human=False), FAIL, "machine identity", id="machine"),
    case(people.belongs_to_person, orphan(unknown=["active"]), ERROR, "unknown", id="error"),
    case(
        people.belongs_to_person,
        orphan(email="gina@x.example", reason="no person in the roster has the email gina@x.example"),
        FAIL,
        "gina@x.example",
        id="company-address",
        looks_fine="the email is on the company's own domain, but nobody on the roster has it",
    ),
    # MFA everywhere ---------------------------------------------------------------------------------
    case(people.mfa_everywhere, person(ident(), ident("github", "ann")), PASS, "each of their 2", id="pass"),
    case(people.mfa_everywhere, person(ident(), ident("aws", "ann", mfa=False)), FAIL, "aws:ann (aws)", id="fail"),
    case(people.mfa_everywhere, person(ident(mfa=None)), ERROR, "could not be determined", id="error"),
    case(people.mfa_everywhere, person(ident(), errors=SOURCES_DOWN), ERROR, "never been collected", id="error-src"),
    case(people.mfa_everywhere, person(ident(mfa=False), **LEFT), NA, "left on", id="leaver"),
    case(people.mfa_everywhere, person(ident(mfa=False, active=False)), NA, "no active identity", id="inactive"),
    case(
        people.mfa_everywhere,
        person(ident(), ident("aws", "deploy", human=False, mfa=False)),
        PASS,
        "each of their 1",
        id="machine-identity-owned",
    ),
    case(
        people.mfa_everywhere,
        person(ident("okta", admin=True), ident("googleworkspace", "ann@x.example", mfa=False)),
        FAIL,
        "googleworkspace:ann@x.example",
        id="mfa-in-idp-not-in-workspace",
        looks_fine="the person has strong MFA in Okta, but their Google Workspace account signs in with a "
        "password only",
    ),
    # background check -------------------------------------------------------------------------------
    case(people.background_check, person(), PASS, "background check on", id="pass"),
    case(people.background_check, person(background_check_date=None), FAIL, "no background check", id="fail"),
    case(
        people.background_check,
        person(errors={"background_check_date": "roster.csv line 4, column background_check_date: bad"}),
        ERROR,
        "line 4",
        id="error",
    ),
    case(
        people.background_check,
        person(start_date=day(5), background_check_date=None),
        NA,
        "due by",
        id="in-window",
    ),
    case(people.background_check, person(start_date=day(-3), background_check_date=None), NA, "starts on", id="soon"),
    case(
        people.background_check,
        person(background_check_date=day(10), start_date=day(400)),
        PASS,
        "after the onboarding window",
        id="late",
    ),
    case(
        people.background_check,
        person(background_check_date=day(-20)),
        FAIL,
        "a day still to come",
        id="future-date",
        looks_fine="a date is recorded, but it is a scheduled check still to come, not a completed one",
    ),
    # security training ------------------------------------------------------------------------------
    case(people.security_training, person(), PASS, "security training on", id="pass"),
    case(people.security_training, person(security_training_date=None), FAIL, "no security training", id="fail"),
    case(
        people.security_training,
        person(errors={"start_date": "roster.csv line 2, column start_date: bad"}),
        ERROR,
        "start_date",
        id="error",
    ),
    case(
        people.security_training,
        person(security_training_date=day(400)),
        FAIL,
        "over 365 days ago",
        id="stale",
        looks_fine="a training date is recorded, but the yearly refresher is more than a year overdue",
    ),
    case(
        people.security_training,
        person(security_training_date=day(400)),
        PASS,
        id="stale-param",
        params={"max_age_days": 500},
    ),
    case(people.security_training, person(security_training_date=day(400), **LEFT), NA, "left on", id="leaver"),
]


@pytest.mark.parametrize("c", CASES)
def test_case(c: Case) -> None:
    snap = Snapshot(
        source="t",
        provider="people",
        account="roster",
        started_at=NOW - timedelta(minutes=1),
        finished_at=NOW,
        resources=tuple(c.resources),
    )
    target = next(r.id for r in c.resources if r.type == c.chk.meta.resource_type)
    found = [f for f in evaluate(snap, [c.chk], params={c.chk.id: c.params}) if f.resource_id == target]
    assert len(found) == 1, found
    assert found[0].status == c.expect, found[0].message
    assert c.reason.lower() in found[0].message.lower(), found[0].message


def test_without_the_ledger_every_person_check_errs() -> None:
    snap = Snapshot(
        source="t",
        provider="people",
        account="roster",
        started_at=NOW,
        finished_at=NOW,
        resources=(person(ident(), end_date=day(30)),),
    )
    found = evaluate(snap, [people.leaver_access_removed])
    assert [f.status for f in found] == [ERROR]
    assert "people.ledger" in found[0].message
    assert date.fromisoformat(day(30)) < TODAY


def test_every_people_check_has_a_full_case_table() -> None:
    assert_complete(checks_in("checks.people"))

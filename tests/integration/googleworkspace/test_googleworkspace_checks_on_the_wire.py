"""Every Google Workspace check over the demo customer collected from the fake: the exact failing set of
each, no error on a complete collection, and the thresholds taken from the source (or a check parameter)."""

from __future__ import annotations

from gw_helpers import CHECKS, findings, rid, run
from posture_demo.fake_googleworkspace import FakeWorkspace
from posture_demo.googleworkspace_data import EXPECTED_FAILURES

from agent.models import Finding, Status


def failing(results: list[Finding], check_id: str) -> set[str]:
    return {f.resource_id for f in results if f.check_id == check_id and f.status == Status.FAIL}


def test_each_check_fails_exactly_the_seeded_problems(fake: FakeWorkspace) -> None:
    snap, _ = run(fake)
    results = findings(snap)
    assert set(EXPECTED_FAILURES) == {c.id for c in CHECKS}  # the table covers every check
    for check_id, locals_ in EXPECTED_FAILURES.items():
        assert failing(results, check_id) == {rid(u) for u in locals_}, check_id
    assert not [f for f in results if f.status == Status.ERROR]
    # the suspended and archived accounts are out of scope of every user check, not passed
    for local in ("grace", "heidi", "oscar"):
        assert {f.status for f in results if f.resource_id == rid(local)} == {Status.NOT_APPLICABLE}


def test_the_sources_thresholds_decide(fake: FakeWorkspace) -> None:
    snap, _ = run(fake, max_super_admins=5, inactive_days=250)
    results = findings(snap)
    assert failing(results, "googleworkspace.customer.super_admin_count") == set()
    # erin signed in 200 days ago; frank never did, created 300 days ago
    assert failing(results, "googleworkspace.user.inactive") == {rid("frank")}


def test_a_check_parameter_overrides_the_source(fake: FakeWorkspace) -> None:
    snap, _ = run(fake)
    results = findings(snap, {"googleworkspace.user.inactive": {"days": 30}})
    # mallory signed in 45 days ago
    assert failing(results, "googleworkspace.user.inactive") == {rid("erin"), rid("frank"), rid("mallory")}


def test_a_user_whose_2sv_state_is_not_returned_errors_and_never_passes(fake: FakeWorkspace) -> None:
    alice = next(u for u in fake.domain.users if u["primaryEmail"].startswith("alice@"))
    del alice["isEnrolledIn2Sv"], alice["isEnforcedIn2Sv"]
    snap, _ = run(fake)
    user = snap.get(rid("alice"))
    assert user is not None and user.attributes["identity"]["mfa"] is None
    results = findings(snap)
    mine = {f.check_id: f for f in results if f.resource_id == rid("alice")}
    assert mine["googleworkspace.user.two_step_verification_enrolled"].status == Status.ERROR
    assert mine["googleworkspace.user.two_step_verification_enforced"].status == Status.ERROR
    # the customer still fails on the users known not to be enforced; it would error without them
    customer = [f for f in results if f.resource_id == rid("customer")]
    tsv = next(f for f in customer if f.check_id == "googleworkspace.customer.two_step_verification_enforced")
    assert tsv.status == Status.FAIL
    for u in fake.domain.users:
        u["isEnforcedIn2Sv"] = True
    del alice["isEnforcedIn2Sv"]
    snap, _ = run(fake)
    tsv = next(
        f
        for f in findings(snap)
        if f.resource_id == rid("customer") and f.check_id == "googleworkspace.customer.two_step_verification_enforced"
    )
    assert tsv.status == Status.ERROR and "alice@northwind.example" in tsv.message


def test_2sv_enforced_for_every_active_user_passes_the_customer(fake: FakeWorkspace) -> None:
    for u in fake.domain.users:
        if not (u["suspended"] or u["archived"]):
            u["isEnforcedIn2Sv"] = True
    snap, _ = run(fake)
    results = findings(snap)
    assert failing(results, "googleworkspace.customer.two_step_verification_enforced") == set()
    assert failing(results, "googleworkspace.user.two_step_verification_enforced") == set()

"""Every GitHub check over the demo organisation, collected over the wire: the exact failing set of each,
and nothing passes on what a token without owner or admin rights cannot see."""

from __future__ import annotations

from posture_demo.fake_github import FakeGitHub
from posture_demo.github_data import DEMO_ORG, expected_failures

from agent.models import Status
from tests.integration.github.github_wire import GITHUB_CHECKS, by_status, findings, run

ORG = DEMO_ORG.lower()
REPO_CHECKS = [c.id for c in GITHUB_CHECKS if c.meta.resource_type == "github.repository"]


def test_every_github_check_fails_exactly_the_seeded_resources(fake: FakeGitHub) -> None:
    expected = expected_failures()
    assert set(expected) == {c.id for c in GITHUB_CHECKS}  # a new check needs its seeded failures
    found = findings(run(fake.source_config()))
    for cid, resource_ids in expected.items():
        assert by_status(found, cid, "fail") == resource_ids, cid
        assert not by_status(found, cid, "error"), cid
    # the repository that a ruleset alone protects passes every branch check
    web = f"github:{ORG}/web-app"
    for cid in REPO_CHECKS:
        assert web in by_status(found, cid, "pass"), cid


def test_the_github_app_sees_what_the_token_sees(fake: FakeGitHub) -> None:
    token = {(f.check_id, f.resource_id, f.status) for f in findings(run(fake.source_config()))}
    app = {(f.check_id, f.resource_id, f.status) for f in findings(run(fake.app_source_config()))}
    assert token == app


def test_a_token_without_owner_or_admin_rights_gets_errors_never_a_pass(fake: FakeGitHub) -> None:
    fake.owner = False  # no 2FA filter or requirement, no security_and_analysis, 403 on protection and alerts
    snap = run(fake.source_config())
    found = findings(snap)
    blind = [
        "github.organization.two_factor_required",
        "github.member.two_factor_enabled",
        "github.repository.dependabot_alerts_enabled",
        "github.repository.dependabot_security_updates_enabled",
        "github.repository.secret_scanning_enabled",
        "github.repository.secret_scanning_push_protection",
    ]
    for cid in blind:
        statuses = {f.status for f in found if f.check_id == cid}
        assert statuses == {Status.ERROR}, (cid, statuses)
    # branch protection unreadable: only a ruleset can still pass a branch check; everything else errors
    for cid in ("github.repository.default_branch_reviews_required", "github.repository.default_branch_status_checks"):
        assert by_status(found, cid, "pass") == {f"github:{ORG}/web-app"}
        assert not by_status(found, cid, "fail")
    # the outside collaborators are readable without admin rights: that verdict stands
    assert by_status(found, "github.repository.no_outside_admins", "fail") == {f"github:{ORG}/payments-api"}

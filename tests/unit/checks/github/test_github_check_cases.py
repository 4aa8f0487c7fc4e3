"""Every GitHub check on hand-built resources: a case that passes, one that fails, one that errors, and one
that looks fine but is not (tests/unit/checks/casekit.py)."""
# ruff: noqa: E501 -- case tables read best with one case per line

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

import checks.github.branches as branches
import checks.github.org as org
import checks.github.repository as repository
from agent.evaluate import evaluate
from agent.models import CollectionError, Resource, Snapshot, Status
from agent.registry import checks_in
from checks.base import Check
from tests.unit.checks.casekit import assert_complete, note

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
PASS, FAIL, ERROR, NA = Status.PASS, Status.FAIL, Status.ERROR, Status.NOT_APPLICABLE
DENIED = "GetBranchProtection: HTTP403: Must have admin rights to Repository."


def organization(errors: dict[str, str] | None = None, **attrs: Any) -> Resource:
    return Resource(
        provider="github",
        account="acme",
        region="global",
        type="github.organization",
        id="github:acme",
        name="acme",
        attributes={"login": "acme", **attrs},
        errors=errors or {},
    )


def member(mfa: bool | None = True, active: bool = True, errors: dict[str, str] | None = None) -> Resource:
    identity = {"email": None, "login": "carol", "active": active, "human": True, "admin": False, "mfa": mfa}
    return Resource(
        provider="github",
        account="acme",
        region="global",
        type="github.member",
        id="github:acme:member:carol",
        name="carol",
        attributes={"login": "carol", "identity": identity},
        errors=errors or {},
    )


def prot(
    approvals: int | None = 1, contexts: list[str] | None = None, force: bool = False, delete: bool = False
) -> dict[str, Any]:
    return {
        "required_pull_request_reviews": None if approvals is None else {"required_approving_review_count": approvals},
        "required_status_checks": None if contexts is None else {"strict": True, "contexts": contexts, "checks": []},
        "enforce_admins": True,
        "allow_force_pushes": force,
        "allow_deletions": delete,
        "required_linear_history": False,
        "lock_branch": False,
    }


def rule(kind: str, **params: Any) -> dict[str, Any]:
    return {
        "type": kind,
        "parameters": params,
        "ruleset_source_type": "Organization",
        "ruleset_source": "acme",
        "ruleset_id": 7,
    }


def repo(errors: dict[str, str] | None = None, **attrs: Any) -> Resource:
    body: dict[str, Any] = {
        "name": "api",
        "full_name": "acme/api",
        "visibility": "private",
        "private": True,
        "archived": False,
        "default_branch": "main",
        "BranchProtection": prot(contexts=["ci"]),
        "BranchRules": [],
        "VulnerabilityAlerts": True,
        "OutsideCollaborators": [],
        "SecurityAndAnalysis": {
            "secret_scanning": "enabled",
            "secret_scanning_push_protection": "enabled",
            "dependabot_security_updates": "enabled",
        },
    }
    body.update(attrs)
    for key in errors or {}:
        body.pop(key, None)
    return Resource(
        provider="github",
        account="acme",
        region="global",
        type="github.repository",
        id="github:acme/api",
        name="acme/api",
        attributes=body,
        errors=errors or {},
    )


@dataclass
class Case:
    check: Check
    resource: Resource
    expect: Status
    reason: str
    errors: tuple[CollectionError, ...] = ()


def case(
    check: Check,
    resource: Resource,
    expect: Status,
    reason: str,
    *,
    id: str,
    looks_fine: str = "",
    errors: tuple[CollectionError, ...] = (),
) -> Any:
    note(check.id, expect, looks_fine)
    return pytest.param(Case(check, resource, expect, reason, errors), id=f"{check.id}:{id}")


NO_2FA_LIST = CollectionError(
    service="github",
    operation="ListMembersWithout2FA",
    region="global",
    code="HTTP422",
    message="Only owners can use this filter.",
    resource_type="github.member",
)
SA_HIDDEN = {"SecurityAndAnalysis": "security_and_analysis is not in the repository listing"}
PULL_0 = rule("pull_request", required_approving_review_count=0)
PULL_1 = rule("pull_request", required_approving_review_count=1)

CASES = [
    # the organisation requires 2FA
    case(org.two_factor_required, organization(two_factor_requirement_enabled=True), PASS, "requires", id="pass"),
    case(
        org.two_factor_required, organization(two_factor_requirement_enabled=False), FAIL, "does not require", id="fail"
    ),
    case(
        org.two_factor_required,
        organization(errors={"two_factor_requirement_enabled": "not shown to this token"}),
        ERROR,
        "not shown",
        id="hidden",
    ),
    case(
        org.two_factor_required,
        organization(two_factor_requirement_enabled=None),
        ERROR,
        "not true or false",
        id="null",
        looks_fine="GitHub sends null, not false, to a non-owner: falsy, yet it says nothing about the requirement",
    ),
    # each member has 2FA
    case(org.two_factor_enabled, member(True), PASS, "has two-factor", id="pass"),
    case(org.two_factor_enabled, member(False), FAIL, "no two-factor", id="fail"),
    case(
        org.two_factor_enabled,
        member(None, errors={"TwoFactor": "ListMembersWithout2FA: HTTP422: Only owners can use this filter."}),
        ERROR,
        "Only owners",
        id="filter-refused",
        errors=(NO_2FA_LIST,),
    ),
    case(
        org.two_factor_enabled,
        member(None),
        ERROR,
        "were not read",
        id="unknown",
        looks_fine="absent from the members-without-2FA list proves nothing when that list was never read",
    ),
    case(org.two_factor_enabled, member(False, active=False), NA, "suspended", id="suspended"),
    # reviews on the default branch
    case(branches.default_branch_reviews_required, repo(), PASS, "requires 1 approving", id="pass"),
    case(
        branches.default_branch_reviews_required,
        repo(BranchProtection=None, BranchRules=[PULL_1]),
        PASS,
        "ruleset 7 of acme requires 1",
        id="ruleset",
    ),
    case(
        branches.default_branch_reviews_required,
        repo(BranchProtection=None),
        FAIL,
        "without 1 approving",
        id="unprotected",
    ),
    case(
        branches.default_branch_reviews_required,
        repo(BranchProtection=prot(approvals=0), BranchRules=[PULL_0]),
        FAIL,
        "without 1",
        id="zero-approvals",
        looks_fine="a pull request is required, by protection and by a ruleset, but with 0 approvals anyone merges their own change",
    ),
    case(
        branches.default_branch_reviews_required,
        repo(errors={"BranchProtection": DENIED}),
        ERROR,
        "Must have admin rights",
        id="protection-unreadable",
    ),
    case(branches.default_branch_reviews_required, repo(archived=True), NA, "archived", id="archived"),
    # force pushes and deletion
    case(branches.default_branch_history_protected, repo(), PASS, "blocks force pushes", id="pass"),
    case(
        branches.default_branch_history_protected,
        repo(BranchProtection=prot(force=True), BranchRules=[rule("non_fast_forward")]),
        PASS,
        "ruleset 7 of acme blocks force pushes",
        id="ruleset-overrides",
    ),
    case(
        branches.default_branch_history_protected,
        repo(BranchProtection=None),
        FAIL,
        "allows force pushes and deletion",
        id="unprotected",
    ),
    case(
        branches.default_branch_history_protected,
        repo(BranchProtection=prot(delete=True)),
        FAIL,
        "allows deletion",
        id="deletion",
        looks_fine="force pushes are blocked, but the whole branch can still be deleted",
    ),
    case(
        branches.default_branch_history_protected,
        repo(errors={"BranchRules": "GetRulesForBranch: HTTP500: Server Error"}, BranchProtection=None),
        ERROR,
        "Server Error",
        id="rules-unreadable",
    ),
    # status checks
    case(branches.default_branch_status_checks, repo(), PASS, "requires ci", id="pass"),
    case(
        branches.default_branch_status_checks,
        repo(
            BranchProtection=None,
            BranchRules=[rule("required_status_checks", required_status_checks=[{"context": "build"}])],
        ),
        PASS,
        "requires build",
        id="ruleset",
    ),
    case(
        branches.default_branch_status_checks,
        repo(BranchProtection=prot(contexts=None)),
        FAIL,
        "without any required status check",
        id="none",
    ),
    case(
        branches.default_branch_status_checks,
        repo(
            BranchProtection=prot(contexts=[]), BranchRules=[rule("required_status_checks", required_status_checks=[])]
        ),
        FAIL,
        "without any",
        id="empty",
        looks_fine="'require status checks to pass' is on, in protection and a ruleset, but names no check: nothing is required",
    ),
    case(
        branches.default_branch_status_checks,
        repo(errors={"BranchProtection": DENIED}),
        ERROR,
        "could not be read",
        id="unreadable",
    ),
    # outside admins
    case(
        repository.no_outside_admins,
        repo(OutsideCollaborators=[{"login": "x", "admin": False}]),
        PASS,
        "no outside collaborator has admin",
        id="pass",
    ),
    case(
        repository.no_outside_admins,
        repo(OutsideCollaborators=[{"login": "contractor", "admin": True, "role_name": "admin"}]),
        FAIL,
        "contractor",
        id="fail",
    ),
    case(
        repository.no_outside_admins,
        repo(OutsideCollaborators=[{"login": "vendor", "admin": True, "role_name": "custom-release"}]),
        FAIL,
        "vendor",
        id="custom-role",
        looks_fine="the role name is a custom role, not 'admin', yet it carries the admin permission",
    ),
    case(
        repository.no_outside_admins,
        repo(errors={"OutsideCollaborators": "ListCollaborators: HTTP403: Forbidden"}),
        ERROR,
        "Forbidden",
        id="unreadable",
    ),
    # Dependabot alerts
    case(repository.dependabot_alerts_enabled, repo(), PASS, "enabled", id="pass"),
    case(repository.dependabot_alerts_enabled, repo(VulnerabilityAlerts=False), FAIL, "disabled", id="fail"),
    case(
        repository.dependabot_alerts_enabled,
        repo(errors={"VulnerabilityAlerts": "GetVulnerabilityAlerts: HTTP404: Not Found"}),
        ERROR,
        "Not Found",
        id="not-found",
        looks_fine="a 404 that does not say 'disabled' is GitHub hiding the repository from the token, not alerts off",
    ),
    # Dependabot security updates
    case(repository.dependabot_security_updates_enabled, repo(), PASS, "enabled", id="pass"),
    case(
        repository.dependabot_security_updates_enabled,
        repo(SecurityAndAnalysis={"dependabot_security_updates": "disabled"}),
        FAIL,
        "disabled",
        id="fail",
    ),
    case(
        repository.dependabot_security_updates_enabled,
        repo(SecurityAndAnalysis={}),
        ERROR,
        "did not report",
        id="absent",
        looks_fine="an empty security_and_analysis lists nothing as disabled, but nothing as enabled either",
    ),
    case(
        repository.dependabot_security_updates_enabled,
        repo(errors=SA_HIDDEN),
        ERROR,
        "not in the repository listing",
        id="hidden",
    ),
    # secret scanning
    case(repository.secret_scanning_enabled, repo(), PASS, "enabled", id="pass"),
    case(
        repository.secret_scanning_enabled,
        repo(SecurityAndAnalysis={"secret_scanning": "disabled"}),
        FAIL,
        "disabled",
        id="fail",
    ),
    case(
        repository.secret_scanning_enabled, repo(SecurityAndAnalysis={}), NA, "not available", id="private-unavailable"
    ),
    case(
        repository.secret_scanning_enabled,
        repo(SecurityAndAnalysis={}, visibility="public", private=False),
        ERROR,
        "is public",
        id="public-unreported",
        looks_fine="not reported reads as 'not available', but every public repository has secret scanning",
    ),
    case(
        repository.secret_scanning_enabled, repo(errors=SA_HIDDEN), ERROR, "not in the repository listing", id="hidden"
    ),
    # push protection
    case(repository.secret_scanning_push_protection, repo(), PASS, "enabled", id="pass"),
    case(
        repository.secret_scanning_push_protection,
        repo(SecurityAndAnalysis={"secret_scanning": "enabled", "secret_scanning_push_protection": "disabled"}),
        FAIL,
        "disabled",
        id="scanning-only",
        looks_fine="secret scanning is on, but it only reports a pushed secret; nothing stops the push",
    ),
    case(
        repository.secret_scanning_push_protection,
        repo(errors=SA_HIDDEN),
        ERROR,
        "not in the repository listing",
        id="hidden",
    ),
]


@pytest.mark.parametrize("c", CASES)
def test_case(c: Case) -> None:
    snap = Snapshot(
        source="t",
        provider="github",
        account="acme",
        started_at=NOW - timedelta(minutes=1),
        finished_at=NOW,
        resources=(c.resource,),
        errors=c.errors,
    )
    [finding] = [f for f in evaluate(snap, [c.check]) if f.resource_id == c.resource.id]
    assert finding.status == c.expect, finding.message
    assert c.reason.lower() in finding.message.lower(), finding.message


def test_every_github_check_has_a_full_case_table() -> None:
    assert_complete(checks_in("checks.github"))

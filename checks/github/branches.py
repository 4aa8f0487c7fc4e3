"""The default branch of each repository: reviewed changes only, history that cannot be rewritten or
deleted, and status checks that must pass. Classic branch protection or an active ruleset (of the
repository or the organisation) satisfies each requirement; either one is enough."""

from __future__ import annotations

from typing import Any

from agent.models import Resource
from checks.base import Context, Remediation, Severity, Verdict, check, failed, passed
from checks.github._util import (
    DOCS,
    NEEDS_REPO_ADMIN,
    READS_PROTECTION,
    READS_REPOS,
    READS_RULES,
    REPO_TYPE,
    archived,
    branch_of,
    branch_rule,
    count,
    params,
    rules_of,
    ruleset,
)

_RULESET_DOCS = DOCS + (
    "repositories/configuring-branches-and-merges-in-your-repository/managing-rulesets/"
    "creating-rulesets-for-a-repository"
)
_PROTECTION_DOCS = DOCS + (
    "repositories/configuring-branches-and-merges-in-your-repository/managing-protected-"
    "branches/managing-a-branch-protection-rule"
)


@check(
    id="github.repository.default_branch_reviews_required",
    title="Changes to a repository's default branch need an approving pull request review",
    severity=Severity.HIGH,
    resource_type=REPO_TYPE,
    rationale=(
        "Change management (SOC 2 CC8.1) asks that changes are approved before release: a pull request with at "
        "least one approval by someone other than its author. Requiring a pull request with 0 approvals does not."
    ),
    remediation=Remediation(
        console=(
            "Repository (or Organization) > Settings > Rules > Rulesets > New branch ruleset: Enforcement: Active; "
            "Target: the default branch; tick 'Require a pull request before merging' with 'Required approvals' "
            "of at least 1. (Classic: Settings > Branches > Add rule > Require approvals.)"
        ),
        cli="gh api 'repos/ORG/REPO/rules/branches/main' --jq '.[] | select(.type==\"pull_request\")'",
        docs=_RULESET_DOCS,
    ),
    params={"min_approvals": 1},
    reads=(READS_REPOS, READS_PROTECTION + ": required_pull_request_reviews", READS_RULES + " (pull_request)"),
    needs=NEEDS_REPO_ADMIN,
)
def default_branch_reviews_required(repo: Resource, ctx: Context) -> Verdict:
    if (na := archived(repo)) is not None:
        return na
    least = max(1, count(ctx.params.get("min_approvals", 1)))

    def by_protection(p: dict[str, Any]) -> str:
        reviews = p.get("required_pull_request_reviews")
        n = count(reviews.get("required_approving_review_count")) if isinstance(reviews, dict) else 0
        return f"branch protection requires {n} approving review(s)" if n >= least else ""

    def by_rules(rules: list[dict[str, Any]]) -> str:
        for r in rules_of(rules, "pull_request"):
            n = count(params(r).get("required_approving_review_count"))
            if n >= least:
                return f"{ruleset(r)} requires {n} approving review(s)"
        return ""

    ok, how = branch_rule(repo, by_protection, by_rules)
    where = f"default branch {branch_of(repo)} of {repo.name}"
    if ok:
        return passed(f"{where}: {how}")
    return failed(f"{where} can be changed without {least} approving pull request review(s)")


@check(
    id="github.repository.default_branch_history_protected",
    title="A repository's default branch cannot be force-pushed or deleted",
    severity=Severity.HIGH,
    resource_type=REPO_TYPE,
    rationale=(
        "A force push rewrites reviewed history and a deletion removes it: either undoes the evidence that changes "
        "were reviewed. Without any protection or ruleset, GitHub allows both to anyone with write access."
    ),
    remediation=Remediation(
        console=(
            "Settings > Rules > Rulesets: an active branch ruleset on the default branch with 'Block force pushes' "
            "and 'Restrict deletions' ticked. (Classic protection: leave 'Allow force pushes' and 'Allow "
            "deletions' unticked.)"
        ),
        cli=(
            "gh api 'repos/ORG/REPO/branches/main/protection' --jq '{force: .allow_force_pushes, "
            "delete: .allow_deletions}'"
        ),
        docs=_RULESET_DOCS,
    ),
    reads=(
        READS_REPOS,
        READS_PROTECTION + ": allow_force_pushes, allow_deletions",
        READS_RULES + " (non_fast_forward, deletion)",
    ),
    needs=NEEDS_REPO_ADMIN,
)
def default_branch_history_protected(repo: Resource, ctx: Context) -> Verdict:
    if (na := archived(repo)) is not None:
        return na

    def blocked(flag: str, rule_type: str, what: str) -> tuple[bool, str]:
        def by_protection(p: dict[str, Any]) -> str:
            return f"branch protection blocks {what}" if p.get(flag) is False else ""

        def by_rules(rules: list[dict[str, Any]]) -> str:
            found = rules_of(rules, rule_type)
            return f"{ruleset(found[0])} blocks {what}" if found else ""

        return branch_rule(repo, by_protection, by_rules)

    force_ok, force_how = blocked("allow_force_pushes", "non_fast_forward", "force pushes")
    delete_ok, delete_how = blocked("allow_deletions", "deletion", "deletion")
    where = f"default branch {branch_of(repo)} of {repo.name}"
    allowed = [w for ok, w in ((force_ok, "force pushes"), (delete_ok, "deletion")) if not ok]
    if allowed:
        return failed(f"{where} allows {' and '.join(allowed)}")
    return passed(f"{where}: {force_how}; {delete_how}")


@check(
    id="github.repository.default_branch_status_checks",
    title="Changes to a repository's default branch must pass required status checks",
    severity=Severity.MEDIUM,
    resource_type=REPO_TYPE,
    rationale=(
        "Change management asks that changes are tested before release: a required status check (CI) must pass "
        "before a merge. Turning on 'require status checks' without naming any check requires nothing."
    ),
    remediation=Remediation(
        console=(
            "Settings > Rules > Rulesets: on the default branch's ruleset tick 'Require status checks to pass' and "
            "add your CI job(s) by name. (Classic: Settings > Branches > 'Require status checks to pass before "
            "merging' and search for the checks.)"
        ),
        cli="gh api 'repos/ORG/REPO/rules/branches/main' --jq '.[] | select(.type==\"required_status_checks\")'",
        docs=_PROTECTION_DOCS,
    ),
    reads=(READS_REPOS, READS_PROTECTION + ": required_status_checks", READS_RULES + " (required_status_checks)"),
    needs=NEEDS_REPO_ADMIN,
)
def default_branch_status_checks(repo: Resource, ctx: Context) -> Verdict:
    if (na := archived(repo)) is not None:
        return na

    def by_protection(p: dict[str, Any]) -> str:
        checks = p.get("required_status_checks")
        if not isinstance(checks, dict):
            return ""
        names = [str(c) for c in [*(checks.get("contexts") or []), *(checks.get("checks") or [])] if c]
        return f"branch protection requires {', '.join(sorted(set(names)))}" if names else ""

    def by_rules(rules: list[dict[str, Any]]) -> str:
        for r in rules_of(rules, "required_status_checks"):
            listed = params(r).get("required_status_checks")
            names = [str(c.get("context")) for c in listed or [] if isinstance(c, dict) and c.get("context")]
            if names:
                return f"{ruleset(r)} requires {', '.join(sorted(set(names)))}"
        return ""

    ok, how = branch_rule(repo, by_protection, by_rules)
    where = f"default branch {branch_of(repo)} of {repo.name}"
    if ok:
        return passed(f"{where}: {how}")
    return failed(f"{where} can be changed without any required status check passing")

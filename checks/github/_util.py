"""What the GitHub checks share: resource types, archived repositories, and reading the default branch's
rules from classic branch protection OR rulesets (either one satisfying a requirement is enough)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from agent.models import Resource
from checks.base import MissingInput, Verdict, not_applicable

ORG_TYPE = "github.organization"
MEMBER_TYPE = "github.member"
REPO_TYPE = "github.repository"
DOCS = "https://docs.github.com/en/"
NEEDS_REPO_ADMIN = (
    "fine-grained token or GitHub App: Repository Administration read and Metadata read "
    "(classic token: repo); see docs/github-permissions.md"
)
READS_PROTECTION = "GET /repos/{owner}/{repo}/branches/{default_branch}/protection"
READS_RULES = "GET /repos/{owner}/{repo}/rules/branches/{default_branch}: active ruleset rules"
READS_REPOS = "GET /orgs/{org}/repos: default_branch, archived, visibility, security_and_analysis"

Test = Callable[[Any], str]  # "" when not satisfied, else how it is satisfied


def archived(repo: Resource) -> Verdict | None:
    if repo.attributes.get("archived") is True:
        return not_applicable(f"repository {repo.name} is archived (read-only)")
    return None


def branch_of(repo: Resource) -> str:
    return str(repo.attributes.get("default_branch") or "?")


def _input(repo: Resource, key: str) -> tuple[Any, str]:
    """(value, "") or (None, why it is unknown)."""
    if key in repo.errors:
        return None, repo.errors[key]
    if key not in repo.attributes:
        return None, f"{key} was not collected"
    return repo.attributes[key], ""


def branch_rule(repo: Resource, by_protection: Test, by_rules: Test) -> tuple[bool, str]:
    """Whether the default branch's protection or its ruleset rules satisfy a requirement:
    (True, how) when either does, (False, "") when both were read and neither does; MissingInput when
    neither satisfies it and one of them could not be read (it might have)."""
    protection, p_why = _input(repo, "BranchProtection")
    rules, r_why = _input(repo, "BranchRules")
    if not p_why and protection is not None and not isinstance(protection, dict):
        p_why = "BranchProtection is not an object"
    if not r_why and not isinstance(rules, list):
        r_why = "BranchRules is not a list"
    if not p_why and protection is not None:
        how = by_protection(protection)
        if how:
            return True, how
    if not r_why:
        how = by_rules([r for r in rules if isinstance(r, dict)])
        if how:
            return True, how
    unknown = [f"branch protection could not be read: {p_why}" if p_why else "", r_why and f"rulesets: {r_why}"]
    if any(unknown):
        raise MissingInput("; ".join(u for u in unknown if u))
    return False, ""


def count(value: Any) -> int:
    """A count GitHub sends as an integer; anything else counts as none."""
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def rules_of(rules: list[dict[str, Any]], rule_type: str) -> list[dict[str, Any]]:
    return [r for r in rules if r.get("type") == rule_type]


def ruleset(rule: dict[str, Any]) -> str:
    source = rule.get("ruleset_source")
    rid = rule.get("ruleset_id")
    where = f" of {source}" if isinstance(source, str) and source else ""
    return f"ruleset {rid}{where}" if rid is not None else f"a ruleset{where}"


def params(rule: dict[str, Any]) -> dict[str, Any]:
    p = rule.get("parameters")
    return p if isinstance(p, dict) else {}

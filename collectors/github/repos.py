"""The organisation's repositories: ``github.repository``.

Per non-archived repository: the listing's visibility, default branch and ``security_and_analysis``
(secret scanning, push protection, Dependabot security updates; shown only to a token with admin
rights on it), Dependabot alerts (``vulnerability-alerts``: 204 on, 404 off), the default branch's
classic protection (404 "Branch not protected": none) and the ruleset rules active on it, trimmed to
what the checks read, and the outside collaborators with their admin permission. What cannot be read
is named in ``Resource.errors``; the checks then report error for that repository.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from agent.models import Resource
from collectors.github.http import ApiError, GitHubHttp

__all__ = ["REPO_TYPE", "RepoFailure", "collect_repo", "list_repos", "repo_id_of", "trim_protection", "trim_rules"]

REPO_TYPE = "github.repository"
_NAME = re.compile(r"^[A-Za-z0-9._-]{1,100}$")
_REPO_KEEP = ("id", "name", "full_name", "visibility", "private", "fork", "archived", "default_branch")
_SA_HIDDEN = (
    "security_and_analysis is not in the repository listing: GitHub shows it only to a token with admin "
    "rights on the repository (fine-grained / App: Repository Administration read)"
)


def repo_id_of(org: str, name: str) -> str:
    return f"github:{org.lower()}/{name.lower()}"


def list_repos(http: GitHubHttp, org: str) -> list[dict[str, Any]]:
    """Every repository of the organisation, each checked for the fields the collector relies on."""
    repos: list[dict[str, Any]] = []
    for item in http.list(f"/orgs/{org}/repos", {"type": "all"}, operation="ListRepositories"):
        if not isinstance(item, dict) or not isinstance(item.get("name"), str) or not _NAME.match(item["name"]):
            raise ApiError(200, "InvalidResponse", "ListRepositories: an item without a valid repository name")
        if item.get("default_branch") is not None and not isinstance(item["default_branch"], str):
            raise ApiError(200, "InvalidResponse", f"ListRepositories: {item['name']}: default_branch is not a string")
        repos.append(item)
    return repos


def _enabled(value: Any) -> Any:
    return value.get("enabled") if isinstance(value, dict) else None


def trim_protection(body: Any) -> dict[str, Any]:
    """The fields of a branch protection the checks read, in GitHub's shape."""
    if not isinstance(body, dict):
        raise ApiError(200, "InvalidResponse", "branch protection: expected a JSON object")
    out: dict[str, Any] = {}
    reviews = body.get("required_pull_request_reviews")
    out["required_pull_request_reviews"] = (
        {
            k: reviews.get(k)
            for k in (
                "required_approving_review_count",
                "dismiss_stale_reviews",
                "require_code_owner_reviews",
                "require_last_push_approval",
            )
        }
        if isinstance(reviews, dict)
        else None
    )
    checks = body.get("required_status_checks")
    if isinstance(checks, dict):
        contexts = checks.get("contexts")
        listed = checks.get("checks")
        out["required_status_checks"] = {
            "strict": checks.get("strict"),
            "contexts": [c for c in contexts if isinstance(c, str)] if isinstance(contexts, list) else [],
            "checks": [c.get("context") for c in listed if isinstance(c, dict)] if isinstance(listed, list) else [],
        }
    else:
        out["required_status_checks"] = None
    for key in ("enforce_admins", "allow_force_pushes", "allow_deletions", "required_linear_history", "lock_branch"):
        out[key] = _enabled(body.get(key))
    return out


def trim_rules(items: list[Any]) -> list[dict[str, Any]]:
    """The active rules on a branch: type, parameters and the ruleset they come from."""
    out: list[dict[str, Any]] = []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("type"), str):
            raise ApiError(200, "InvalidResponse", "branch rules: an item without a type")
        params = item.get("parameters")
        out.append(
            {
                "type": item["type"],
                "parameters": params if isinstance(params, dict) else {},
                "ruleset_source_type": item.get("ruleset_source_type"),
                "ruleset_source": item.get("ruleset_source"),
                "ruleset_id": item.get("ruleset_id"),
            }
        )
    return out


def _outside(items: list[Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for item in items:
        perms = item.get("permissions") if isinstance(item, dict) else None
        if not isinstance(item, dict) or not isinstance(item.get("login"), str) or not isinstance(perms, dict):
            raise ApiError(200, "InvalidResponse", "collaborators: an item without a login and permissions")
        out.append({"login": item["login"], "admin": perms.get("admin") is True, "role_name": item.get("role_name")})
    return sorted(out, key=lambda c: str(c["login"]).lower())


@dataclass
class RepoFailure:
    operation: str
    error: ApiError


@dataclass
class _Reader:
    attrs: dict[str, Any]
    errors: dict[str, str] = field(default_factory=dict)
    failures: list[RepoFailure] = field(default_factory=list)

    def read(self, key: str, operation: str, fn: Callable[[], Any]) -> None:
        try:
            self.attrs[key] = fn()
        except ApiError as exc:
            self.errors[key] = f"{operation}: {exc.code}: {exc.message}"
            self.failures.append(RepoFailure(operation, exc))


def collect_repo(
    http: GitHubHttp, org: str, repo: dict[str, Any], *, outside_none: bool
) -> tuple[Resource, list[RepoFailure]]:
    """One repository's resource. ``outside_none``: the organisation has no outside collaborators at
    all, so no repository can have one (one listing spared per repository)."""
    name: str = repo["name"]
    base = f"/repos/{quote(org, safe='')}/{quote(name, safe='')}"
    reader = _Reader({k: repo.get(k) for k in _REPO_KEEP})
    sa = repo.get("security_and_analysis")
    if isinstance(sa, dict):
        reader.attrs["SecurityAndAnalysis"] = {
            str(k): v.get("status") for k, v in sa.items() if isinstance(v, dict) and isinstance(v.get("status"), str)
        }
    else:
        reader.errors["SecurityAndAnalysis"] = _SA_HIDDEN

    def alerts() -> bool:
        status, _ = http.get_optional(
            f"{base}/vulnerability-alerts", operation="GetVulnerabilityAlerts", absent="disabled"
        )
        if status not in (204, 404):
            raise ApiError(status, "InvalidResponse", f"vulnerability-alerts answered HTTP {status}, not 204 or 404")
        return status == 204

    reader.read("VulnerabilityAlerts", "GetVulnerabilityAlerts", alerts)
    branch = repo.get("default_branch")
    if isinstance(branch, str) and branch:
        segment = quote(branch, safe="")

        def protection() -> dict[str, Any] | None:
            _, body = http.get_optional(
                f"{base}/branches/{segment}/protection", operation="GetBranchProtection", absent="not protected"
            )
            return None if body is None else trim_protection(body)

        reader.read("BranchProtection", "GetBranchProtection", protection)
        reader.read(
            "BranchRules",
            "GetRulesForBranch",
            lambda: trim_rules(http.list(f"{base}/rules/branches/{segment}", operation="GetRulesForBranch")),
        )
    else:
        for key in ("BranchProtection", "BranchRules"):
            reader.errors[key] = "the repository has no default branch"
    if outside_none:
        reader.attrs["OutsideCollaborators"] = []
    else:
        reader.read(
            "OutsideCollaborators",
            "ListCollaborators",
            lambda: _outside(
                http.list(f"{base}/collaborators", {"affiliation": "outside"}, operation="ListCollaborators")
            ),
        )
    resource = Resource(
        provider="github",
        account=org,
        region="global",
        type=REPO_TYPE,
        id=repo_id_of(org, name),
        name=str(repo.get("full_name") or f"{org}/{name}"),
        attributes=reader.attrs,
        errors=reader.errors,
    )
    return resource, reader.failures

"""The GitHub collector: one snapshot per organisation (``account`` = the organisation login).

Requests are sent one at a time, as GitHub asks of integrations (concurrent requests trip its
secondary rate limits). Failures are data: a listing that fails is a CollectionError on the type it
lists; a per-repository read that fails is named on that repository (``Resource.errors``) and
summarised once per operation and status in the snapshot's errors. Only credentials GitHub refuses
(401, or a GitHub App token exchange that fails) stop the run, with one line (AuthError).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from typing import Any

from agent.models import CollectionError, Resource, Snapshot, utcnow
from collectors import CollectContext
from collectors.github.auth import authorization_for
from collectors.github.config import GitHubSource
from collectors.github.http import ApiError, GitHubHttp
from collectors.github.org import ORG_TYPE, collect_members, logins, org_error, org_resource, read_org
from collectors.github.repos import REPO_TYPE, RepoFailure, collect_repo, list_repos

__all__ = ["collect"]

log = logging.getLogger(__name__)


def _outside_collaborators(http: GitHubHttp, org: str, errors: list[CollectionError]) -> tuple[list[str] | None, str]:
    try:
        items = logins(
            http.list(f"/orgs/{org}/outside_collaborators", operation="ListOutsideCollaborators"),
            "ListOutsideCollaborators",
        )
    except ApiError as exc:
        err = org_error("ListOutsideCollaborators", exc, "")  # each repository still reads its own collaborators
        errors.append(err)
        return None, err.summary()
    return [str(i["login"]) for i in items], ""


def _wanted(
    repos: list[dict[str, Any]], names: list[str] | None, org: str, errors: list[CollectionError]
) -> list[dict[str, Any]]:
    """The repositories to assess: the configured ones (or all), archived and disabled ones left out."""
    if names:
        by_name = {str(r["name"]).lower(): r for r in repos}
        missing = [n for n in names if n.lower() not in by_name]
        if missing:
            errors.append(
                CollectionError(
                    service="github",
                    operation="ListRepositories",
                    region="global",
                    code="NotFound",
                    message=f"configured repositories not in {org} or not visible to the agent: {', '.join(missing)}",
                    resource_type=REPO_TYPE,
                )
            )
        repos = [by_name[n.lower()] for n in dict.fromkeys(names) if n.lower() in by_name]
    return [r for r in repos if r.get("archived") is not True and r.get("disabled") is not True]


def _summarise(failures: dict[tuple[str, str], list[str]], sample: dict[tuple[str, str], str]) -> list[CollectionError]:
    """One CollectionError per (operation, code) of the per-repository reads, naming a few repositories."""
    out: list[CollectionError] = []
    for (operation, code), names in sorted(failures.items()):
        shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
        out.append(
            CollectionError(
                service="github",
                operation=operation,
                region="global",
                code=code,
                message=f"{sample[(operation, code)]} (repositories: {shown})",
                resource_type="",  # the repositories name it themselves: their checks report error
            )
        )
    return out


def collect(source: GitHubSource, ctx: CollectContext) -> list[Snapshot]:
    """Read-only collection of one GitHub organisation. Raises AuthError if GitHub refuses the credentials."""
    org = source.organization
    started = utcnow()
    errors: list[CollectionError] = []
    resources: list[Resource] = []
    with GitHubHttp(source, ctx) as http:
        http.authorization = authorization_for(source, http)
        ctx.progress.add_total(1)
        try:
            body: dict[str, Any] | None = read_org(http, org)
            org_failure = ""
        except ApiError as exc:
            err = org_error("GetOrganization", exc, ORG_TYPE)
            errors.append(err)
            body, org_failure = None, err.summary()
        outside, outside_failure = _outside_collaborators(http, org, errors)
        members = collect_members(http, org)
        resources += members.resources
        errors += members.errors
        ctx.progress.advance(1, f"github {org}: organisation and members")
        try:
            listed: list[dict[str, Any]] | None = list_repos(http, org)
        except ApiError as exc:
            errors.append(org_error("ListRepositories", exc, REPO_TYPE))
            listed = None
        repos = _wanted(listed, source.repositories, org, errors) if listed is not None else []
        failures: dict[tuple[str, str], list[str]] = defaultdict(list)
        sample: dict[tuple[str, str], str] = {}
        ctx.progress.add_total(len(repos))
        for repo in repos:
            ctx.check_cancelled()
            resource, failed = collect_repo(http, org, repo, outside_none=outside == [])
            resources.append(resource)
            for f in failed:
                _note(failures, sample, f, str(repo["name"]))
            ctx.progress.advance(1, f"github {org}/{repo['name']}")
        errors += _summarise(failures, sample)
        org_res = org_resource(org, body, org_failure, outside, outside_failure)
        if listed is not None:  # archived repositories are left out of the checks, but named here
            org_res = _with(org_res, ArchivedRepositories=sorted(str(r["name"]) for r in listed if r.get("archived")))
        resources.insert(0, org_res)
    return [
        Snapshot(
            source=source.name,
            provider="github",
            account=org,
            started_at=started,
            finished_at=utcnow(),
            resources=tuple(resources),
            errors=tuple(errors),
        )
    ]


def _note(
    failures: dict[tuple[str, str], list[str]], sample: dict[tuple[str, str], str], f: RepoFailure, name: str
) -> None:
    key = (f.operation, f.error.code)
    failures[key].append(name)
    sample.setdefault(key, f.error.message)


def _with(resource: Resource, **attrs: Any) -> Resource:
    return Resource(
        provider=resource.provider,
        account=resource.account,
        region=resource.region,
        type=resource.type,
        id=resource.id,
        name=resource.name,
        attributes={**resource.attributes, **attrs},
        errors=resource.errors,
    )

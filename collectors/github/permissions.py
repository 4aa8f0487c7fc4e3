"""What the GitHub collector may request, and the permission each request needs.

Every request is declared here (``REQUESTS``) with its method, its path template (relative to the
source's ``api_url``; ``{name}`` is one path segment), the permission a fine-grained token or a
GitHub App needs for it, the classic token scope, and what it is sent for. ``make permissions``
(``python -m collectors.permissions --write``) writes from these the allowlist the HTTP client
enforces before anything leaves the process (collectors/github/allowed_requests.py) and the table of
docs/github-permissions.md; a test fails while either is stale.

Everything is a GET but one: ``POST /app/installations/{installation_id}/access_tokens``, the GitHub
App token exchange (a signed JWT in, a one-hour installation token out), which changes nothing in the
organisation; it asks for exactly the read permissions below (``app_permissions``).

GitHub's ``Link: rel="next"`` URLs name an organisation or repository by its numeric id
(``/organizations/{org_id}/repos?page=2``), so each paged listing is declared in both spellings.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["APP_PERMISSION", "REQUESTS", "TOKEN_EXCHANGE", "Request", "app_permissions"]


@dataclass(frozen=True)
class Request:
    """One request the collector may send."""

    method: str
    path: str  # template relative to api_url
    permission: str  # fine-grained token / GitHub App permission ("" when none is needed)
    classic: str  # classic personal access token scope
    purpose: str
    by: str  # the module that sends it


# The GitHub App permission key (the token exchange's ``permissions`` body) of each permission named above.
APP_PERMISSION: dict[str, str] = {
    "Organization Members: read": "members",
    "Organization Administration: read": "organization_administration",
    "Repository Metadata: read": "metadata",
    "Repository Administration: read": "administration",
}

_ORG = "collectors/github/org.py"
_REPOS = "collectors/github/repos.py"
_AUTH = "collectors/github/auth.py"
_MEMBERS = "Organization Members: read"
_META = "Repository Metadata: read"
_ADMIN = "Repository Administration: read"

TOKEN_EXCHANGE = ("POST", "/app/installations/{installation_id}/access_tokens")

#: Every request the GitHub collector may send (docs/github-permissions.md is generated from it).
REQUESTS: tuple[Request, ...] = (
    Request(
        "GET",
        "/orgs/{org}",
        "Organization Administration: read",
        "read:org (the 2FA requirement is shown to an owner with admin:org)",
        "`github.organization`: two_factor_requirement_enabled, defaults for new repositories",
        _ORG,
    ),
    Request("GET", "/orgs/{org}/members", _MEMBERS, "read:org", "`github.member`: members; role=admin: owners", _ORG),
    Request(
        "GET", "/organizations/{org_id}/members", _MEMBERS, "read:org", "the next pages of the members listings", _ORG
    ),
    Request(
        "GET",
        "/orgs/{org}/outside_collaborators",
        _MEMBERS,
        "read:org",
        "`github.organization`: outside collaborators (whether any repository can have one)",
        _ORG,
    ),
    Request(
        "GET",
        "/organizations/{org_id}/outside_collaborators",
        _MEMBERS,
        "read:org",
        "the next pages of the outside collaborators",
        _ORG,
    ),
    Request(
        "GET",
        "/orgs/{org}/repos",
        _META,
        "repo (private repositories)",
        "`github.repository`: default branch, visibility, archived, security_and_analysis",
        _REPOS,
    ),
    Request("GET", "/organizations/{org_id}/repos", _META, "repo", "the next pages of the repositories", _REPOS),
    Request(
        "GET",
        "/repos/{owner}/{repo}/collaborators",
        _META,
        "repo, read:org",
        "`github.repository`: outside collaborators and their admin permission (affiliation=outside)",
        _REPOS,
    ),
    Request(
        "GET",
        "/repositories/{repo_id}/collaborators",
        _META,
        "repo, read:org",
        "the next pages of the collaborators",
        _REPOS,
    ),
    Request(
        "GET",
        "/repos/{owner}/{repo}/vulnerability-alerts",
        _ADMIN,
        "repo",
        "`github.repository`: Dependabot alerts enabled (204) or not (404)",
        _REPOS,
    ),
    Request(
        "GET",
        "/repos/{owner}/{repo}/branches/{branch}/protection",
        _ADMIN,
        "repo",
        "`github.repository`: the default branch's protection (404: none)",
        _REPOS,
    ),
    Request(
        "GET",
        "/repos/{owner}/{repo}/rules/branches/{branch}",
        _META,
        "repo",
        "`github.repository`: the active ruleset rules on the default branch",
        _REPOS,
    ),
    Request(
        "GET",
        "/repositories/{repo_id}/rules/branches/{branch}",
        _META,
        "repo",
        "the next pages of the branch rules",
        _REPOS,
    ),
    Request(
        "GET",
        "/app/installations/{installation_id}",
        "",
        "",
        "GitHub App only (signed JWT): the installation's permissions, to ask for no more than needed",
        _AUTH,
    ),
    Request(
        *TOKEN_EXCHANGE,
        "",
        "",
        "GitHub App only (signed JWT): the token exchange, an installation token with the read permissions above",
        _AUTH,
    ),
)


def app_permissions() -> dict[str, str]:
    """The permissions an installation token is asked for: every one the requests need, read only."""
    return {APP_PERMISSION[r.permission]: "read" for r in REQUESTS if r.permission}

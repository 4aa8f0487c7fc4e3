"""Each repository: no outside collaborator administers it; Dependabot and secret scanning are on."""

from __future__ import annotations

from agent.models import Resource
from checks.base import (
    Context,
    MissingInput,
    Remediation,
    Severity,
    Verdict,
    check,
    failed,
    need,
    not_applicable,
    passed,
)
from checks.github._util import DOCS, NEEDS_REPO_ADMIN, READS_REPOS, REPO_TYPE, archived


@check(
    id="github.repository.no_outside_admins",
    title="No outside collaborator holds admin permission on a repository",
    severity=Severity.HIGH,
    resource_type=REPO_TYPE,
    rationale=(
        "An admin can remove branch protection, change who has access and delete the repository. Outside "
        "collaborators are not members: the organisation's 2FA, SSO and offboarding do not reach them."
    ),
    remediation=Remediation(
        console=(
            "Repository > Settings > Collaborators and teams: change the outside collaborator's role to Write or "
            "lower (or remove them); if they need more, make them a member of the organisation."
        ),
        cli=(
            "gh api 'repos/ORG/REPO/collaborators?affiliation=outside' --jq '.[] | select(.permissions.admin) | .login'"
        ),
        docs=DOCS
        + (
            "organizations/managing-user-access-to-your-organizations-repositories/managing-outside-"
            "collaborators/adding-outside-collaborators-to-repositories-in-your-organization"
        ),
    ),
    reads=(
        "GET /orgs/{org}/outside_collaborators: whether there are any",
        "GET /repos/{owner}/{repo}/collaborators?affiliation=outside: permissions.admin",
    ),
    needs=(
        "fine-grained token or GitHub App: Organization Members read, Repository Metadata read "
        "(classic: read:org, repo)"
    ),
)
def no_outside_admins(repo: Resource, ctx: Context) -> Verdict:
    if (na := archived(repo)) is not None:
        return na
    collaborators = need(repo, "OutsideCollaborators")
    if not isinstance(collaborators, list):
        raise MissingInput("OutsideCollaborators is not a list")
    admins = sorted(str(c.get("login")) for c in collaborators if isinstance(c, dict) and c.get("admin") is True)
    if admins:
        return failed(f"repository {repo.name}: outside collaborator(s) with admin: {', '.join(admins)}")
    return passed(f"repository {repo.name}: no outside collaborator has admin ({len(collaborators)} outside)")


@check(
    id="github.repository.dependabot_alerts_enabled",
    title="Dependabot alerts are enabled on each repository",
    severity=Severity.MEDIUM,
    resource_type=REPO_TYPE,
    rationale=(
        "Dependabot alerts are how a repository learns that a dependency it uses has a known vulnerability "
        "(SOC 2 CC7.1: new vulnerabilities detected). A dependabot.yml file alone does not turn them on."
    ),
    remediation=Remediation(
        console=(
            "Repository > Settings > Code security > Dependabot alerts: Enable (or an organisation "
            "code security configuration)."
        ),
        cli="gh api -X PUT 'repos/ORG/REPO/vulnerability-alerts'",
        docs=DOCS + "code-security/dependabot/dependabot-alerts/configuring-dependabot-alerts",
    ),
    reads=("GET /repos/{owner}/{repo}/vulnerability-alerts: 204 enabled, 404 'disabled'",),
    needs=NEEDS_REPO_ADMIN,
)
def dependabot_alerts_enabled(repo: Resource, ctx: Context) -> Verdict:
    if (na := archived(repo)) is not None:
        return na
    on = need(repo, "VulnerabilityAlerts")
    if on is True:
        return passed(f"repository {repo.name}: Dependabot alerts are enabled")
    if on is False:
        return failed(f"repository {repo.name}: Dependabot alerts are disabled")
    raise MissingInput(f"VulnerabilityAlerts is {on!r}, not true or false")


def _feature(repo: Resource, key: str) -> str | None:
    sa = need(repo, "SecurityAndAnalysis")
    if not isinstance(sa, dict):
        raise MissingInput("SecurityAndAnalysis is not an object")
    value = sa.get(key)
    return value if isinstance(value, str) else None


@check(
    id="github.repository.dependabot_security_updates_enabled",
    title="Dependabot security updates are enabled on each repository",
    severity=Severity.LOW,
    resource_type=REPO_TYPE,
    rationale=(
        "With security updates on, Dependabot opens a pull request that upgrades a vulnerable dependency, so "
        "an alert turns into a reviewed fix instead of a backlog item."
    ),
    remediation=Remediation(
        console=(
            "Repository > Settings > Code security > Dependabot security updates: Enable (needs Dependabot alerts)."
        ),
        cli="gh api -X PUT 'repos/ORG/REPO/automated-security-fixes'",
        docs=DOCS + "code-security/dependabot/dependabot-security-updates/configuring-dependabot-security-updates",
    ),
    reads=(READS_REPOS + ": security_and_analysis.dependabot_security_updates.status",),
    needs=NEEDS_REPO_ADMIN,
)
def dependabot_security_updates_enabled(repo: Resource, ctx: Context) -> Verdict:
    if (na := archived(repo)) is not None:
        return na
    status = _feature(repo, "dependabot_security_updates")
    if status == "enabled":
        return passed(f"repository {repo.name}: Dependabot security updates are enabled")
    if status == "disabled":
        return failed(f"repository {repo.name}: Dependabot security updates are disabled")
    raise MissingInput(f"repository {repo.name}: GitHub did not report dependabot_security_updates")


def _scanning(repo: Resource, key: str, what: str) -> Verdict:
    if (na := archived(repo)) is not None:
        return na
    status = _feature(repo, key)
    if status == "enabled":
        return passed(f"repository {repo.name}: {what} is enabled")
    if status == "disabled":
        return failed(f"repository {repo.name}: {what} is disabled")
    if repo.attributes.get("visibility") == "public" or repo.attributes.get("private") is False:
        # available on every public repository: not reported there means not read, not "not available"
        raise MissingInput(f"repository {repo.name} is public, yet GitHub did not report {key}")
    if repo.attributes.get("private") is True:
        return not_applicable(
            f"repository {repo.name}: {what} is not available (a private repository without GitHub Secret Protection)"
        )
    raise MissingInput(f"repository {repo.name}: {key} not reported and the visibility is unknown")


_SCAN_DOCS = DOCS + "code-security/secret-scanning/enabling-secret-scanning-features"


@check(
    id="github.repository.secret_scanning_enabled",
    title="Secret scanning is enabled on each repository where GitHub offers it",
    severity=Severity.HIGH,
    resource_type=REPO_TYPE,
    rationale=(
        "Secret scanning finds credentials committed to the repository and its history, and alerts before they "
        "are abused. It is available on every public repository and on private ones with GitHub Secret Protection."
    ),
    remediation=Remediation(
        console="Repository > Settings > Code security > Secret Protection (Secret scanning): Enable.",
        cli=(
            "gh api -X PATCH 'repos/ORG/REPO' --input - <<< "
            '\'{"security_and_analysis":{"secret_scanning":{"status":"enabled"}}}\''
        ),
        docs=_SCAN_DOCS,
    ),
    reads=(READS_REPOS + ": security_and_analysis.secret_scanning.status",),
    needs=NEEDS_REPO_ADMIN,
)
def secret_scanning_enabled(repo: Resource, ctx: Context) -> Verdict:
    return _scanning(repo, "secret_scanning", "secret scanning")


@check(
    id="github.repository.secret_scanning_push_protection",
    title="Secret scanning push protection is enabled on each repository where GitHub offers it",
    severity=Severity.MEDIUM,
    resource_type=REPO_TYPE,
    rationale=(
        "Push protection blocks a push that contains a recognised secret, so the credential never lands in the "
        "history; scanning alone only reports it afterwards, when it must already be rotated."
    ),
    remediation=Remediation(
        console="Repository > Settings > Code security > Secret Protection > Push protection: Enable.",
        cli=(
            "gh api -X PATCH 'repos/ORG/REPO' --input - <<< "
            '\'{"security_and_analysis":{"secret_scanning_push_protection":{"status":"enabled"}}}\''
        ),
        docs=_SCAN_DOCS,
    ),
    reads=(READS_REPOS + ": security_and_analysis.secret_scanning_push_protection.status",),
    needs=NEEDS_REPO_ADMIN,
)
def secret_scanning_push_protection(repo: Resource, ctx: Context) -> Verdict:
    return _scanning(repo, "secret_scanning_push_protection", "secret scanning push protection")

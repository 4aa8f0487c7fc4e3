"""The demo's GitHub organisation: something to find for every GitHub check.

- the organisation does not require 2FA; carol and dave (an owner) have no 2FA;
- payments-api: well protected, but an outside collaborator (contractor-x) is an admin;
- web-app: no classic protection, an organisation ruleset does it all (it passes everything);
- legacy-tool: nothing at all: no protection, no rules, Dependabot and secret scanning off;
- docs-site: protection that looks fine but is not: pull requests with 0 approvals, force pushes allowed,
  no status checks; Dependabot security updates off, push protection off;
- infra: 1 approval, but required status checks with no check in them and deletion allowed; secret
  scanning not available (private, no GitHub Secret Protection);
- old-monolith: archived, left out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["DEMO_ORG", "DEMO_ORG_ID", "FakeRepo", "FakeOrg", "demo_org", "expected_failures"]

DEMO_ORG = "posture-demo"
DEMO_ORG_ID = 9001


@dataclass
class FakeRepo:
    name: str
    id: int
    visibility: str = "private"
    archived: bool = False
    default_branch: str = "main"
    protection: dict[str, Any] | None = None  # None: "Branch not protected"
    rules: list[dict[str, Any]] = field(default_factory=list)
    vulnerability_alerts: bool = True
    security: dict[str, str] = field(default_factory=dict)  # security_and_analysis feature -> status
    collaborators: dict[str, str] = field(default_factory=dict)  # outside login -> role_name


@dataclass
class FakeMember:
    login: str
    id: int
    owner: bool = False
    two_factor: bool = True
    type: str = "User"


@dataclass
class FakeOrg:
    login: str = DEMO_ORG
    id: int = DEMO_ORG_ID
    two_factor_required: bool = False
    members: list[FakeMember] = field(default_factory=list)
    repos: list[FakeRepo] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)  # outside collaborators (logins)


def protection(
    *,
    approvals: int | None = 1,
    contexts: list[str] | None = None,
    force_pushes: bool = False,
    deletions: bool = False,
    enforce_admins: bool = True,
) -> dict[str, Any]:
    """A classic branch protection as GitHub stores it (the fake adds the URLs when it serves it)."""
    body: dict[str, Any] = {
        "required_signatures": {"enabled": False},
        "enforce_admins": {"enabled": enforce_admins},
        "required_linear_history": {"enabled": False},
        "allow_force_pushes": {"enabled": force_pushes},
        "allow_deletions": {"enabled": deletions},
        "block_creations": {"enabled": False},
        "required_conversation_resolution": {"enabled": False},
        "lock_branch": {"enabled": False},
        "allow_fork_syncing": {"enabled": False},
    }
    if approvals is not None:
        body["required_pull_request_reviews"] = {
            "dismiss_stale_reviews": True,
            "require_code_owner_reviews": False,
            "require_last_push_approval": False,
            "required_approving_review_count": approvals,
        }
    if contexts is not None:
        body["required_status_checks"] = {
            "strict": True,
            "contexts": list(contexts),
            "checks": [{"context": c, "app_id": None} for c in contexts],
        }
    return body


def _org_rule(rule_type: str, ruleset_id: int = 42, **parameters: Any) -> dict[str, Any]:
    rule: dict[str, Any] = {
        "type": rule_type,
        "ruleset_source_type": "Organization",
        "ruleset_source": DEMO_ORG,
        "ruleset_id": ruleset_id,
    }
    if parameters:
        rule["parameters"] = parameters
    return rule


_ALL_ON = {
    "secret_scanning": "enabled",
    "secret_scanning_push_protection": "enabled",
    "dependabot_security_updates": "enabled",
}


def demo_org() -> FakeOrg:
    members = [
        FakeMember("alice", 101, owner=True),
        FakeMember("bob", 102),
        FakeMember("carol", 103, two_factor=False),
        FakeMember("dave", 104, owner=True, two_factor=False),
        FakeMember("erin", 105),
        FakeMember("release-bot", 106),  # a machine user: GitHub cannot tell it from a person
    ]
    repos = [
        FakeRepo(
            "payments-api",
            2001,
            protection=protection(approvals=2, contexts=["ci/test"]),
            security=dict(_ALL_ON),
            collaborators={"contractor-x": "admin"},
        ),
        FakeRepo(
            "web-app",
            2002,
            visibility="public",
            rules=[
                _org_rule(
                    "pull_request",
                    required_approving_review_count=1,
                    dismiss_stale_reviews_on_push=True,
                    require_code_owner_review=False,
                    require_last_push_approval=False,
                    required_review_thread_resolution=False,
                ),
                _org_rule("non_fast_forward"),
                _org_rule("deletion"),
                _org_rule(
                    "required_status_checks",
                    strict_required_status_checks_policy=True,
                    required_status_checks=[{"context": "build", "integration_id": 15368}],
                ),
            ],
            security=dict(_ALL_ON),
        ),
        FakeRepo(
            "legacy-tool",
            2003,
            vulnerability_alerts=False,
            security={
                "secret_scanning": "disabled",
                "secret_scanning_push_protection": "disabled",
                "dependabot_security_updates": "disabled",
            },
        ),
        FakeRepo(
            "docs-site",
            2004,
            visibility="public",
            protection=protection(approvals=0, force_pushes=True),
            security={
                "secret_scanning": "enabled",
                "secret_scanning_push_protection": "disabled",
                "dependabot_security_updates": "disabled",
            },
            collaborators={"auditor-y": "read"},
        ),
        FakeRepo(
            "infra",
            2005,
            default_branch="trunk",
            protection=protection(approvals=1, contexts=[], deletions=True),
            security={"dependabot_security_updates": "enabled"},
        ),
        FakeRepo("old-monolith", 2006, archived=True, vulnerability_alerts=False),
    ]
    return FakeOrg(members=members, repos=repos, outside=["auditor-y", "contractor-x"])


def expected_failures(org: str = DEMO_ORG) -> dict[str, set[str]]:
    """check id -> the resource ids the demo organisation must fail."""
    o = org.lower()

    def repo(*names: str) -> set[str]:
        return {f"github:{o}/{n}" for n in names}

    return {
        "github.organization.two_factor_required": {f"github:{o}"},
        "github.member.two_factor_enabled": {f"github:{o}:member:carol", f"github:{o}:member:dave"},
        "github.repository.default_branch_reviews_required": repo("legacy-tool", "docs-site"),
        "github.repository.default_branch_history_protected": repo("legacy-tool", "docs-site", "infra"),
        "github.repository.default_branch_status_checks": repo("legacy-tool", "docs-site", "infra"),
        "github.repository.no_outside_admins": repo("payments-api"),
        "github.repository.dependabot_alerts_enabled": repo("legacy-tool"),
        "github.repository.dependabot_security_updates_enabled": repo("legacy-tool", "docs-site"),
        "github.repository.secret_scanning_enabled": repo("legacy-tool"),
        "github.repository.secret_scanning_push_protection": repo("legacy-tool", "docs-site"),
    }

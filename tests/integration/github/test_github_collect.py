"""The GitHub collector against a fake GitHub on the wire: real httpx, real paging, real rate-limit headers."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from posture_demo.fake_github import FakeGitHub
from posture_demo.github_data import DEMO_ORG, DEMO_ORG_ID, FakeRepo, demo_org, protection

from agent.models import Status
from collectors import CollectContext
from collectors.github.config import GitHubSource
from collectors.github.http import AuthError, GitHubHttp, ReadOnlyViolation, allowed
from collectors.github.permissions import app_permissions
from tests.integration.github.github_wire import Calls, by_status, findings, run

ORG = DEMO_ORG.lower()
MEMBER_2FA = "github.member.two_factor_enabled"
ORG_2FA = "github.organization.two_factor_required"
REVIEWS = "github.repository.default_branch_reviews_required"
SECONDARY = "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."


def repo_id(name: str) -> str:
    return f"github:{ORG}/{name}"


def test_the_organisation_is_collected_whole_with_the_api_headers(fake: FakeGitHub) -> None:
    calls = Calls()
    snap = run(fake.source_config(), calls)
    assert snap.complete and snap.provider == "github" and snap.account == DEMO_ORG
    types = [r.type for r in snap.resources]
    assert types.count("github.member") == 6 and types.count("github.organization") == 1
    assert {r.name for r in snap.of_type("github.repository")} == {
        f"{DEMO_ORG}/{n}" for n in ("payments-api", "web-app", "legacy-tool", "docs-site", "infra")
    }  # old-monolith is archived
    org = snap.of_type("github.organization")[0]
    assert org.attributes["ArchivedRepositories"] == ["old-monolith"]
    assert org.attributes["OutsideCollaborators"] == ["auditor-y", "contractor-x"]
    dave = snap.get(f"github:{ORG}:member:dave")
    assert dave is not None and dave.attributes["identity"] == {
        "email": None,
        "login": "dave",
        "active": True,
        "human": True,
        "admin": True,
        "mfa": False,
    }
    assert all(code is None for _, _, code in calls.seen)
    assert {m for m, _, _, _ in fake.requests} == {"GET"}


def test_every_listing_follows_the_link_header_past_the_first_page(fake: FakeGitHub) -> None:
    fake.page_size = 1
    snap = run(fake.source_config())
    assert snap.complete and len(snap.of_type("github.member")) == 6 and len(snap.of_type("github.repository")) == 5
    # the next pages are the id-based URLs GitHub's Link headers give
    assert len(fake.calls(rf"^/organizations/{DEMO_ORG_ID}/members$")) >= 5
    assert len(fake.calls(rf"^/organizations/{DEMO_ORG_ID}/repos$")) == 5
    assert fake.calls(r"^/repositories/2002/rules/branches/main$")  # web-app's 4 rules, one a page
    web = snap.get(repo_id("web-app"))
    assert web is not None and len(web.attributes["BranchRules"]) == 4
    assert all("per_page=100" in q for _, p, q, _ in fake.calls(rf"^/orgs/{DEMO_ORG}/members$"))


def test_a_spent_rate_limit_is_waited_out_until_its_reset(fake: FakeGitHub) -> None:
    fake.spend_budget(remaining=0, reset_in=0.5)
    snap = run(fake.source_config())
    assert snap.complete
    limited = [r for r in fake.requests if r[3] == 403]
    assert len(limited) == 1  # answered once with the limit, then the client waited for X-RateLimit-Reset


def test_the_budget_running_out_mid_way_is_waited_for_before_the_next_request(fake: FakeGitHub) -> None:
    fake.spend_budget(remaining=3, reset_in=0.5)
    snap = run(fake.source_config())
    assert snap.complete
    assert not [r for r in fake.requests if r[3] == 403]  # it never asked while the budget was spent


def test_a_reset_further_than_max_rate_wait_is_an_error_not_a_long_wait(fake: FakeGitHub) -> None:
    fake.spend_budget(remaining=0, reset_in=3600)
    snap = run(fake.source_config(max_rate_wait="1s"))
    assert not snap.complete
    err = next(e for e in snap.errors if e.operation == "GetOrganization")
    assert err.code == "RateLimited" and "API rate limit exceeded" in err.message
    assert len(fake.requests) < 20  # one try per listing, not a retry storm
    found = findings(snap)
    assert Status.PASS not in {f.status for f in found if f.check_id == ORG_2FA}


def test_a_secondary_rate_limit_is_waited_out_with_retry_after(fake: FakeGitHub) -> None:
    fake.fail(rf"^/orgs/{DEMO_ORG}/members$", 403, retry_after="1", message=SECONDARY, times=1)
    snap = run(fake.source_config())
    assert snap.complete and len(snap.of_type("github.member")) == 6
    assert [r[3] for r in fake.calls(rf"^/orgs/{DEMO_ORG}/members$")][:2] == [403, 200]


def test_a_secondary_rate_limit_that_persists_is_a_collection_error(fake: FakeGitHub) -> None:
    fake.fail(rf"^/orgs/{DEMO_ORG}/members$", 403, retry_after="0", message=SECONDARY, times=-1)
    snap = run(fake.source_config(max_retries=2))
    err = next(e for e in snap.errors if e.operation == "ListMembers")
    assert err.code == "RateLimited" and "secondary rate limit" in err.message and err.resource_type == "github.member"
    found = findings(snap)
    assert {f.status for f in found if f.check_id == MEMBER_2FA} == {Status.ERROR}


def test_a_transient_5xx_is_retried(fake: FakeGitHub) -> None:
    fake.fail(r"/payments-api/branches/main/protection$", 503, times=1)
    snap = run(fake.source_config())
    assert snap.complete
    payments = snap.get(repo_id("payments-api"))
    assert payments is not None and payments.attributes["BranchProtection"] is not None


def test_a_5xx_that_persists_is_a_collection_error_and_the_checks_error(fake: FakeGitHub) -> None:
    fake.fail(r"/payments-api/branches/main/protection$", 502, times=-1)
    snap = run(fake.source_config(max_retries=1))
    payments = snap.get(repo_id("payments-api"))
    assert payments is not None and "HTTP502" in payments.errors["BranchProtection"]
    err = next(e for e in snap.errors if e.operation == "GetBranchProtection")
    assert err.code == "HTTP502" and "payments-api" in err.message and "Server Error" in err.message
    found = findings(snap)
    for cid in (REVIEWS, "github.repository.default_branch_history_protected"):
        assert repo_id("payments-api") in by_status(found, cid, "error")
    # the other repositories are assessed as usual
    assert repo_id("legacy-tool") in by_status(found, REVIEWS, "fail")


def test_bad_credentials_stop_the_run_with_one_clear_line(fake: FakeGitHub, tmp_path: Path) -> None:
    wrong = tmp_path / "token"
    wrong.write_text("github_pat_not-the-right-one")
    with pytest.raises(AuthError) as info:
        run(fake.source_config(token=f"file:{wrong}"))
    message = str(info.value)
    assert "HTTP 401: Bad credentials" in message and DEMO_ORG in message
    assert "not-the-right-one" not in message and "\n" not in message


@pytest.mark.parametrize("how", ["owner-only-filter-422", "forbidden-403"])
def test_the_2fa_filter_refused_makes_the_member_2fa_check_error_never_pass(fake: FakeGitHub, how: str) -> None:
    if how == "forbidden-403":
        fake.fail(rf"^/orgs/{DEMO_ORG}/members$", 403, query="filter=2fa_disabled", message="Must be an owner.")
    else:
        fake.owner = False  # GitHub: 422 Only owners can use this filter.; the 2FA requirement hidden too
    snap = run(fake.source_config())
    err = next(e for e in snap.errors if e.operation == "ListMembersWithout2FA")
    assert err.resource_type == "github.member" and err.code in ("HTTP403", "HTTP422")
    members = snap.of_type("github.member")
    assert len(members) == 6 and all(m.attributes["identity"]["mfa"] is None for m in members)
    assert all("TwoFactor" in m.errors for m in members)
    found = [f for f in findings(snap) if f.check_id == MEMBER_2FA]
    assert found and {f.status for f in found} == {Status.ERROR}
    if how != "forbidden-403":
        assert {f.status for f in findings(snap) if f.check_id == ORG_2FA} == {Status.ERROR}


def test_the_github_app_trades_a_signed_jwt_for_a_read_only_installation_token(fake: FakeGitHub) -> None:
    snap = run(fake.app_source_config())
    assert snap.complete and len(snap.of_type("github.repository")) == 5
    posts = fake.calls(r"^/app/", method="POST")
    assert [p[1] for p in posts] == [f"/app/installations/{fake.installation_id}/access_tokens"]
    [granted] = fake.installation_tokens.values()
    assert granted == app_permissions() and "contents" not in granted  # the App holds contents: write
    assert set(granted.values()) == {"read"}


def test_a_github_app_installed_elsewhere_or_with_a_wrong_key_is_refused(fake: FakeGitHub, tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    other = tmp_path / "other.pem"
    other.write_bytes(
        rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    with pytest.raises(AuthError, match="HTTP 401: A JSON web token could not be decoded"):
        run(fake.app_source_config(private_key=f"file:{other}"))
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("-----BEGIN RSA PRIVATE KEY-----\nnot a key\n-----END RSA PRIVATE KEY-----\n")
    with pytest.raises(AuthError, match="not an unencrypted PEM private key") as info:
        run(fake.app_source_config(private_key=f"file:{garbage}"))
    assert "not a key" not in str(info.value)
    fake.org.login = "someone-else"
    with pytest.raises(AuthError, match="belongs to 'someone-else'"):
        run(fake.app_source_config(organization=DEMO_ORG))
    assert not fake.calls(r"access_tokens$")


def test_a_github_enterprise_server_prefix_and_a_branch_name_with_a_slash() -> None:
    org = demo_org()
    org.repos = [FakeRepo("svc", 3001, default_branch="release/2.x", protection=protection(approvals=1))]
    with FakeGitHub(org, prefix="/api/v3") as fake:
        snap = run(fake.source_config())
    assert snap.complete
    [svc] = snap.of_type("github.repository")
    assert svc.attributes["BranchProtection"]["required_pull_request_reviews"]["required_approving_review_count"] == 1
    assert any(p.endswith("/branches/release%2F2.x/protection") or "release" in p for _, p, _, _ in fake.requests)


def test_the_guard_refuses_writes_and_other_hosts_before_anything_is_sent(fake: FakeGitHub) -> None:
    source = GitHubSource.model_validate(fake.source_config())
    with GitHubHttp(source, CollectContext()) as http:
        http.authorization = lambda fresh: "Bearer x"
        for method, path in [
            ("DELETE", f"/repos/{DEMO_ORG}/web-app"),
            ("PUT", f"/repos/{DEMO_ORG}/web-app/vulnerability-alerts"),
            ("POST", f"/orgs/{DEMO_ORG}/members"),
            ("GET", "/user"),
            ("GET", f"/repos/{DEMO_ORG}/web-app/contents/README.md"),
        ]:
            with pytest.raises(ReadOnlyViolation):
                http.exchange(method, http.url(path), operation="Forbidden")
        with pytest.raises(ReadOnlyViolation, match="not the configured GitHub API"):
            http.exchange("GET", httpx.URL(f"https://example.invalid/orgs/{DEMO_ORG}"), operation="Elsewhere")
        with pytest.raises(ReadOnlyViolation):  # the event hook itself, for a request built by hand
            http.client.send(http.client.build_request("PATCH", http.url(f"/orgs/{DEMO_ORG}")))
    assert not fake.requests
    assert allowed("POST", "/app/installations/5/access_tokens") and not allowed("POST", "/app/installations/5")


def test_a_next_link_to_another_host_is_not_followed(fake: FakeGitHub) -> None:
    fake.serve(
        rf"^/orgs/{DEMO_ORG}/outside_collaborators$",
        b"[]",
        headers={"Link": '<https://attacker.invalid/orgs/x/outside_collaborators?page=2>; rel="next"'},
    )
    snap = run(fake.source_config())
    err = next(e for e in snap.errors if e.operation == "ListOutsideCollaborators")
    assert err.code == "InvalidResponse" and "allowlist" in err.message
    org = snap.of_type("github.organization")[0]
    assert "OutsideCollaborators" in org.errors
    # each repository then reads its own outside collaborators
    payments = snap.get(repo_id("payments-api"))
    assert payments is not None and payments.attributes["OutsideCollaborators"][0]["login"] == "contractor-x"


def test_configured_repositories_only_and_a_missing_one_is_named(fake: FakeGitHub) -> None:
    snap = run(fake.source_config(repositories=["web-app", "no-such-repo"]))
    assert [r.name for r in snap.of_type("github.repository")] == [f"{DEMO_ORG}/web-app"]
    err = next(e for e in snap.errors if e.code == "NotFound")
    assert "no-such-repo" in err.message and err.resource_type == "github.repository"

"""The Google Workspace collector against the fake on the wire: real TLS, real httpx, a real signed JWT
grant checked by the token endpoint, nextPageToken paging, retries and Google's error bodies."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from gw_helpers import ACCOUNT, CHECKS, findings, rid, run
from posture_demo.fake_googleworkspace import FakeWorkspace

from agent.models import Snapshot, Status
from collectors import CollectContext
from collectors.googleworkspace.auth import read_key
from collectors.googleworkspace.directory import CUSTOMER_TYPE, USER_TYPE
from collectors.googleworkspace.http import ReadOnlyViolation, WorkspaceHttp
from collectors.googleworkspace.permissions import ALLOWED, SCOPES, USER_READONLY


def everything(snap: Snapshot) -> str:
    return json.dumps([r.to_dict() for r in snap.resources] + [e.to_dict() for e in snap.errors])


def listing_calls(fake: FakeWorkspace) -> list[int]:
    return [status for method, api, _, status in fake.calls("directory") if method == "GET"]


def test_every_user_and_the_customer_are_collected_across_pages(fake: FakeWorkspace) -> None:
    fake.page_size = 2
    snap, calls = run(fake)
    assert snap.complete and snap.provider == "googleworkspace" and snap.account == ACCOUNT
    users = snap.of_type(USER_TYPE)
    assert len(users) == len(fake.domain.users) == 15
    assert listing_calls(fake) == [200] * 8  # 15 users in pages of 2
    assert fake.token_requests == 1  # one token for every page
    carol = snap.get(rid("carol"))
    assert carol is not None and carol.name == "carol@northwind.example"
    assert carol.attributes["identity"] == {
        "email": "carol@northwind.example",
        "login": "carol@northwind.example",
        "active": True,
        "human": True,
        "admin": True,
        "mfa": False,
    }
    assert carol.observations == ("lastLoginTime",)
    assert "lastLoginTime" not in carol.stored_dict()["attributes"]  # a sign-in is not drift
    grace = snap.get(rid("grace"))
    assert grace is not None and grace.attributes["identity"]["active"] is False
    [customer] = snap.of_type(CUSTOMER_TYPE)
    assert customer.attributes["customerIds"] == [fake.domain.customer_id]
    assert customer.attributes["Users"] == {"total": 15, "active": 12, "suspended": 2, "archived": 1, "stateUnknown": 0}
    assert len(customer.attributes["SuperAdmins"]["active"]) == 5
    assert ("directory", "ListUsers", None) in calls.seen and ("oauth2", "GetAccessToken", None) in calls.seen


def test_the_page_size_asked_for_is_honoured(fake: FakeWorkspace) -> None:
    fake.page_size = 500
    snap, _ = run(fake, page_size=6)
    assert len(snap.of_type(USER_TYPE)) == 15 and listing_calls(fake) == [200, 200, 200]


def test_the_token_asks_for_exactly_the_documented_scopes() -> None:
    assert SCOPES == (USER_READONLY,)
    assert {("POST", "token", ""), ("GET", "directory", "/admin/directory/v1/users")} == ALLOWED


@pytest.mark.parametrize(
    "status,reason",
    [(429, "rateLimitExceeded"), (403, "userRateLimitExceeded"), (403, "rateLimitExceeded"), (503, "backendError")],
)
def test_a_rate_limit_or_outage_is_retried_after_the_servers_wait(
    fake: FakeWorkspace, status: int, reason: str
) -> None:
    fake.fail(status, reason=reason, retry_after="1", times=2)
    snap, calls = run(fake)
    assert snap.complete and len(snap.of_type(USER_TYPE)) == 15
    assert listing_calls(fake)[:3] == [status, status, 200]
    assert ("directory", "ListUsers", reason) in calls.seen


def test_a_token_endpoint_outage_is_retried(fake: FakeWorkspace) -> None:
    fake.fail(503, api="token", retry_after="0")
    snap, _ = run(fake)
    assert snap.complete and fake.token_requests == 2


def test_a_persistent_5xx_is_a_collection_error_and_every_check_errors(fake: FakeWorkspace) -> None:
    fake.fail(503, times=-1, reason="backendError", message="Service unavailable. Please try again")
    snap, _ = run(fake, max_retries=2)
    assert listing_calls(fake) == [503, 503, 503]
    assert {(e.resource_type, e.code) for e in snap.errors} == {
        (USER_TYPE, "backendError"),
        (CUSTOMER_TYPE, "backendError"),
    }
    assert all("Service unavailable" in e.message for e in snap.errors)
    assert not snap.of_type(USER_TYPE)
    results = findings(snap)
    assert results and all(f.status == Status.ERROR for f in results)
    assert {f.check_id for f in results} == {c.id for c in CHECKS}


def test_a_failure_on_a_later_page_keeps_nothing_half_read(fake: FakeWorkspace) -> None:
    fake.answer_raw(json.dumps({"users": [fake.domain.users[5]], "nextPageToken": "b2Zmc2V0OjU"}).encode())  # erin
    fake.fail(400, reason="invalid", message="Invalid Input: pageToken")  # the second page
    snap, _ = run(fake)
    assert listing_calls(fake) == [200, 400]
    assert not snap.of_type(USER_TYPE) and {e.code for e in snap.errors} == {"invalid"}
    [customer] = snap.of_type(CUSTOMER_TYPE)
    assert set(customer.errors) == {"customerIds", "Users", "SuperAdmins", "TwoStepVerification"}


def test_an_expired_token_is_replaced_once(fake: FakeWorkspace) -> None:
    fake.fail(401, reason="authError", message="Request had invalid authentication credentials.")
    snap, _ = run(fake)
    assert snap.complete and fake.token_requests == 2


def test_a_page_token_served_twice_is_a_paging_loop_not_an_endless_run(fake: FakeWorkspace) -> None:
    body = json.dumps({"users": [], "nextPageToken": "same"}).encode()
    fake.answer_raw(body, times=2)
    snap, _ = run(fake)
    assert {e.code for e in snap.errors} == {"PagingLoop"}


# -- credentials ----------------------------------------------------------------------------------------


def _only_errors(fake: FakeWorkspace, **extra: object) -> str:
    snap, _ = run(fake, **extra)
    assert not snap.of_type(USER_TYPE) and snap.errors
    assert all(f.status == Status.ERROR for f in findings(snap))
    messages = {f"{e.code}: {e.message}" for e in snap.errors}
    assert len(messages) == 1
    return messages.pop()


def test_a_client_without_domain_wide_delegation_of_the_scope_is_a_clear_error(fake: FakeWorkspace) -> None:
    fake.domain.delegated_scopes = {"https://www.googleapis.com/auth/admin.directory.group.readonly"}
    why = _only_errors(fake)
    assert why.startswith("unauthorized_client: the token endpoint refused the grant: Client is unauthorized")
    assert "Domain-wide delegation" in why and fake.domain.client_id in why and USER_READONLY in why


def test_a_key_the_service_account_does_not_have_is_refused(fake: FakeWorkspace, tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    info = json.loads(fake.key_path.read_text())
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    info["private_key"] = other.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    forged = tmp_path / "other-key.json"
    forged.write_text(json.dumps(info))
    why = _only_errors(fake, credentials=f"file:{forged}")
    assert why.startswith("invalid_grant: the token endpoint refused the grant: Invalid JWT Signature.")


def test_an_admin_email_outside_the_domain_is_refused(fake: FakeWorkspace) -> None:
    why = _only_errors(fake, admin_email="nobody@northwind.example")
    assert "Invalid email or User ID" in why and "nobody@northwind.example is not a user of the domain" in why


def test_a_user_without_the_admin_privilege_is_told_which_one_is_needed(fake: FakeWorkspace) -> None:
    why = _only_errors(fake, admin_email="alice@northwind.example")
    assert why == (
        "forbidden: Not Authorized to access this resource/api "
        "(alice@northwind.example needs the Admin API privilege Users > Read)"
    )


@pytest.mark.parametrize(
    "content,expected",
    [
        ("not json", "is not a service-account key: not JSON"),
        ('{"type": "authorized_user", "client_id": "x"}', "its type is not service_account"),
        ('{"type": "service_account", "client_email": "a@b"}', "it has no private_key"),
        (
            '{"type": "service_account", "client_email": "a@b", "private_key": "-----BEGIN PRIVATE KEY-----\\nAAAA"}',
            "private_key is not an unencrypted PEM private key",
        ),
    ],
)
def test_a_key_file_that_is_no_service_account_key_is_named_not_shown(
    fake: FakeWorkspace, tmp_path: Path, content: str, expected: str
) -> None:
    bad = tmp_path / "key.json"
    bad.write_text(content)
    why = _only_errors(fake, credentials=f"file:{bad}")
    assert why.startswith(f"InvalidCredentials: file:{bad}") and expected in why
    assert "AAAA" not in why and fake.token_requests == 0


def test_a_missing_key_file_is_a_clear_error(fake: FakeWorkspace, tmp_path: Path) -> None:
    why = _only_errors(fake, credentials=f"file:{tmp_path / 'gone.json'}")
    assert "cannot read file" in why and fake.token_requests == 0


def test_the_private_key_never_reaches_errors_or_resources(fake: FakeWorkspace) -> None:
    key = json.loads(fake.key_path.read_text())["private_key"]
    body = key.split("\n")[1]  # a line of the key's base64
    fake.domain.delegated_scopes = set()
    snap, _ = run(fake)
    assert body not in everything(snap)
    fake.domain.delegated_scopes = {USER_READONLY}
    snap, _ = run(fake)
    assert body not in everything(snap) and snap.complete
    assert "private_key" not in repr(read_key(fake.source().credentials))


# -- read-only ----------------------------------------------------------------------------------------------


def test_anything_but_the_declared_requests_is_refused_before_it_leaves(fake: FakeWorkspace) -> None:
    source = fake.source()
    with WorkspaceHttp(source, read_key(source.credentials), CollectContext()) as http:
        users = f"{fake.base}/admin/directory/v1/users"
        for method, url in (
            ("DELETE", users + "/123"),
            ("PUT", users + "/123"),
            ("POST", users),
            ("GET", f"{fake.base}/admin/directory/v1/groups"),
            ("GET", "https://example.com/admin/directory/v1/users"),
            ("GET", fake.token_url),
        ):
            with pytest.raises(ReadOnlyViolation):
                http.client.request(method, url)
        assert fake.calls() == []  # nothing was sent
        with pytest.raises(ReadOnlyViolation):  # another Admin SDK API than the one declared
            http.check("GET", httpx.URL(f"{fake.base}/admin/reports/v1/activity/users/all/applications/login"))
        assert fake.calls() == []  # nothing was sent
        assert http.get("/admin/directory/v1/users", {"customer": "my_customer", "maxResults": "1"}, operation="t")

"""The Okta collector against the fake org over the wire (TLS, SSWS or OAuth, Link paging, rate-limit
headers, Okta error bodies), then the real checks: the seeded org's exact failing set for every check,
and every failure of the API recorded as data that makes the checks say error, never pass."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from posture_demo.fake_okta import FakeOkta
from posture_demo.okta_data import EXPECTED_FAILURES

from agent.evaluate import evaluate
from agent.models import Finding, Snapshot, Status
from agent.registry import checks_in
from agent.stages.collect import collect as run_collector
from collectors import CollectContext
from collectors.okta import collect
from collectors.okta.http import AuthError, OktaHttp, ReadOnlyViolation
from collectors.okta.permissions import SCOPES
from tests.integration.okta.conftest import okta_source, short, snapshot_of

CHECKS = checks_in("checks.okta")
PASS, FAIL, ERROR, NA = Status.PASS, Status.FAIL, Status.ERROR, Status.NOT_APPLICABLE
USERS = {
    "00u1alice",
    "00u2bob",
    "00u3carol",
    "00u4dave",
    "00u5erin",
    "00u6frank",
    "00u7gina",
    "00u8hank",
    "00u9ivan",
    "00u10judy",
}


def findings(snap: Snapshot) -> list[Finding]:
    return evaluate(snap, CHECKS)


def by_status(snap: Snapshot, status: Status) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {c.id: set() for c in CHECKS}
    for f in findings(snap):
        if f.status == status:
            out[f.check_id].add(short(f.resource_id))
    return out


def test_the_seeded_org_fails_exactly_the_expected_resources(fake: FakeOkta) -> None:
    snap = snapshot_of(fake)
    assert snap.complete, snap.errors
    assert {c.id for c in CHECKS} == set(EXPECTED_FAILURES)
    assert by_status(snap, FAIL) == {k: set(v) for k, v in EXPECTED_FAILURES.items()}
    assert not any(by_status(snap, ERROR).values()), [f.message for f in findings(snap) if f.status == ERROR]
    messages = {(f.check_id, short(f.resource_id)): f.message for f in findings(snap)}
    assert "'Office network skips MFA'" in messages[("okta.org.sign_on_mfa_required", "org")]
    assert "'Password is enough' of policy 'Legacy intranet'" in messages[("okta.org.sign_on_mfa_required", "org")]
    assert "'Default Policy': minimum length 8" in messages[("okta.org.password_policy_strong", "org")]
    assert "Active Directory" not in messages[("okta.org.password_policy_strong", "org")]  # the directory's business
    assert "push (OKTA), token:software:totp (OKTA)" in messages[("okta.user.admin_phishing_resistant_mfa", "00u2bob")]
    assert messages[("okta.user.admin_phishing_resistant_mfa", "00u7gina")].startswith("administrator gina")  # FastPass
    assert "LOCKED_OUT" in messages[("okta.user.inactive", "00u10judy")]
    assert "never signed in" in messages[("okta.user.inactive", "00u9ivan")]


def test_every_user_is_collected_through_link_paging(fake: FakeOkta) -> None:
    snap = snapshot_of(fake)
    users = {short(r.id) for r in snap.of_type("okta.user")}
    assert users == USERS
    pages = fake.calls(r"^/api/v1/users$")
    assert len(pages) == 5  # ten users, two a page
    assert sum("after=" in p.query for p in pages) == 4
    assert len(fake.calls(r"^/api/v1/policies$")) >= 4  # three password policies, two a page; and the other types
    [org] = snap.of_type("okta.org")
    assert [p["name"] for p in org.attributes["PasswordPolicies"]] == [
        "Administrators",
        "Active Directory users",
        "Default Policy",
    ]
    assert all("rules" in p for p in org.attributes["SignOnPolicies"] + org.attributes["AccessPolicies"])


def test_the_identity_record_and_what_is_kept(fake: FakeOkta) -> None:
    snap = snapshot_of(fake)
    users = {short(r.id): r for r in snap.of_type("okta.user")}
    assert users["00u2bob"].attributes["identity"] == {
        "email": "bob@acme.example",  # lower-cased: Okta keeps "Bob@ACME.EXAMPLE"
        "login": "bob@acme.example",
        "active": True,
        "human": True,
        "admin": True,
        "mfa": True,
    }
    assert users["00u5erin"].attributes["identity"]["mfa"] is False  # a question and a pending key
    assert users["00u10judy"].attributes["identity"]["active"] is True  # locked out is not gone
    assert users["00u6frank"].attributes["identity"]["active"] is False
    assert users["00u3carol"].attributes["identity"]["mfa"] is True  # SMS is MFA, if weak
    body = str(users["00u3carol"].stored_dict())
    assert "555" not in body and "mobilePhone" not in body  # phone numbers are never kept
    assert "lastLogin" not in str(users["00u1alice"].stored_dict()["attributes"])  # an observation
    assert users["00u1alice"].attributes["lastLogin"]


def test_a_429_is_retried_after_the_reset_it_names(fake: FakeOkta) -> None:
    fake.fail(r"^/api/v1/users$", 429, times=1, reset_in=1)
    snap = snapshot_of(fake)
    assert snap.complete, snap.errors
    first, retry = fake.calls(r"^/api/v1/users$")[:2]
    assert first.status == 429 and first.reset is not None
    assert retry.status == 200 and retry.at >= first.reset  # not before the window reset
    assert len(snap.of_type("okta.user")) == len(USERS)


def test_a_window_used_up_longer_than_the_source_waits_is_an_error(fake: FakeOkta) -> None:
    fake.rate_limit = 3  # per endpoint and minute: the users listing runs out after three pages
    snap = snapshot_of(fake, rate_limit_wait="1s", max_retries=2)
    [err] = [e for e in snap.errors if e.operation == "ListUsers"]
    assert err.code == "E0000047" and "HTTP 429" in err.message and "longer than rate_limit_wait" in err.message
    assert not snap.of_type("okta.user")
    [scope] = [f for f in findings(snap) if f.check_id == "okta.user.strong_factor_enrolled"]
    assert scope.status == ERROR and scope.resource_id.startswith("scope:okta/")  # the listing's scope


def test_5xx_on_factors_is_recorded_and_the_checks_say_error(fake: FakeOkta) -> None:
    fake.fail(r"/factors$", 500, times=-1)
    snap = snapshot_of(fake, max_retries=0)
    [err] = [e for e in snap.errors if e.operation == "ListFactors"]
    assert err.code == "E0000009" and "HTTP 500" in err.message and "Internal Server Error" in err.message
    users = {short(r.id): r for r in snap.of_type("okta.user")}
    assert "HTTP 500 E0000009" in users["00u1alice"].errors["Factors"]
    assert users["00u1alice"].attributes["identity"]["mfa"] is None
    errors = by_status(snap, ERROR)
    can_sign_in = USERS - {"00u6frank", "00u8hank"}
    assert errors["okta.user.strong_factor_enrolled"] == can_sign_in
    assert errors["okta.user.admin_phishing_resistant_mfa"] == {"00u1alice", "00u2bob", "00u7gina"}
    assert not any(by_status(snap, PASS)[c] for c in ("okta.user.strong_factor_enrolled",))


def test_a_transient_5xx_is_retried(fake: FakeOkta) -> None:
    fake.fail(r"^/api/v1/policies$", 503, times=1)
    snap = snapshot_of(fake)
    assert snap.complete, snap.errors


def test_5xx_on_policies_makes_the_org_checks_error(fake: FakeOkta) -> None:
    fake.fail(r"^/api/v1/policies/.*/rules$", 502, times=-1, code="E0000009", summary="Bad gateway")
    snap = snapshot_of(fake, max_retries=0)
    [org] = snap.of_type("okta.org")
    assert "HTTP 502 E0000009: Bad gateway" in org.errors["SignOnPolicies"]
    assert "PasswordPolicies" not in org.errors  # its policies have no rules to read
    found = {f.check_id: f for f in findings(snap) if short(f.resource_id) == "org"}
    assert found["okta.org.sign_on_mfa_required"].status == ERROR
    assert found["okta.org.password_policy_strong"].status == FAIL  # read, and still weak
    assert any(e.operation == "ListPolicies" and e.code == "E0000009" for e in snap.errors)


def test_a_403_on_roles_stops_asking_and_every_user_says_why(fake: FakeOkta) -> None:
    fake.fail(r"/roles$", 403, times=-1)
    snap = snapshot_of(fake, max_workers=2)
    assert len(fake.calls(r"/roles$")) <= 2  # one denial per worker at most, not one per user
    users = {short(r.id): r for r in snap.of_type("okta.user")}
    assert all("E0000006" in users[u].errors["Roles"] for u in USERS - {"00u6frank"} if "Roles" in users[u].errors)
    assert users["00u2bob"].attributes["identity"]["admin"] is None
    assert by_status(snap, ERROR)["okta.user.admin_phishing_resistant_mfa"] == USERS
    assert any(e.operation == "ListAssignedRolesForUser" and e.code == "E0000006" for e in snap.errors)


def test_a_refused_token_stops_the_run_with_one_clear_line(fake: FakeOkta) -> None:
    wrong = fake.write_secret("wrong-token", "00notTheToken")
    with pytest.raises(AuthError) as caught:
        snapshot_of(fake, token=wrong)
    text = str(caught.value)
    assert "HTTP 401 E0000011: Invalid token provided" in text and wrong in text
    assert "00notTheToken" not in text and fake.api_token not in text
    collected = run_collector(okta_source(fake, token=wrong), collect, CollectContext())
    assert collected.status == "failed" and "E0000011" in collected.error and "Traceback" not in collected.error


def test_the_api_token_is_sent_as_ssws_and_nothing_but_gets(fake: FakeOkta) -> None:
    snapshot_of(fake)
    assert fake.requests and all(r.method == "GET" and r.status == 200 for r in fake.requests)


def test_the_guard_refuses_before_anything_is_sent(fake: FakeOkta) -> None:
    with OktaHttp(okta_source(fake), CollectContext()) as http:
        with pytest.raises(ReadOnlyViolation):
            http.client.post(fake.base + "/api/v1/users", json={})
        with pytest.raises(ReadOnlyViolation):
            http.client.get(fake.base + "/api/v1/users/00u1alice/lifecycle/suspend")
        with pytest.raises(ReadOnlyViolation):
            http.client.get("https://127.0.0.2:1/api/v1/users")
    assert fake.requests == []


def test_a_next_link_to_another_host_is_refused(fake: FakeOkta) -> None:
    first_page = [u for u in fake.data["users"][:2]]
    fake.fail(
        r"^/api/v1/users$",
        200,
        body=first_page,
        headers={"Link": '<https://evil.example/api/v1/users?after=x>; rel="next"'},
    )
    snap = snapshot_of(fake)
    [err] = [e for e in snap.errors if e.operation == "ListUsers"]
    assert err.code == "InvalidNextLink" and "evil.example" in err.message
    assert all(r.path.startswith("/api/") for r in fake.requests)


# -- OAuth service app --------------------------------------------------------------------------------


def _pem(key: Any) -> tuple[bytes, bytes]:
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return private, public


@pytest.mark.parametrize("key", ["rsa", "ec"])
def test_oauth_service_app_with_a_signed_assertion(fake: FakeOkta, key: str) -> None:
    made = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        if key == "rsa"
        else ec.generate_private_key(ec.SECP256R1())
    )
    private, public = _pem(made)
    client_id = fake.oauth_app(public)
    ref = fake.write_secret("agent.pem", private.decode())
    snap = snapshot_of(fake, token=None, auth="oauth", client_id=client_id, private_key=ref)
    assert snap.complete, snap.errors
    assert by_status(snap, FAIL) == {k: set(v) for k, v in EXPECTED_FAILURES.items()}
    assert len(fake.calls(r"^/oauth2/v1/token$", method="POST")) == 1  # one token for the whole collection
    [app] = fake.apps.values()
    assert set(next(iter(app.tokens.values()))) == set(SCOPES)  # exactly the declared read-only scopes


def test_oauth_refusals_are_one_clear_line(fake: FakeOkta) -> None:
    private, public = _pem(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    other_private, _ = _pem(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    fake.oauth_app(public, client_id="0oaDpopRequired", require_dpop=True)
    fake.oauth_app(public, client_id="0oaFewScopes", scopes=frozenset({"okta.users.read"}))
    fake.oauth_app(public, client_id="0oaWrongKey")
    good, wrong = (
        fake.write_secret("good.pem", private.decode()),
        fake.write_secret("other.pem", other_private.decode()),
    )
    junk = fake.write_secret("junk.pem", "-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n")
    cases = [
        ("0oaDpopRequired", good, "Demonstrating Proof of Possession"),
        ("0oaFewScopes", good, "invalid_scope"),
        ("0oaWrongKey", wrong, "invalid_client"),
        ("0oaWrongKey", junk, "not an unencrypted PEM private key"),
    ]
    for client_id, key, words in cases:
        with pytest.raises(AuthError) as caught:
            snapshot_of(fake, token=None, auth="oauth", client_id=client_id, private_key=key)
        assert words in str(caught.value), str(caught.value)
        assert "BEGIN" not in str(caught.value)
    assert not fake.calls(r"^/api/")  # no API request without a token

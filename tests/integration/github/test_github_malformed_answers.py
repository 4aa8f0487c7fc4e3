"""Whatever GitHub answers (bodies of the wrong shape, not JSON, odd statuses and Link headers), the
collector records errors and the checks give verdicts: no exception escapes, no check crashes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from posture_demo.fake_github import FakeGitHub
from posture_demo.github_data import DEMO_ORG, demo_org

from collectors.github.http import AuthError
from tests.integration.github.github_wire import findings, run

# every path the collector reads, as the fake's patterns
ENDPOINTS = [
    rf"^/orgs/{DEMO_ORG}$",
    rf"^/orgs/{DEMO_ORG}/members$",
    rf"^/orgs/{DEMO_ORG}/outside_collaborators$",
    rf"^/orgs/{DEMO_ORG}/repos$",
    r"^/repos/[^/]+/payments-api/collaborators$",
    r"^/repos/[^/]+/web-app/vulnerability-alerts$",
    r"^/repos/[^/]+/docs-site/branches/[^/]+/protection$",
    r"^/repos/[^/]+/web-app/rules/branches/[^/]+$",
]
REPOS = ["payments-api", "web-app", "docs-site"]  # the ones ENDPOINTS name: fewer requests an example
APP_ENDPOINTS = [r"^/app/installations/\d+$", r"^/app/installations/\d+/access_tokens$"]
# keys the collector and the checks look for, so the generated shapes come close to the real ones
KEYS = st.sampled_from(
    [
        "login",
        "name",
        "type",
        "id",
        "default_branch",
        "archived",
        "visibility",
        "private",
        "security_and_analysis",
        "secret_scanning",
        "status",
        "permissions",
        "admin",
        "required_pull_request_reviews",
        "required_approving_review_count",
        "required_status_checks",
        "contexts",
        "checks",
        "allow_force_pushes",
        "enabled",
        "parameters",
        "two_factor_requirement_enabled",
        "message",
        "token",
        "expires_at",
        "account",
    ]
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**40), 2**40),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.one_of(KEYS, st.text(max_size=6)), inner, max_size=5)
    ),
    max_leaves=20,
)
BODIES = st.one_of(
    JSON.map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=40),
    st.sampled_from([b"", b"{", b"[]", b"null", b'{"message": 5}', b"\xff\xfe"]),
)
STATUS = st.sampled_from([200, 201, 204, 400, 403, 404, 409, 422, 500])
_HEADER_TEXT = st.one_of(
    st.text(max_size=30).map(lambda s: s.encode("ascii", "ignore").decode().replace("\r", "").replace("\n", "")),
    st.sampled_from(["0", "1", "-1", "99999999999999999999", "1.5", "Wed, 21 Oct 2015 07:28:00 GMT", ""]),
)
LINKS = st.one_of(
    st.just({}),
    _HEADER_TEXT.map(lambda s: {"Link": s}),
    st.just({"Link": '<http://127.0.0.1:1/orgs/x/repos?page=2>; rel="next"'}),
    # rate-limit headers of any spelling: every wait stays within max_rate_wait (0s here)
    st.fixed_dictionaries(
        {},
        optional={
            "X-RateLimit-Remaining": _HEADER_TEXT,
            "X-RateLimit-Reset": _HEADER_TEXT,
            "Retry-After": _HEADER_TEXT,
        },
    ),
)


@pytest.fixture(scope="module")
def server() -> Iterator[FakeGitHub]:
    fake = FakeGitHub(demo_org(), page_size=100).start()
    try:
        yield fake
    finally:
        fake.stop()


def _serve(fake: FakeGitHub, path: str, status: int, body: bytes, headers: dict[str, Any]) -> None:
    fake.reset_faults()
    fake.serve(path, body, status=status, headers=headers)


def _assert_no_check_crashed(snap: Any) -> None:
    for f in findings(snap):
        assert not f.message.startswith(("check failed to evaluate", "check returned")), (f.check_id, f.message)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=st.sampled_from(ENDPOINTS), status=STATUS, body=BODIES, headers=LINKS)
def test_a_malformed_api_answer_is_recorded_never_raised(
    server: FakeGitHub, path: str, status: int, body: bytes, headers: dict[str, Any]
) -> None:
    _serve(server, path, status, body, headers)
    snap = run(server.source_config(max_retries=0, max_rate_wait="0s", repositories=REPOS))
    _assert_no_check_crashed(snap)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=st.sampled_from(APP_ENDPOINTS), status=STATUS, body=BODIES)
def test_a_malformed_app_token_exchange_is_one_clear_auth_error(
    server: FakeGitHub, path: str, status: int, body: bytes
) -> None:
    _serve(server, path, status, body, {})
    try:
        snap = run(server.app_source_config(max_retries=0, max_rate_wait="0s", repositories=REPOS))
    except AuthError as exc:
        assert str(exc).startswith(f"github organization {DEMO_ORG}: GitHub App ") and "\n" not in str(exc)
    else:  # a body that happens to be well-formed enough
        _assert_no_check_crashed(snap)

"""Whatever the org answers, the collector records it as data and the checks evaluate: random and
malformed bodies, served by the fake on each endpoint with any status, never raise out of the
collector or crash a check, and an answer that is not the data asked for is a recorded error."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from posture_demo.fake_okta import FakeOkta

from agent.evaluate import evaluate
from agent.registry import checks_in
from collectors import CollectContext
from collectors.okta import collect
from tests.integration.okta.conftest import okta_source

CHECKS = checks_in("checks.okta")
ENDPOINTS = [r"^/api/v1/users$", r"/factors$", r"/roles$", r"^/api/v1/policies$", r"/rules$"]
KEYS = [
    "id", "status", "profile", "login", "email", "lastLogin", "created", "factorType", "provider", "type", "label",
    "name", "priority", "system", "conditions", "settings", "actions", "signon", "requireFactor", "access", "rules",
    "password", "complexity", "minLength", "lockout", "maxAttempts", "people", "network", "connection",
]  # fmt: skip
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**40), 2**40),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(
        ["ACTIVE", "SUSPENDED", "ALLOW", "DENY", "webauthn", "sms", "2FA", "OKTA", "ZONE", "1970-01-01T00:00:00.000Z"]
    ),
    st.text(max_size=20),
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(st.sampled_from(KEYS), st.text(max_size=8)), inner, max_size=5),
    ),
    max_leaves=25,
)
OBJECTS = st.lists(st.dictionaries(st.sampled_from(KEYS), JSON, max_size=6), max_size=4)
RAW = st.one_of(
    st.binary(max_size=64),
    st.sampled_from([b"", b"[", b"{}", b"null", b'[{"id": "00u1"}', b"<html>502 Bad Gateway</html>", b"\xff\xfe"]),
)


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeOkta]:
    server = FakeOkta(page_size=5).start()
    try:
        yield server
    finally:
        server.stop()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    where=st.sampled_from(ENDPOINTS),
    status=st.sampled_from([200, 200, 200, 400, 403, 404, 500, 503]),
    body=st.one_of(JSON, OBJECTS),
    raw=st.one_of(st.none(), RAW),
)
def test_malformed_answers_are_recorded_never_raised(
    fake: FakeOkta, where: str, status: int, body: Any, raw: bytes | None
) -> None:
    fake.clear_faults()
    fake.fail(where, status, times=-1, body=body, raw=raw)
    [snap] = collect(okta_source(fake, max_retries=0), CollectContext())
    for finding in evaluate(snap, CHECKS):
        assert not finding.message.startswith("check failed to evaluate"), finding.message
    well_formed = raw is None and status == 200 and isinstance(body, list) and all(isinstance(i, dict) for i in body)
    if where == r"^/api/v1/users$" and not well_formed:
        assert any(e.operation == "ListUsers" for e in snap.errors), snap.errors
    if not well_formed and where != r"^/api/v1/users$":
        # per-user or per-policy data: on the resources it concerns, and the run says partial
        assert snap.errors, "a bad answer left no trace"

"""Whatever the Directory API or the token endpoint answers (any status, any bytes, JSON of any shape),
the collector returns a snapshot: what it could not read is a CollectionError or a resource error,
no exception escapes, and nothing it could not read is passed by a check."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from gw_helpers import findings, run
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from posture_demo.fake_googleworkspace import FakeWorkspace, demo_domain

from agent.models import Snapshot, Status, utcnow
from collectors import CollectContext
from collectors.googleworkspace.auth import ServiceAccountKey, read_key
from collectors.googleworkspace.directory import CUSTOMER_TYPE, USER_TYPE, collect_directory
from collectors.googleworkspace.http import WorkspaceHttp

FIELDS = (
    "id",
    "primaryEmail",
    "isAdmin",
    "isDelegatedAdmin",
    "suspended",
    "archived",
    "isEnrolledIn2Sv",
    "isEnforcedIn2Sv",
    "lastLoginTime",
    "creationTime",
    "orgUnitPath",
    "customerId",
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=12),
    st.sampled_from(["1970-01-01T00:00:00.000Z", "2024-01-01T00:00:00.000Z", "x@northwind.example", "not a time"]),
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)
users = st.dictionaries(st.sampled_from(FIELDS), values, max_size=len(FIELDS))
listing = st.fixed_dictionaries(
    {},
    optional={
        "users": st.one_of(st.lists(st.one_of(users, values), max_size=4), values),
        "nextPageToken": st.one_of(st.none(), st.text(max_size=6), st.integers()),
        "error": values,
    },
)
bodies = st.one_of(
    st.binary(max_size=40),
    listing.map(lambda b: json.dumps(b).encode()),
    values.map(lambda v: json.dumps(v).encode()),
)
statuses = st.sampled_from([200, 200, 200, 400, 401, 403, 404, 429, 500, 503])


_KEYS: dict[FakeWorkspace, ServiceAccountKey] = {}


@pytest.fixture(scope="module")
def shared() -> Iterator[FakeWorkspace]:
    server = FakeWorkspace(demo_domain(), page_size=500).start()
    _KEYS[server] = read_key(server.source().credentials)
    try:
        yield server
    finally:
        server.stop()


def _collect(fake: FakeWorkspace, key: ServiceAccountKey) -> Snapshot:
    """collect() but with the key loaded once: loading checks the RSA key, which costs more than the rest."""
    source = fake.source(max_retries=0)
    with WorkspaceHttp(source, key, CollectContext()) as http:
        resources, errors = collect_directory(http, source)
    now = utcnow()
    return Snapshot(
        source=source.name,
        provider="googleworkspace",
        account=source.account,
        started_at=now,
        finished_at=now,
        resources=tuple(resources),
        errors=tuple(errors),
    )


def _check(fake: FakeWorkspace, api: str, body: bytes, status: int) -> None:
    fake.clear_faults()
    fake.answer_raw(body, status=status, api=api, times=2)
    snap = _collect(fake, _KEYS[fake])
    types = {r.type for r in snap.resources}
    assert types <= {USER_TYPE, CUSTOMER_TYPE}
    for r in snap.resources:
        assert isinstance(r.attributes.get("identity", {}), dict)
    results = findings(snap)
    if snap.errors:
        # a listing that failed or was incomplete: nothing about the whole customer passes
        assert not [f for f in results if f.resource_type == CUSTOMER_TYPE and f.status == Status.PASS]
    for f in results:
        if f.status == Status.PASS:
            resource = snap.get(f.resource_id)
            assert resource is not None, f
    fake.clear_faults()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=bodies, status=statuses)
def test_any_directory_answer_is_data_or_an_error_never_an_exception(
    shared: FakeWorkspace, body: bytes, status: int
) -> None:
    _check(shared, "directory", body, status)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=bodies, status=statuses)
def test_any_token_answer_is_an_error_or_a_token_never_an_exception(
    shared: FakeWorkspace, body: bytes, status: int
) -> None:
    _check(shared, "token", body, status)


@pytest.mark.parametrize(
    "body",
    [
        {"users": [{"id": "1"}]},  # no primaryEmail
        {"users": [{"primaryEmail": "a@northwind.example"}]},  # no id
        {"users": ["a string", 3]},
        {"users": [{"id": "1", "primaryEmail": "a@northwind.example"}, {"id": "1", "primaryEmail": "b@x.example"}]},
    ],
)
def test_users_that_cannot_be_identified_make_the_listing_incomplete(
    shared: FakeWorkspace, body: dict[str, Any]
) -> None:
    shared.clear_faults()
    shared.answer_raw(json.dumps(body).encode())
    snap, _ = run(shared)
    assert {(e.resource_type, e.code) for e in snap.errors} == {
        (USER_TYPE, "InvalidResponse"),
        (CUSTOMER_TYPE, "InvalidResponse"),
    }
    [customer] = snap.of_type(CUSTOMER_TYPE)
    assert "TwoStepVerification" in customer.errors
    assert not [f for f in findings(snap) if f.resource_type == CUSTOMER_TYPE and f.status == Status.PASS]


def test_fields_of_the_wrong_type_are_resource_errors(shared: FakeWorkspace) -> None:
    user = {
        "id": "42",
        "primaryEmail": "Odd@Northwind.example",
        "isAdmin": "yes",
        "isDelegatedAdmin": False,
        "suspended": False,
        "archived": False,
        "isEnrolledIn2Sv": 1,
        "isEnforcedIn2Sv": None,
        "lastLoginTime": 5,
        "creationTime": "2024-01-01T00:00:00.000Z",
    }
    shared.clear_faults()
    shared.answer_raw(json.dumps({"users": [user]}).encode())
    snap, _ = run(shared)
    [odd] = snap.of_type(USER_TYPE)
    assert set(odd.errors) == {"isAdmin", "isEnrolledIn2Sv", "isEnforcedIn2Sv", "lastLoginTime"}
    assert odd.attributes["identity"]["email"] == "odd@northwind.example"
    assert odd.attributes["identity"]["mfa"] is None
    statuses = {f.check_id: f.status for f in findings(snap) if f.resource_id == odd.id}
    assert statuses == {
        "googleworkspace.user.two_step_verification_enrolled": Status.ERROR,
        "googleworkspace.user.two_step_verification_enforced": Status.ERROR,
        "googleworkspace.user.admin_two_step_verification": Status.ERROR,
        "googleworkspace.user.inactive": Status.ERROR,
    }

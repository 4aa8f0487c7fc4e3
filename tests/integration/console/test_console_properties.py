"""Every input surface of the console, fuzzed over real HTTP: the query string of every page (as an
operator and as an auditor) and the sign-in form. Never a 500; a bad input is a 400 with a message;
a redirect after sign-in never leaves the console."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.integration.console.conftest import PASSWORDS, Served, client, csrf_of, login

PATHS = (
    "/console/",
    "/console/posture",
    "/console/findings",
    "/console/resource",
    "/console/drift",
    "/console/devices",
    "/console/evidence",
    "/console/coverage",
)
KEYS = (
    "status",
    "severity",
    "provider",
    "account",
    "check",
    "requirement",
    "page",
    "framework",
    "from",
    "to",
    "kind",
    "id",
)
VALUES = st.one_of(
    st.sampled_from(
        [
            "fail",
            "pass",
            "critical",
            "aws",
            "soc2",
            "iso27001",
            "hipaa",
            "SOC2:CC6.1",
            "1",
            "0",
            "-1",
            "99999999",
            "2026-01-01",
            "2019-12-31",
            "2026-02-30",
            "2101-01-01",
            "modified",
            "arn:aws:s3:::console-public",
            "",
        ]
    ),
    st.text(max_size=40),
    st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x10FFFF, exclude_categories=("Cs",)), max_size=20),
)
RAW = st.text(alphabet="abcdefgkimnoprstuy=&%+;?#/0123456789FfAa.-_:", max_size=80)
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _answer_is_sane(r: httpx.Response) -> None:
    assert r.status_code in (200, 303, 400, 403, 404), (r.request.url, r.status_code, r.text[:300])
    if r.status_code == 400:
        assert 'class="error"' in r.text and "internal error" not in r.text


@pytest.fixture(scope="module", params=["olivia", "audrey"])
def signed_in(request: pytest.FixtureRequest, console: Served) -> Iterator[httpx.Client]:
    with client(console) as c:
        assert login(c, request.param).status_code == 303
        yield c


@SETTINGS
@given(
    path=st.sampled_from(PATHS),
    pairs=st.lists(st.tuples(st.one_of(st.sampled_from(KEYS), st.text(max_size=12)), VALUES), max_size=6),
)
def test_query_strings_never_fail(signed_in: httpx.Client, path: str, pairs: list[tuple[str, str]]) -> None:
    r = signed_in.get(path, params=pairs)
    _answer_is_sane(r)


@SETTINGS
@given(path=st.sampled_from(PATHS), raw=RAW)
def test_raw_query_strings_never_fail(signed_in: httpx.Client, path: str, raw: str) -> None:
    r = signed_in.get(f"{path}?{raw}")
    _answer_is_sane(r)


FIELD = st.one_of(st.sampled_from(["username", "password", "csrf", "next"]), st.text(max_size=10))


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    fields=st.dictionaries(FIELD, VALUES, max_size=5),
    real_csrf=st.booleans(),
    real_user=st.sampled_from([None, "olivia", "audrey"]),
    nxt=st.one_of(
        st.sampled_from(
            ["//evil.example/", "https://evil.example/", "/console/drift", "/elsewhere", "/console/\\x", "/console//x"]
        ),
        st.text(max_size=30),
    ),
)
def test_sign_in_form_never_fails_nor_redirects_away(
    console: Served, fields: dict[str, str], real_csrf: bool, real_user: str | None, nxt: str
) -> None:
    with client(console) as c:
        form = c.get("/console/login?next=" + quote(nxt, safe=""))
        assert form.status_code == 200
        data = dict(fields)
        if real_csrf:
            data["csrf"] = csrf_of(form.text)
        if real_user is not None:
            data.update(username=real_user, password=PASSWORDS[real_user], next=nxt)
        r = c.post("/console/login", data=data)
        assert r.status_code in (303, 400, 401, 403), (data, r.status_code, r.text[:300])
        if r.status_code == 303:
            assert real_csrf and real_user is not None
            location = r.headers["location"]
            assert location.startswith("/console/") and not location.startswith("//") and "\\" not in location
        elif r.status_code == 400:
            assert 'class="error"' in r.text


@settings(max_examples=60, deadline=None)
@given(
    body=st.binary(max_size=600),
    kind=st.sampled_from(["application/x-www-form-urlencoded", "text/plain", "multipart/form-data", ""]),
)
def test_sign_in_body_of_any_bytes(console: Served, body: bytes, kind: str) -> None:
    with client(console) as c:
        c.get("/console/login")
        r = c.post("/console/login", content=body, headers={"content-type": kind} if kind else {})
        assert r.status_code in (400, 403), (body, kind, r.status_code)
        assert 'class="error"' in r.text


def test_a_form_too_large_is_413(console: Served) -> None:
    with client(console) as c:
        r = c.post("/console/login", data={"username": "x" * 10_000})
        assert r.status_code == 413 and "larger than" in r.text


EXPORT_FIELD = st.one_of(st.sampled_from(["framework", "from", "to", "csrf"]), st.text(max_size=10))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(fields=st.dictionaries(EXPORT_FIELD, VALUES, max_size=4), real_csrf=st.booleans())
def test_export_form_never_fails(signed_in: httpx.Client, fields: dict[str, str], real_csrf: bool) -> None:
    """The export form with any fields: a bundle, or a 400/403 with a message; never a 500."""
    data = dict(fields)
    if real_csrf:
        data["csrf"] = csrf_of(signed_in.get("/console/evidence").text)
    r = signed_in.post("/console/evidence/export", data=data)
    assert r.status_code in (200, 400, 403, 413), (data, r.status_code, r.text[:300])
    if r.status_code == 200:
        assert real_csrf and r.headers["content-type"] == "application/zip" and r.content[:2] == b"PK"
    else:
        assert 'class="error"' in r.text and "internal error" not in r.text

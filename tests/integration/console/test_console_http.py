"""The console over real HTTP (the agent's server on a loopback port) against a store the real
pipeline filled from moto: sign-in per role, CSRF, headers, the pages, the auditor's limits and
access log, and the evidence still verifying afterwards."""

from __future__ import annotations

import json
import re

import httpx

from agent.cli.main import run
from agent.store.console_log import access_entries
from tests.integration.console.conftest import (
    PUBLIC_BUCKET,
    SESSION_SECRET,
    Served,
    client,
    csrf_of,
    login,
    serve,
)


def _soc2_check(behind: bool) -> str:
    """A check behind SOC 2's security criteria, or one behind none of them (every mapped check is)."""
    from agent.mappings import load_mappings

    m = load_mappings()
    soc2 = {c for r in m.framework("soc2").in_scope(("security",)) for c in m.requirement_checks(r)}
    return sorted(soc2)[0] if behind else "aws.s3.not_a_check"


PAGES = ("/console/posture", "/console/findings", "/console/drift", "/console/devices")


def _pages_ok(c: httpx.Client) -> dict[str, str]:
    out = {}
    for path in PAGES:
        r = c.get(path)
        assert r.status_code == 200, (path, r.status_code, r.text[:500])
        assert r.headers["content-type"].startswith("text/html")
        out[path] = r.text
    return out


def test_pages_need_a_session(console: Served) -> None:
    with client(console) as c:
        for path in (*PAGES, "/console/resource?id=x"):
            r = c.get(path)
            assert r.status_code == 303
            assert r.headers["location"].startswith("/console/login?next=/console/")
        assert c.get("/console").headers["location"] == "/console/"


def test_security_headers_and_cookie_flags(console: Served) -> None:
    with client(console) as c:
        r = c.get("/console/login")
        csp = r.headers["content-security-policy"]
        assert "script-src" not in csp and "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
        assert r.headers["x-frame-options"] == "DENY"
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["referrer-policy"] == "same-origin"
        assert r.headers["cache-control"] == "no-store"
        assert "<script" not in r.text
        cookie = r.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie
        assert c.get("/console/nowhere").headers["x-frame-options"] == "DENY"  # errors too


def test_secure_cookies_by_default(filled: tuple[str, object]) -> None:
    db, store = filled
    http, served = serve(db, store, secure=True)  # type: ignore[arg-type]
    try:
        with client(served) as c:
            r = c.get("/console/login")
            cookie = r.headers["set-cookie"]
            assert cookie.startswith("__Host-posture_csrf=") and "Secure" in cookie
            assert r.headers["strict-transport-security"].startswith("max-age=")
    finally:
        http.stop()


def test_login_refuses_a_missing_or_forged_csrf_token(console: Served) -> None:
    with client(console) as c:
        r = c.post("/console/login", data={"username": "olivia", "password": "operator pass 1"})
        assert r.status_code == 403 and "CSRF" in r.text
        form = c.get("/console/login")
        r = c.post("/console/login", data={"csrf": csrf_of(form.text) + "x", "username": "olivia", "password": "x"})
        assert r.status_code == 403
        c.cookies.clear()  # a token from the page without its cookie
        r = c.post("/console/login", data={"csrf": csrf_of(form.text), "username": "olivia", "password": "x"})
        assert r.status_code == 403
        assert "posture_session" not in c.cookies


def test_wrong_password_and_unknown_user(console: Served) -> None:
    with client(console) as c:
        assert login(c, "olivia", "wrong").status_code == 401
        r = login(c, "mallory", "whatever")
        assert r.status_code == 401 and "Wrong user name or password." in r.text
        assert c.get("/console/posture").status_code == 303


def test_operator_sees_every_page_and_follows_a_failing_finding(console: Served) -> None:
    with client(console) as c:
        r = login(c, "olivia")
        assert r.status_code == 303 and r.headers["location"] == "/console/"
        pages = _pages_ok(c)
        assert "Posture: SOC 2" in pages["/console/posture"]
        assert "POL-INFOSEC" in pages["/console/posture"]
        failing = c.get("/console/findings", params={"status": "fail", "check": "aws.s3.bucket_public_access_block"})
        assert failing.status_code == 200
        links = re.findall(r'href="(/console/resource\?id=[^"]+)"', failing.text)
        assert links == ["/console/resource?id=arn%3Aaws%3As3%3A%3A%3Aconsole-public"]
        resource = c.get(links[0].replace("&amp;", "&"))
        assert resource.status_code == 200
        text = resource.text
        assert PUBLIC_BUCKET in text and "PublicAccessBlock" in text
        assert "<code>PublicAccessBlock.BlockPublicAcls</code>: true -&gt; false" in text  # the drift, old -> new
        assert "pass -&gt; fail" in text
        drift = c.get("/console/drift", params={"kind": "modified"}).text
        assert "PublicAccessBlock.BlockPublicAcls" in drift
        # an operator is not logged in the chain
        assert not [e for e in access_entries(console.store) if json.loads(e["content"])["user"] == "olivia"]


def test_posture_filters_and_pages_reject_bad_input(console: Served) -> None:
    with client(console) as c:
        login(c, "olivia")
        for path, words in (
            ("/console/findings?status=bogus", "status: unknown value"),
            ("/console/findings?page=0", "page: expected a page number"),
            ("/console/findings?page=99", "there are 1 pages"),
            ("/console/findings?requirement=SOC2:NOPE", "unknown requirement"),
            ("/console/findings?colour=red", "unknown parameter 'colour'"),
            ("/console/drift?from=2026-02-30", "from: expected a date"),
            ("/console/drift?from=2026-03-02&to=2026-03-01", "ends before it starts"),
            ("/console/posture?framework=hipaa", "not in scope"),
            ("/console/resource", "id: give the resource id"),
        ):
            r = c.get(path)
            assert r.status_code == 400, (path, r.status_code)
            assert words in r.text.replace("&#39;", "'"), (path, r.text[:800])
        assert c.get("/console/resource?id=arn:aws:s3:::nothing-here").status_code == 404


def test_auditor_sees_their_scope_and_every_page_is_logged(console: Served) -> None:
    before = {e["seq"] for e in access_entries(console.store)}
    with client(console) as c:
        assert login(c, "audrey").status_code == 303
        pages = _pages_ok(c)
        assert "Every page you open is recorded in the evidence chain." in pages["/console/posture"]
        assert c.get("/console/posture", params={"framework": "iso27001"}).status_code == 403
        assert c.get("/console/drift", params={"from": "2019-01-01"}).status_code == 403
        assert c.get("/console/findings", params={"check": _soc2_check(True)}).status_code == 200
        assert c.get("/console/findings", params={"check": _soc2_check(False)}).status_code == 403
    new = [json.loads(e["content"]) for e in access_entries(console.store) if e["seq"] not in before]
    targets = sorted(e["target"] for e in new)
    assert targets == sorted(
        [
            *PAGES,
            "/console/posture?framework=iso27001",
            "/console/drift?from=2019-01-01",
            f"/console/findings?check={_soc2_check(True)}",
            f"/console/findings?check={_soc2_check(False)}",
        ]
    )
    refused = {e["target"]: e["status"] for e in new}
    assert refused["/console/posture?framework=iso27001"] == 403
    assert {e["user"] for e in new} == {"audrey"} and {e["role"] for e in new} == {"auditor"}
    assert run(["evidence", "verify", "--db", console.db]) == 0


def test_auditor_whose_period_ended_sees_its_end_and_an_old_period_sees_nothing_after(console: Served) -> None:
    with client(console) as c:
        login(c, "ended")
        r = c.get("/console/findings")
        assert r.status_code == 200 and "the period has ended" in r.text
        assert "0 findings" in r.text  # everything was collected after the period's end
    with client(console) as c:
        login(c, "oldie")
        assert c.get("/console/drift", params={"from": "2026-01-01", "to": "2026-01-31"}).status_code == 403
        assert c.get("/console/drift").status_code == 200  # its own period, empty
        assert c.get("/console/resource", params={"id": PUBLIC_BUCKET}).status_code == 403


def test_logout_needs_the_session_csrf_token(console: Served) -> None:
    with client(console) as c:
        login(c, "olivia")
        page = c.get("/console/devices").text
        assert c.post("/console/logout", data={"csrf": "forged"}).status_code == 403
        assert c.get("/console/devices").status_code == 200
        r = c.post("/console/logout", data={"csrf": csrf_of(page)})
        assert r.status_code == 303
        assert c.get("/console/devices").status_code == 303


def test_no_secret_in_any_page(console: Served) -> None:
    with client(console) as c:
        login(c, "olivia")
        bodies = list(_pages_ok(c).values()) + [c.get("/console/resource", params={"id": PUBLIC_BUCKET}).text]
    for body in bodies:
        assert SESSION_SECRET not in body
        for h in console.hashes.values():
            assert h not in body and h.split("$")[-1] not in body
    for e in access_entries(console.store):
        assert SESSION_SECRET not in e["content"] and not any(
            h.split("$")[-1] in e["content"] for h in console.hashes.values()
        )

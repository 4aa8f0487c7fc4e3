"""A fake Okta org on loopback, over TLS (a trustme CA), speaking the management API's wire format.

Used by the demo and by the integration tests (tests/integration/okta). What it implements:

- auth: ``Authorization: SSWS <api token>``, or ``Bearer <access token>`` from ``POST /oauth2/v1/token``
  (client credentials grant with a ``private_key_jwt`` assertion checked against the app's public key,
  the audience, issuer and lifetime; scopes limited to those granted to the app). Anything else is a 401
  with Okta's error body (``E0000011 Invalid token provided``); a token without the scope an endpoint
  needs is a 403 (``E0000006``);
- ``GET /api/v1/users`` (``limit``, ``after``), ``/api/v1/users/{id}/factors``, ``/api/v1/users/{id}/roles``,
  ``/api/v1/policies?type=...`` and ``/api/v1/policies/{id}/rules``; lists are paged with
  ``Link: <...>; rel="next"`` headers carrying an ``after`` cursor, ``page_size`` items at most;
- rate limits: every response carries ``X-Rate-Limit-Limit/-Remaining/-Reset`` (a window of 60 s per
  endpoint, ``rate_limit`` requests each); past it, 429 with ``E0000047``;
- faults (``fail``): a status with Okta's error body and, for 429, the reset ``reset_in`` seconds ahead;
  or any body (``body=``/``raw=``) with any status, for the tests that feed malformed answers;
- everything but GET (and the token POST) is refused with 405 ``E0000022``.

    fake = FakeOkta().start(); source = fake.source(); ...; fake.stop()
"""

from __future__ import annotations

import json
import math
import re
import secrets
import shutil
import ssl
import tempfile
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from posture_demo.okta_data import OktaData, demo_data, iso

__all__ = ["DEMO_CLIENT_ID", "FakeOkta", "Request"]

DEMO_CLIENT_ID = "0oa1postureagent"
_ANY = "[^/]+"
# path pattern -> (what the endpoint is, the scope it needs)
_ENDPOINTS: list[tuple[re.Pattern[str], str, str]] = [
    (re.compile(r"^/api/v1/users$"), "users", "okta.users.read"),
    (re.compile(rf"^/api/v1/users/({_ANY})/factors$"), "factors", "okta.users.read"),
    (re.compile(rf"^/api/v1/users/({_ANY})/roles$"), "roles", "okta.roles.read"),
    (re.compile(r"^/api/v1/policies$"), "policies", "okta.policies.read"),
    (re.compile(rf"^/api/v1/policies/({_ANY})/rules$"), "rules", "okta.policies.read"),
]
_SUMMARIES = {
    401: ("E0000011", "Invalid token provided"),
    403: ("E0000006", "You do not have permission to perform the requested action"),
    404: ("E0000007", "Not found: Resource not found"),
    405: ("E0000022", "The endpoint does not support the provided HTTP method"),
    429: ("E0000047", "API call exceeded rate limit due to too many requests."),
    500: ("E0000009", "Internal Server Error"),
    503: ("E0000010", "Service is in read only mode"),
}


def okta_error(status: int, code: str = "", summary: str = "", causes: list[str] | None = None) -> dict[str, Any]:
    default_code, default_summary = _SUMMARIES.get(status, (f"E{status:07d}", "Error"))
    return {
        "errorCode": code or default_code,
        "errorSummary": summary or default_summary,
        "errorLink": code or default_code,
        "errorId": "oae" + secrets.token_hex(10),
        "errorCauses": [{"errorSummary": c} for c in causes or []],
    }


@dataclass
class _Fault:
    pattern: re.Pattern[str]
    status: int
    times: int  # -1: always
    query: str
    body: Any
    raw: bytes | None
    reset_in: float | None
    headers: Mapping[str, str]


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: str
    status: int
    at: float  # time.time() when answered
    reset: int | None = None  # the X-Rate-Limit-Reset it was answered with


@dataclass
class _Window:
    start: float
    count: int = 0


@dataclass
class _App:
    client_id: str
    public_key_pem: bytes
    scopes: frozenset[str]
    require_dpop: bool = False
    tokens: dict[str, frozenset[str]] = field(default_factory=dict)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _send(self, status: int, body: Any, headers: list[tuple[str, str]], raw: bytes | None = None) -> None:
        data = raw if raw is not None else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802
        self._send(*self.server.fake.get(self.path, self.headers.get("Authorization", "")))

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("Content-Length") or 0)
        form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
        self._send(*self.server.fake.post(self.path, form, self.headers))

    def _refuse(self) -> None:
        self.server.fake.record(self.command, self.path, 405)
        self._send(405, okta_error(405), [])

    do_PUT = do_PATCH = do_DELETE = _refuse


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeOkta


Answer = tuple[int, Any, list[tuple[str, str]], bytes | None]


class FakeOkta:
    """One Okta org on a loopback TLS port. ``data`` is okta_data's shape (users, factors, roles,
    policies, rules); ``page_size`` caps every page so that paging is exercised."""

    def __init__(
        self,
        data: OktaData | None = None,
        *,
        page_size: int = 2,
        rate_limit: int = 600,
        api_token: str | None = None,
    ) -> None:
        self.data = data if data is not None else demo_data()
        self.page_size = page_size
        self.rate_limit = rate_limit
        self.api_token = api_token or "00" + secrets.token_urlsafe(30)
        self.requests: list[Request] = []
        self.apps: dict[str, _App] = {}
        self._faults: list[_Fault] = []
        self._windows: dict[str, _Window] = {}
        self._lock = threading.Lock()
        self._dir: Path | None = None
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.ca_path = ""
        self.base = ""

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> FakeOkta:
        import trustme

        self._dir = Path(tempfile.mkdtemp(prefix="fake-okta-"))
        ca = trustme.CA()
        cert = ca.issue_cert("127.0.0.1", "localhost")
        self.ca_path = str(self._dir / "ca.pem")
        ca.cert_pem.write_to_path(self.ca_path)
        self.write_secret("api-token", self.api_token)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        cert.configure_cert(context)
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.fake = self
        self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self.base = f"https://127.0.0.1:{self._server.server_address[1]}"
        server = self._server  # a short poll: stop() returns at once, and each test's fake with it
        self._thread = threading.Thread(target=lambda: server.serve_forever(0.05), name="fake-okta", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    def __enter__(self) -> FakeOkta:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def write_secret(self, name: str, value: str) -> str:
        """A file holding ``value`` (mode 0600) in the fake's directory; its ``file:`` reference."""
        assert self._dir is not None, "start() first"
        path = self._dir / name
        path.write_text(value, encoding="utf-8")
        path.chmod(0o600)
        return f"file:{path}"

    # -- configuration for the agent -------------------------------------------------------------

    def source_config(self, name: str = "demo-okta", **extra: Any) -> dict[str, Any]:
        """An ``okta`` source (config data) reaching this fake with its API token."""
        assert self._dir is not None, "start() first"
        config: dict[str, Any] = {
            "name": name,
            "provider": "okta",
            "org_url": self.base,
            "token": f"file:{self._dir / 'api-token'}",
            "ca_bundle": self.ca_path,
        }
        return {**config, **extra}

    def oauth_app(
        self,
        public_key_pem: bytes,
        scopes: frozenset[str] = frozenset({"okta.users.read", "okta.roles.read", "okta.policies.read"}),
        *,
        client_id: str = DEMO_CLIENT_ID,
        require_dpop: bool = False,
    ) -> str:
        """Register an API Services app with ``private_key_jwt`` authentication; its client id."""
        with self._lock:
            self.apps[client_id] = _App(client_id, public_key_pem, scopes, require_dpop)
        return client_id

    # -- faults and records ----------------------------------------------------------------------

    def fail(
        self,
        path_regex: str,
        status: int,
        *,
        times: int = 1,
        query: str = "",
        code: str = "",
        summary: str = "",
        reset_in: float | None = None,
        body: Any = None,
        raw: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """Answer the next ``times`` GETs (-1: all) of matching paths (and query substring) with
        ``status``: Okta's error body by default, else ``body`` (JSON) or ``raw`` bytes. A 429 carries
        ``X-Rate-Limit-Remaining: 0`` and a reset ``reset_in`` seconds ahead (default 1)."""
        if body is None and raw is None and status >= 400:
            body = okta_error(status, code, summary)
        if status == 429 and reset_in is None:
            reset_in = 1.0
        with self._lock:
            self._faults.append(
                _Fault(re.compile(path_regex), status, times, query, body, raw, reset_in, dict(headers or {}))
            )

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def record(self, method: str, raw_path: str, status: int, reset: int | None = None) -> None:
        url = urlsplit(raw_path)
        with self._lock:
            self.requests.append(Request(method, url.path, url.query, status, time.time(), reset))

    def calls(self, path_regex: str = "", method: str = "GET") -> list[Request]:
        pat = re.compile(path_regex)
        with self._lock:
            found = list(self.requests)
        return [r for r in found if r.method == method and pat.search(r.path)]

    # -- protocol --------------------------------------------------------------------------------

    def _limits(self, bucket: str, *, spend: bool) -> tuple[bool, list[tuple[str, str]]]:
        """(within the limit, the X-Rate-Limit headers) for one request to ``bucket``."""
        now = time.time()
        with self._lock:
            window = self._windows.get(bucket)
            if window is None or now >= window.start + 60:
                window = self._windows[bucket] = _Window(start=math.floor(now))
            if spend:
                window.count += 1
            remaining = self.rate_limit - window.count
        headers = [
            ("X-Rate-Limit-Limit", str(self.rate_limit)),
            ("X-Rate-Limit-Remaining", str(max(remaining, 0))),
            ("X-Rate-Limit-Reset", str(int(window.start + 60))),
        ]
        return remaining >= 0, headers

    def _authorised(self, auth: str, scope: str) -> tuple[int, Any] | None:
        """None when ``auth`` may call an endpoint needing ``scope``; else the error answer."""
        kind, _, value = auth.partition(" ")
        if kind == "SSWS" and secrets.compare_digest(value.strip(), self.api_token):
            return None
        if kind == "Bearer":
            with self._lock:
                granted = next((a.tokens[value] for a in self.apps.values() if value in a.tokens), None)
            if granted is not None:
                return None if scope in granted else (403, okta_error(403))
        return 401, okta_error(401)

    def get(self, raw: str, auth: str) -> Answer:
        url = urlsplit(raw)
        path = url.path
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        status, body, headers, data = self._answer(path, query, url.query, auth)
        reset = next((int(v) for k, v in headers if k == "X-Rate-Limit-Reset"), None)
        self.record("GET", raw, status, reset)
        return status, body, headers, data

    def _fault(self, path: str, raw_query: str) -> _Fault | None:
        with self._lock:
            for f in self._faults:
                if f.times != 0 and f.pattern.search(path) and f.query in raw_query:
                    f.times -= 1 if f.times > 0 else 0
                    return f
        return None

    def _answer(self, path: str, query: dict[str, str], raw_query: str, auth: str) -> Answer:
        match = next(((m, kind, scope) for pat, kind, scope in _ENDPOINTS if (m := pat.match(path))), None)
        bucket = match[1] if match else "other"
        if match is None:
            _, headers = self._limits(bucket, spend=True)
            return 404, okta_error(404, summary=f"Not found: Resource not found: {path}"), headers, None
        m, kind, scope = match
        denied = self._authorised(auth, scope)
        if denied is not None:
            return denied[0], denied[1], [], None
        fault = self._fault(path, raw_query)
        within, headers = self._limits(bucket, spend=True)
        if fault is not None:
            extra = list(fault.headers.items())
            if fault.status == 429:
                reset = math.ceil(time.time() + (fault.reset_in or 1.0))
                headers = [h for h in headers if not h[0].startswith("X-Rate-Limit-R")]
                headers += [("X-Rate-Limit-Remaining", "0"), ("X-Rate-Limit-Reset", str(reset))]
            return fault.status, _served(fault.body, datetime.now(UTC)), headers + extra, fault.raw
        if not within:
            return 429, okta_error(429), headers, None
        status, body, links = self._serve(kind, m, query)
        return status, body, headers + links, None

    def _serve(self, kind: str, m: re.Match[str], query: dict[str, str]) -> tuple[int, Any, list[tuple[str, str]]]:
        d = self.data
        now = datetime.now(UTC)
        if kind == "users":
            return self._page("/api/v1/users", [_served(u, now) for u in d["users"]], query)
        if kind in ("factors", "roles"):
            uid = m.group(1)
            if not any(u["id"] == uid for u in d["users"]):
                return 404, okta_error(404, summary=f"Not found: Resource not found: {uid} (User)"), []
            return 200, d[kind].get(uid, []), []
        if kind == "policies":
            policy_type = query.get("type", "")
            if policy_type not in d["policies"]:
                causes = [f"type: The field cannot be left blank or have an invalid value '{policy_type}'"]
                return 400, okta_error(400, "E0000001", "Api validation failed: type", causes), []
            return self._page("/api/v1/policies", d["policies"][policy_type], query)
        pid = m.group(1)
        if pid not in d["rules"]:
            return 404, okta_error(404, summary=f"Not found: Resource not found: {pid} (Policy)"), []
        return 200, d["rules"][pid], []

    def _page(
        self, path: str, items: list[dict[str, Any]], query: dict[str, str]
    ) -> tuple[int, Any, list[tuple[str, str]]]:
        try:
            limit = min(int(query.get("limit") or self.page_size), self.page_size)
        except ValueError:
            return 400, okta_error(400, "E0000001", "Api validation failed: limit"), []
        after = query.get("after")
        start = 0
        if after:
            ids = [str(i.get("id")) for i in items]
            if after not in ids:
                return 400, okta_error(400, "E0000031", "Invalid search criteria."), []
            start = ids.index(after) + 1
        page = items[start : start + limit]
        keep = {k: v for k, v in query.items() if k not in ("after", "limit")}
        links = [("Link", f'<{self.base}{path}?{urlencode({**keep, "limit": limit})}>; rel="self"')]
        if start + limit < len(items):
            nxt = urlencode({**keep, "after": page[-1]["id"], "limit": limit})
            links.append(("Link", f'<{self.base}{path}?{nxt}>; rel="next"'))
        return 200, page, links

    # -- the token endpoint ----------------------------------------------------------------------

    def post(self, raw: str, form: Mapping[str, str], headers: Any) -> Answer:
        path = urlsplit(raw).path
        if path != "/oauth2/v1/token":
            self.record("POST", raw, 405)
            return 405, okta_error(405), [], None
        status, body = self._token(form, headers)
        self.record("POST", raw, status)
        return status, body, [("Cache-Control", "no-store")], None

    def _token(self, form: Mapping[str, str], headers: Any) -> tuple[int, Any]:
        import jwt

        def oauth_error(error: str, description: str, status: int = 400) -> tuple[int, Any]:
            return status, {"error": error, "error_description": description}

        if form.get("grant_type") != "client_credentials":
            return oauth_error("unsupported_grant_type", "The authorization grant type is not supported.")
        if form.get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer":
            return oauth_error("invalid_client", "client_assertion_type is required", 401)
        assertion = form.get("client_assertion", "")
        try:
            claims = jwt.decode(assertion, options={"verify_signature": False})
            app = self.apps.get(str(claims.get("iss")))
            if app is None:
                return oauth_error("invalid_client", "The client_id is not valid.", 401)
            jwt.decode(
                assertion,
                app.public_key_pem,
                algorithms=["RS256", "ES256", "ES384", "ES512"],
                audience=f"{self.base}/oauth2/v1/token",
                issuer=app.client_id,
                options={"require": ["exp", "iat", "sub", "aud", "jti"]},
            )
        except jwt.PyJWTError as exc:
            return oauth_error("invalid_client", f"The client_assertion token is invalid: {exc}", 401)
        if claims.get("sub") != app.client_id:
            return oauth_error("invalid_client", "The client_assertion sub must equal the client_id.", 401)
        if app.require_dpop and not headers.get("DPoP"):
            return oauth_error("invalid_dpop_proof", "The DPoP proof JWT header is missing.")
        wanted = frozenset(form.get("scope", "").split())
        if not wanted or not wanted <= app.scopes:
            extra = " ".join(sorted(wanted - app.scopes)) or "(none requested)"
            return oauth_error("invalid_scope", f"The following scopes are not allowed: {extra}")
        token = "eyJfake." + secrets.token_urlsafe(24)
        with self._lock:
            app.tokens[token] = wanted
        return 200, {
            "token_type": "Bearer",
            "expires_in": 3600,
            "access_token": token,
            "scope": " ".join(sorted(wanted)),
        }


def _served(value: Any, now: datetime) -> Any:
    """``value`` as answered at ``now``: a ``timedelta`` (a recent sign-in's age) becomes that moment."""
    if isinstance(value, timedelta):
        return iso(now - value)
    if isinstance(value, dict):
        return {k: _served(v, now) for k, v in value.items()}
    if isinstance(value, list):
        return [_served(v, now) for v in value]
    return value

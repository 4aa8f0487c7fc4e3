"""A fake GitHub REST API v3 on loopback, speaking the wire format the agent reads.

Used by the demo and by the integration tests. What it does as GitHub does:

- a token in ``Authorization: Bearer`` (or ``token``); anything else is ``401 {"message": "Bad credentials",
  "documentation_url": ...}``; the GitHub App flow: a JWT signed RS256 by the App's key (verified against
  its public key) reads ``GET /app/installations/{id}`` and trades for an installation token at
  ``POST /app/installations/{id}/access_tokens`` (201; 422 when asked for permissions not granted);
- listings paged by ``per_page``/``page`` with ``Link`` headers whose next URLs name the organisation
  or repository by numeric id (``/organizations/9001/repos?page=2``), at most ``page_size`` a page;
- ``X-RateLimit-Limit/Remaining/Used/Reset/Resource`` on every answer; a spent budget answers
  ``403 API rate limit exceeded`` until its reset; ``fail()`` injects a secondary limit
  (403 + Retry-After), a 5xx or any status; ``serve()`` replaces a path's body (malformed answers);
- 404 ``Branch not protected`` for an unprotected branch, 204/404 for ``vulnerability-alerts``,
  ``422 Only owners can use this filter.`` for ``filter=2fa_disabled`` when ``owner`` is false (which
  also hides ``two_factor_requirement_enabled`` and ``security_and_analysis``).

    fake = FakeGitHub(demo_org()).start()
    source = fake.source_config()   # token method; fake.app_source_config() for the App
    ...
    fake.stop()
"""

from __future__ import annotations

import base64
import functools
import json
import math
import re
import secrets
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlencode, urlsplit

from posture_demo.github_data import FakeOrg, FakeRepo, demo_org

__all__ = ["DEMO_APP_ID", "DEMO_INSTALLATION_ID", "FakeGitHub", "demo_org"]

DEMO_APP_ID = "424242"
DEMO_INSTALLATION_ID = 31337
DOCS = "https://docs.github.com/rest"
_APP_PERMISSIONS = {
    "members": "read",
    "organization_administration": "read",
    "metadata": "read",
    "administration": "read",
    "contents": "write",  # more than the agent needs: it must ask for less
}


@dataclass
class _Fault:
    pattern: re.Pattern[str]
    status: int
    times: int  # -1: always
    headers: Mapping[str, str]
    message: str
    query: str


@dataclass
class _Canned:
    pattern: re.Pattern[str]
    status: int
    body: bytes
    headers: Mapping[str, str]


def _b64decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        status, data, headers = self.server.fake.handle(self.command, self.path, dict(self.headers.items()), body)
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        if status != 204:
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if status != 204:
            self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeGitHub


class FakeGitHub:
    """One organisation's REST API on http://127.0.0.1:PORT (GitHub Enterprise Server's /api/v3 prefix
    with ``prefix="/api/v3"``)."""

    def __init__(
        self,
        org: FakeOrg | None = None,
        *,
        page_size: int = 2,
        owner: bool = True,
        prefix: str = "",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.org = org or demo_org()
        self.page_size = page_size
        self.owner = owner  # the token's user owns the organisation (2FA filter, 2FA requirement, security)
        self.prefix = prefix.rstrip("/")
        self.clock = clock
        self.token = "github_pat_" + secrets.token_urlsafe(30)
        self.app_id = DEMO_APP_ID
        self.installation_id = DEMO_INSTALLATION_ID
        self.app_permissions = dict(_APP_PERMISSIONS)
        self.installation_tokens: dict[str, dict[str, str]] = {}  # token -> the permissions it was given
        self.rate_limit = 5000
        self.remaining = 5000
        self.reset_at = int(clock()) + 3600
        self.requests: list[tuple[str, str, str, int]] = []  # method, path, query, status
        self._faults: list[_Fault] = []
        self._canned: list[_Canned] = []
        self._lock = threading.Lock()
        self._dir: Path | None = None
        self._server: _Server | None = None
        self.base = ""
        self._private_key_pem, self._public_key = self._app_key()

    # -- lifecycle -------------------------------------------------------------------------------

    @staticmethod
    @functools.cache
    def _app_key() -> tuple[bytes, Any]:
        """The App's key pair, made once a process (an RSA key takes a while to generate)."""
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa

        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
        )
        return pem, key.public_key()

    def start(self) -> FakeGitHub:
        self._dir = Path(tempfile.mkdtemp(prefix="fake-github-"))
        for name, data in (("token", self.token.encode()), ("app.pem", self._private_key_pem)):
            path = self._dir / name
            path.write_bytes(data)
            path.chmod(0o600)
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.fake = self
        self.base = f"http://127.0.0.1:{self._server.server_address[1]}{self.prefix}"
        # a short poll: stop() returns at once (tests start and stop one fake each)
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-github", daemon=True
        ).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    def __enter__(self) -> FakeGitHub:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- configuration for the agent -------------------------------------------------------------

    def _file(self, name: str) -> str:
        assert self._dir is not None, "start() first"
        return f"file:{self._dir / name}"

    def source_config(self, name: str = "demo-github", **extra: Any) -> dict[str, Any]:
        """A ``github`` source using a token (the demo's method)."""
        return {
            "name": name,
            "provider": "github",
            "organization": self.org.login,
            "api_url": self.base,
            "token": self._file("token"),
            **extra,
        }

    def app_source_config(self, name: str = "demo-github-app", **extra: Any) -> dict[str, Any]:
        """A ``github`` source authenticating as the fake's GitHub App."""
        return {
            "name": name,
            "provider": "github",
            "organization": self.org.login,
            "api_url": self.base,
            "app_id": self.app_id,
            "installation_id": self.installation_id,
            "private_key": self._file("app.pem"),
            **extra,
        }

    # -- faults ----------------------------------------------------------------------------------

    def fail(
        self,
        path_regex: str,
        status: int,
        *,
        times: int = 1,
        retry_after: str | None = None,
        message: str = "",
        query: str = "",
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """Answer ``status`` with GitHub's error body to the next ``times`` requests (-1: all) of matching
        paths whose query contains ``query``. A secondary limit: ``fail(p, 403, retry_after="1",
        message="You have exceeded a secondary rate limit...")``."""
        extra = dict(headers or {})
        if retry_after is not None:
            extra["Retry-After"] = retry_after
        with self._lock:
            self._faults.append(_Fault(re.compile(path_regex), status, times, extra, message, query))

    def serve(
        self, path_regex: str, body: bytes, *, status: int = 200, headers: Mapping[str, str] | None = None
    ) -> None:
        """Answer every request of matching paths with these bytes (malformed bodies, odd headers)."""
        with self._lock:
            self._canned.append(_Canned(re.compile(path_regex), status, body, dict(headers or {})))

    def reset_faults(self) -> None:
        """Forget every injected fault and canned body; a full budget again."""
        with self._lock:
            self._faults.clear()
            self._canned.clear()
            self.remaining = self.rate_limit

    def spend_budget(self, remaining: int, reset_in: float) -> None:
        """Leave ``remaining`` requests in the primary budget, reset ``reset_in`` seconds from now."""
        with self._lock:
            self.remaining = remaining
            self.reset_at = math.ceil(self.clock() + reset_in)

    def calls(self, path_regex: str = "", method: str | None = None) -> list[tuple[str, str, str, int]]:
        with self._lock:
            found = list(self.requests)
        pat = re.compile(path_regex)
        return [r for r in found if pat.search(r[1]) and (method is None or r[0] == method)]

    # -- protocol --------------------------------------------------------------------------------

    def _rate_headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.rate_limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Used": str(self.rate_limit - self.remaining),
            "X-RateLimit-Reset": str(self.reset_at),
            "X-RateLimit-Resource": "core",
        }

    def handle(
        self, method: str, raw: str, headers: Mapping[str, str], body: bytes
    ) -> tuple[int, bytes, dict[str, str]]:
        url = urlsplit(raw)
        path, query = url.path, url.query
        status, data, extra = self._route(method, path, query, headers, body)
        with self._lock:
            self.requests.append((method, path[len(self.prefix) :], query, status))
        out = {
            "Content-Type": "application/json; charset=utf-8",
            "X-GitHub-Media-Type": "github.v3; format=json",
            "X-GitHub-Api-Version-Selected": "2022-11-28",
            **extra,
        }
        return status, data, out

    @staticmethod
    def _error(status: int, message: str, extra: Mapping[str, str] | None = None) -> tuple[int, bytes, dict[str, str]]:
        return status, json.dumps({"message": message, "documentation_url": DOCS}).encode(), dict(extra or {})

    def _route(
        self, method: str, path: str, query: str, headers: Mapping[str, str], body: bytes
    ) -> tuple[int, bytes, dict[str, str]]:
        if not path.startswith(self.prefix + "/"):
            return self._error(404, "Not Found")
        rel = path[len(self.prefix) :]
        auth = headers.get("Authorization") or headers.get("authorization") or ""
        scheme, _, credential = auth.partition(" ")
        if rel.startswith("/app/"):
            return self._app(method, rel, credential.strip() if scheme.lower() == "bearer" else "", body)
        if scheme.lower() not in ("bearer", "token") or not self._known(credential.strip()):
            return self._error(401, "Bad credentials")
        with self._lock:
            now = self.clock()
            if now >= self.reset_at:  # a new window
                self.remaining, self.reset_at = self.rate_limit, int(now) + 3600
            if self.remaining <= 0:
                return self._error(
                    403, "API rate limit exceeded for user ID 1. (But here's the good news: ...)", self._rate_headers()
                )
            self.remaining -= 1
            rate = self._rate_headers()
            for f in self._faults:
                if f.times != 0 and f.pattern.search(rel) and f.query in query:
                    f.times -= 1 if f.times > 0 else 0
                    message = f.message or ("Server Error" if f.status >= 500 else f"fake fault {f.status}")
                    return self._error(f.status, message, {**rate, **f.headers})
            for c in self._canned:
                if c.pattern.search(rel):
                    return c.status, c.body, {**rate, **c.headers}
        if method != "GET":
            return self._error(404, "Not Found", rate)
        status, data, extra = self._get(rel, {k: v[0] for k, v in parse_qs(query).items()})
        return status, data, {**rate, **extra}

    def _known(self, token: str) -> bool:
        with self._lock:
            return bool(token) and (token == self.token or token in self.installation_tokens)

    # -- the GitHub App -------------------------------------------------------------------------

    def _verify_jwt(self, token: str) -> str:
        """'' when ``token`` is a valid JWT of the App, else GitHub's complaint."""
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        parts = token.split(".")
        if len(parts) != 3:
            return "A JSON web token could not be decoded"
        try:
            header, claims = json.loads(_b64decode(parts[0])), json.loads(_b64decode(parts[1]))
            self._public_key.verify(
                _b64decode(parts[2]), f"{parts[0]}.{parts[1]}".encode(), padding.PKCS1v15(), hashes.SHA256()
            )
        except (ValueError, InvalidSignature):
            return "A JSON web token could not be decoded"
        if not isinstance(header, dict) or header.get("alg") != "RS256" or not isinstance(claims, dict):
            return "A JSON web token could not be decoded"
        now = self.clock()
        iat, exp = claims.get("iat"), claims.get("exp")
        if not isinstance(iat, int) or not isinstance(exp, int) or exp <= now or iat > now + 60 or exp - iat > 660:
            return "'Expiration time' claim ('exp') is too far in the future"
        if str(claims.get("iss")) != self.app_id:
            return "Integration not found"
        return ""

    def _app(self, method: str, rel: str, jwt: str, body: bytes) -> tuple[int, bytes, dict[str, str]]:
        why = self._verify_jwt(jwt)
        if why:
            return self._error(401, why)
        with self._lock:
            canned = next((c for c in self._canned if c.pattern.search(rel)), None)
        if canned is not None:
            return canned.status, canned.body, dict(canned.headers)
        base = f"/app/installations/{self.installation_id}"
        if method == "GET" and rel == base:
            return 200, self._json(self._installation()), {}
        if method == "POST" and rel == base + "/access_tokens":
            try:
                asked = json.loads(body or b"{}").get("permissions")
            except (ValueError, AttributeError):
                return self._error(400, "Problems parsing JSON")
            asked = asked if isinstance(asked, dict) else dict(self.app_permissions)
            if any(self.app_permissions.get(k) not in (v, "write") for k, v in asked.items()):
                return self._error(422, "The permissions requested are not granted to this installation.")
            token = "ghs_" + secrets.token_urlsafe(27)
            with self._lock:
                self.installation_tokens[token] = dict(asked)
            expires = datetime.fromtimestamp(self.clock() + 3600, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            return (
                201,
                self._json(
                    {"token": token, "expires_at": expires, "permissions": asked, "repository_selection": "all"}
                ),
                {},
            )
        return self._error(404, "Not Found")

    def _installation(self) -> dict[str, Any]:
        return {
            "id": self.installation_id,
            "app_id": int(self.app_id),
            "account": {"login": self.org.login, "id": self.org.id, "type": "Organization"},
            "target_type": "Organization",
            "repository_selection": "all",
            "permissions": dict(self.app_permissions),
            "events": [],
        }

    # -- the REST API ---------------------------------------------------------------------------

    @staticmethod
    def _json(value: Any) -> bytes:
        return json.dumps(value).encode()

    def _page(self, items: list[Any], path: str, query: dict[str, str]) -> tuple[int, bytes, dict[str, str]]:
        """One page and GitHub's Link header; ``path`` is the id-based form the links use."""
        try:
            per_page = max(1, min(int(query.get("per_page", "30")), 100, self.page_size))
            page = max(1, int(query.get("page", "1")))
        except ValueError:
            return self._error(400, "Invalid page parameter")
        last = max(1, -(-len(items) // per_page))
        chunk = items[(page - 1) * per_page : page * per_page]
        links = []

        def link(n: int, rel: str) -> str:
            q = urlencode({**query, "page": str(n)})
            return f'<{self.base}{path}?{q}>; rel="{rel}"'

        if page > 1:
            links += [link(page - 1, "prev"), link(1, "first")]
        if page < last:
            links += [link(page + 1, "next"), link(last, "last")]
        return 200, self._json(chunk), {"Link": ", ".join(links)} if links else {}

    def _user(self, login: str, uid: int, kind: str = "User") -> dict[str, Any]:
        return {
            "login": login,
            "id": uid,
            "node_id": f"U_{uid}",
            "avatar_url": f"https://avatars.example/u/{uid}",
            "url": f"{self.base}/users/{login}",
            "html_url": f"https://github.example/{login}",
            "type": kind,
            "site_admin": False,
        }

    def _repo_json(self, r: FakeRepo) -> dict[str, Any]:
        o = self.org
        body: dict[str, Any] = {
            "id": r.id,
            "node_id": f"R_{r.id}",
            "name": r.name,
            "full_name": f"{o.login}/{r.name}",
            "private": r.visibility != "public",
            "owner": {"login": o.login, "id": o.id, "type": "Organization"},
            "html_url": f"https://github.example/{o.login}/{r.name}",
            "fork": False,
            "url": f"{self.base}/repos/{o.login}/{r.name}",
            "visibility": r.visibility,
            "archived": r.archived,
            "disabled": False,
            "default_branch": r.default_branch,
            "pushed_at": "2026-11-29T10:00:00Z",
            "permissions": {"admin": self.owner, "maintain": True, "push": True, "triage": True, "pull": True},
        }
        if self.owner:
            body["security_and_analysis"] = {k: {"status": v} for k, v in r.security.items()}
        return body

    def _repo(self, owner: str, name: str) -> FakeRepo | None:
        if owner.lower() != self.org.login.lower():
            return None
        return next((r for r in self.org.repos if r.name.lower() == name.lower()), None)

    def _repo_by_id(self, rid: str) -> FakeRepo | None:
        return next((r for r in self.org.repos if str(r.id) == rid), None)

    def _get(self, rel: str, query: dict[str, str]) -> tuple[int, bytes, dict[str, str]]:
        o = self.org
        seg = [unquote(s) for s in rel.strip("/").split("/")]
        org_ok = len(seg) >= 2 and (
            (seg[0] == "orgs" and seg[1].lower() == o.login.lower())
            or (seg[0] == "organizations" and seg[1] == str(o.id))
        )
        if org_ok and len(seg) == 2 and seg[0] == "orgs":
            return 200, self._json(self._org_json()), {}
        if org_ok and len(seg) == 3:
            id_path = f"/organizations/{o.id}/{seg[2]}"
            if seg[2] == "members":
                return self._members(query, id_path)
            if seg[2] == "outside_collaborators":
                users = [self._user(login, 5000 + i) for i, login in enumerate(o.outside)]
                return self._page(users, id_path, query)
            if seg[2] == "repos":
                return self._page([self._repo_json(r) for r in o.repos], id_path, query)
        repo, rest = None, []
        if len(seg) >= 3 and seg[0] == "repos":
            repo, rest = self._repo(seg[1], seg[2]), seg[3:]
        elif len(seg) >= 2 and seg[0] == "repositories":
            repo, rest = self._repo_by_id(seg[1]), seg[2:]
        if repo is not None:
            return self._repo_get(repo, rest, query)
        return self._error(404, "Not Found")

    def _org_json(self) -> dict[str, Any]:
        o = self.org
        body: dict[str, Any] = {
            "login": o.login,
            "id": o.id,
            "node_id": f"O_{o.id}",
            "url": f"{self.base}/orgs/{o.login}",
            "name": "Posture Demo Inc.",
            "type": "Organization",
            "public_repos": sum(1 for r in o.repos if r.visibility == "public"),
            "default_repository_permission": "read",
            "members_can_create_repositories": True,
            "members_can_create_public_repositories": True,
            "web_commit_signoff_required": False,
            "two_factor_requirement_enabled": o.two_factor_required if self.owner else None,
        }
        return body

    def _members(self, query: dict[str, str], id_path: str) -> tuple[int, bytes, dict[str, str]]:
        members = self.org.members
        role, flt = query.get("role", "all"), query.get("filter", "all")
        if flt == "2fa_disabled":
            if not self.owner:
                return self._error(422, "Only owners can use this filter.")
            members = [m for m in members if not m.two_factor]
        elif flt != "all":
            return self._error(422, "Validation Failed")
        if role == "admin":
            members = [m for m in members if m.owner]
        elif role == "member":
            members = [m for m in members if not m.owner]
        return self._page([self._user(m.login, m.id, m.type) for m in members], id_path, query)

    def _repo_get(self, repo: FakeRepo, rest: list[str], query: dict[str, str]) -> tuple[int, bytes, dict[str, str]]:
        o = self.org
        url = f"{self.base}/repos/{o.login}/{repo.name}"
        if rest == ["vulnerability-alerts"]:
            if not self.owner:
                return self._error(403, "Must have admin rights to Repository.")
            if repo.vulnerability_alerts:
                return 204, b"", {}
            return self._error(404, "Vulnerability alerts are disabled.")
        if rest == ["collaborators"]:
            if query.get("affiliation", "all") != "outside":
                return self._error(422, "only affiliation=outside is served by the fake")
            users = []
            for i, (login, role) in enumerate(sorted(repo.collaborators.items())):
                u = self._user(login, 6000 + i)
                u["permissions"] = {
                    "admin": role == "admin",
                    "maintain": role in ("admin", "maintain"),
                    "push": role in ("admin", "maintain", "write"),
                    "triage": role != "read",
                    "pull": True,
                }
                u["role_name"] = role
                users.append(u)
            return self._page(users, f"/repositories/{repo.id}/collaborators", query)
        if len(rest) >= 3 and rest[0] == "branches" and rest[-1] == "protection":
            branch = "/".join(rest[1:-1])
            if branch != repo.default_branch:
                return self._error(404, "Branch not found")
            if not self.owner:
                return self._error(403, "Must have admin rights to Repository.")
            if repo.protection is None:
                return self._error(404, "Branch not protected")
            return 200, self._json(self._served_protection(repo, url)), {}
        if len(rest) >= 3 and rest[0] == "rules" and rest[1] == "branches":
            branch = "/".join(rest[2:])
            rules = repo.rules if branch == repo.default_branch else []
            return self._page(rules, f"/repositories/{repo.id}/rules/branches/{quote(branch, safe='')}", query)
        return self._error(404, "Not Found")

    @staticmethod
    def _served_protection(repo: FakeRepo, url: str) -> dict[str, Any]:
        prot = json.loads(json.dumps(repo.protection))
        base = f"{url}/branches/{repo.default_branch}/protection"
        prot["url"] = base
        for key, value in prot.items():
            if isinstance(value, dict):
                value["url"] = f"{base}/{key.replace('_', '-')}"
        return dict(prot)

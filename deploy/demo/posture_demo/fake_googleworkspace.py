"""A fake Google Workspace on loopback: Google's OAuth 2.0 token endpoint and the Admin SDK Directory
API users listing, over TLS (CA by trustme).

Used by the demo and by the integration tests. It speaks the wire protocol the agent uses:

- ``POST /token``: the JWT bearer grant of a service account with domain-wide delegation. The
  assertion's RS256 signature is verified against the public half of the key this fake generated at
  start (written, with its private half, as a service-account JSON key file in the fake's temporary
  directory, never anywhere else), and so are its ``iss``, ``aud``, lifetime, ``sub`` (a user of the
  domain) and ``scope`` (within the scopes delegated to the client). Refusals are Google's OAuth
  error bodies: ``{"error": "unauthorized_client", "error_description": ...}``, ``invalid_grant``...
- ``GET /admin/directory/v1/users``: ``customer`` or ``domain``, ``maxResults`` (1-500, served in
  pages of at most ``page_size``), opaque ``pageToken``/``nextPageToken``, ``fields`` partial
  responses; only for a token whose subject is an administrator. Errors are Google's API error
  bodies ``{"error": {"code", "message", "errors": [{"reason", ...}], "status"}}``.

Faults can be injected: a status with a reason and ``Retry-After`` (429, a rate-limit 403, 503), or
raw bytes as the next answer (malformed bodies). Sign-in times tick between requests (``Ago``).

    fake = FakeWorkspace().start()
    source = fake.source()          # a WorkspaceSource that reaches it
    ...
    fake.stop()
"""

from __future__ import annotations

import base64
import functools
import json
import re
import secrets
import shutil
import ssl
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from posture_demo.googleworkspace_data import DEMO_CUSTOMER, DEMO_DOMAIN, Ago, demo_users, google_time

__all__ = ["DIRECTORY_READONLY", "FakeDomain", "FakeWorkspace", "demo_domain"]

USERS_PATH = "/admin/directory/v1/users"
TOKEN_PATH = "/token"
GRANT_TYPE = "urn:ietf:params:oauth:grant-type:jwt-bearer"
DIRECTORY_READONLY = "https://www.googleapis.com/auth/admin.directory.user.readonly"
_USER_SCOPES = (DIRECTORY_READONLY, "https://www.googleapis.com/auth/admin.directory.user")
_UNAUTHORIZED_CLIENT = (
    "Client is unauthorized to retrieve access tokens using this method, or client not authorized for any of the "
    "scopes requested."
)
_STATUS = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND"}
_STATUS.update({429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE"})


@dataclass
class FakeDomain:
    """What the fake serves: one customer's users, and the service account its administrators delegated to."""

    domain: str = DEMO_DOMAIN
    customer_id: str = DEMO_CUSTOMER
    users: list[dict[str, Any]] = field(default_factory=list)
    client_email: str = "posture-agent@northwind-security.iam.gserviceaccount.com"
    client_id: str = "108234567890123456789"
    # the scopes the administrators authorized for the client id (domain-wide delegation)
    delegated_scopes: set[str] = field(default_factory=lambda: {DIRECTORY_READONLY})


def demo_domain(now: datetime | None = None) -> FakeDomain:
    return FakeDomain(users=demo_users(now))


@dataclass
class _Fault:
    api: str  # "directory" or "token"
    times: int  # -1: always
    status: int
    headers: Mapping[str, str]
    reason: str = ""
    message: str = ""
    raw: bytes | None = None  # the body as it is (malformed answers)


@functools.cache
def _throwaway_key() -> Any:
    """An RSA key made on first use in this process (for the demo: at its start), never stored but in
    the fakes' temporary directories; one per process keeps a test's fake quick to start."""
    from cryptography.hazmat.primitives.asymmetric import rsa

    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _b64decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _api_error(status: int, message: str, reason: str, domain: str = "global") -> dict[str, Any]:
    return {
        "error": {
            "code": status,
            "message": message,
            "errors": [{"message": message, "domain": domain, "reason": reason}],
            "status": _STATUS.get(status, "UNKNOWN"),
        }
    }


def _served(value: Any, now: datetime) -> Any:
    if isinstance(value, Ago):
        return google_time(now - value.delta)
    if isinstance(value, dict):
        return {k: _served(v, now) for k, v in value.items()}
    if isinstance(value, list):
        return [_served(v, now) for v in value]
    return value


def _fields(spec: str) -> tuple[set[str], set[str] | None]:
    """``nextPageToken,users(id,primaryEmail)`` -> ({top-level names}, {users' names} or None: all)."""
    top: set[str] = set()
    inner: set[str] | None = None
    for m in re.finditer(r"([A-Za-z]+)(?:\(([^()]*)\))?", spec):
        top.add(m.group(1))
        if m.group(1) == "users" and m.group(2) is not None:
            inner = {f.strip().split("/")[0] for f in m.group(2).split(",") if f.strip()}
    return top, inner


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _send(self, status: int, body: Any, headers: Mapping[str, str] | None = None) -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("Content-Length") or 0)
        form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode(errors="replace")).items()}
        fake = self.server.fake
        path = urlsplit(self.path).path
        if path != TOKEN_PATH:
            fake.record("POST", "other", path, 404)
            self._send(404, _api_error(404, "Not Found", "notFound"))
            return
        status, body, headers = fake.token(form)
        fake.record("POST", "token", path, status)
        self._send(status, body, headers)

    def do_GET(self) -> None:  # noqa: N802
        fake = self.server.fake
        url = urlsplit(self.path)
        status, body, headers = fake.get(url.path, url.query, self.headers.get("Authorization", ""))
        fake.record("GET", "directory", url.path, status)
        self._send(status, body, headers)

    def _refuse(self) -> None:
        self.server.fake.record(self.command, "other", urlsplit(self.path).path, 405)
        self._send(405, _api_error(405, "Method not allowed: this fake is read-only", "methodNotAllowed"))

    do_PUT = do_PATCH = do_DELETE = _refuse


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeWorkspace


class FakeWorkspace:
    """The token endpoint and the Directory API on one TLS port: /token, /admin/directory/v1/..."""

    def __init__(
        self, domain: FakeDomain | None = None, *, page_size: int = 4, clock: Callable[[], datetime] | None = None
    ) -> None:
        self.domain = domain or demo_domain()
        self.page_size = page_size
        self.clock = clock or (lambda: datetime.now(UTC))
        self.requests: list[tuple[str, str, str, int]] = []
        self.token_requests = 0
        self._faults: list[_Fault] = []
        self._tokens: dict[str, tuple[str, frozenset[str]]] = {}  # access token -> (subject, scopes)
        self._lock = threading.Lock()
        self._dir: Path | None = None
        self._server: _Server | None = None
        self._public_key: Any = None
        self.ca_path = ""
        self.base = ""

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> FakeWorkspace:
        import trustme

        self._dir = Path(tempfile.mkdtemp(prefix="fake-googleworkspace-"))
        ca = trustme.CA()
        cert = ca.issue_cert("127.0.0.1", "localhost")
        self.ca_path = str(self._dir / "ca.pem")
        ca.cert_pem.write_to_path(self.ca_path)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        cert.configure_cert(context)
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.fake = self
        self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self.base = f"https://127.0.0.1:{self._server.server_address[1]}"
        self._write_key()
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-googleworkspace", daemon=True
        ).start()
        return self

    def _write_key(self) -> None:
        """A throwaway service-account key, made now and kept only in this fake's temporary directory."""
        from cryptography.hazmat.primitives import serialization

        assert self._dir is not None
        key = _throwaway_key()
        self._public_key = key.public_key()
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()
        info = {
            "type": "service_account",
            "project_id": "northwind-security",
            "private_key_id": secrets.token_hex(20),
            "private_key": pem,
            "client_email": self.domain.client_email,
            "client_id": self.domain.client_id,
            "auth_uri": "https://accounts.google.com/o/oauth2/auth",
            "token_uri": self.token_url,
        }
        path = self._dir / "service-account.json"
        path.touch(mode=0o600)
        path.write_text(json.dumps(info, indent=2), encoding="utf-8")

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    def __enter__(self) -> FakeWorkspace:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- configuration for the agent -------------------------------------------------------------

    @property
    def token_url(self) -> str:
        return self.base + TOKEN_PATH

    @property
    def key_path(self) -> Path:
        assert self._dir is not None, "start() first"
        return self._dir / "service-account.json"

    def source_config(self, name: str = "demo-googleworkspace", **extra: Any) -> dict[str, Any]:
        return {
            "name": name,
            "provider": "googleworkspace",
            "admin_email": f"admin@{self.domain.domain}",
            "credentials": f"file:{self.key_path}",
            "directory_url": self.base,
            "token_url": self.token_url,
            "ca_bundle": self.ca_path,
            **extra,
        }

    def source(self, **extra: Any) -> Any:
        from collectors.googleworkspace.config import WorkspaceSource

        return WorkspaceSource.model_validate(self.source_config(**extra))

    # -- faults and records ----------------------------------------------------------------------

    def fail(
        self,
        status: int,
        *,
        api: str = "directory",
        times: int = 1,
        retry_after: str | None = None,
        reason: str = "",
        message: str = "",
    ) -> None:
        """Answer ``status`` to the next ``times`` requests (-1: all) of ``api`` ("directory" or "token")."""
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        with self._lock:
            self._faults.append(_Fault(api, times, status, headers, reason, message))

    def answer_raw(self, body: bytes, *, status: int = 200, api: str = "directory", times: int = 1) -> None:
        """Answer these bytes, as they are, to the next ``times`` requests of ``api``."""
        with self._lock:
            self._faults.append(_Fault(api, times, status, {}, raw=body))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def _fault(self, api: str) -> tuple[int, Any, Mapping[str, str]] | None:
        with self._lock:
            for f in self._faults:
                if f.api == api and f.times != 0:
                    f.times -= 1 if f.times > 0 else 0
                    break
            else:
                return None
        if f.raw is not None:
            return f.status, f.raw, f.headers
        if api == "token":
            return f.status, {"error": f.reason or "internal_failure", "error_description": f.message}, f.headers
        reason = f.reason or ("rateLimitExceeded" if f.status == 429 else "backendError")
        domain = "usageLimits" if "imit" in reason or f.status == 429 else "global"
        return f.status, _api_error(f.status, f.message or f"fake fault {f.status}", reason, domain), f.headers

    def record(self, method: str, api: str, path: str, status: int) -> None:
        with self._lock:
            self.requests.append((method, api, path, status))

    def calls(self, api: str | None = None) -> list[tuple[str, str, str, int]]:
        with self._lock:
            return [r for r in self.requests if api is None or r[1] == api]

    # -- the token endpoint ----------------------------------------------------------------------

    def _verify(self, jwt: str) -> tuple[dict[str, Any] | None, str]:
        """(claims, "") of a well-signed assertion, or (None, why)."""
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        parts = jwt.split(".")
        if len(parts) != 3:
            return None, "Invalid JWT: it must have three parts."
        try:
            header = json.loads(_b64decode(parts[0]))
            claims = json.loads(_b64decode(parts[1]))
            signature = _b64decode(parts[2])
        except ValueError:
            return None, "Invalid JWT: the header or claims are not base64url JSON."
        if not isinstance(header, dict) or not isinstance(claims, dict) or header.get("alg") != "RS256":
            return None, "Invalid JWT: the header must name alg RS256."
        if claims.get("iss") != self.domain.client_email:
            return None, "Invalid grant: account not found"
        try:
            self._public_key.verify(signature, f"{parts[0]}.{parts[1]}".encode(), padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            return None, "Invalid JWT Signature."
        return claims, ""

    def token(self, form: Mapping[str, str]) -> tuple[int, Any, Mapping[str, str]]:
        with self._lock:
            self.token_requests += 1
        fault = self._fault("token")
        if fault is not None:
            return fault
        if form.get("grant_type") != GRANT_TYPE:
            return 400, {"error": "unsupported_grant_type", "error_description": "Invalid grant_type: "}, {}
        claims, why = self._verify(form.get("assertion", ""))
        if claims is None:
            return 400, {"error": "invalid_grant", "error_description": why}, {}
        now = time.time()
        iat, exp = claims.get("iat"), claims.get("exp")
        if claims.get("aud") != self.token_url:
            return 400, {"error": "invalid_grant", "error_description": "Invalid JWT: Failed audience check."}, {}
        if not isinstance(iat, int) or not isinstance(exp, int) or exp - iat > 3600 or exp < now or iat > now + 300:
            return (
                400,
                {
                    "error": "invalid_grant",
                    "error_description": "Invalid JWT: Token must be a short-lived token (60 minutes) and in a "
                    "reasonable timeframe. Check your iat and exp values in the JWT claim.",
                },
                {},
            )
        scopes = frozenset(str(claims.get("scope") or "").split())
        if not scopes or not scopes <= self.domain.delegated_scopes:
            return 401, {"error": "unauthorized_client", "error_description": _UNAUTHORIZED_CLIENT}, {}
        subject = str(claims.get("sub") or "")
        if not any(u.get("primaryEmail", "").lower() == subject.lower() for u in self.domain.users):
            return 400, {"error": "invalid_grant", "error_description": "Invalid email or User ID"}, {}
        token = "ya29.fake-" + secrets.token_urlsafe(24)
        with self._lock:
            self._tokens[token] = (subject.lower(), scopes)
        return 200, {"access_token": token, "expires_in": 3599, "token_type": "Bearer"}, {}

    # -- the Directory API -----------------------------------------------------------------------

    def _subject_is_admin(self, subject: str) -> bool:
        for u in self.domain.users:
            if str(u.get("primaryEmail", "")).lower() == subject:
                return bool(u.get("isAdmin") or u.get("isDelegatedAdmin")) and not u.get("suspended")
        return False

    def get(self, path: str, raw_query: str, auth: str) -> tuple[int, Any, Mapping[str, str]]:
        with self._lock:
            grant = self._tokens.get(auth.removeprefix("Bearer ").strip())
        if grant is None:
            return 401, _api_error(401, "Request had invalid authentication credentials.", "authError"), {}
        subject, scopes = grant
        if path != USERS_PATH:
            return 404, _api_error(404, "Not Found", "notFound"), {}
        if not scopes & set(_USER_SCOPES):
            return (
                403,
                _api_error(403, "Request had insufficient authentication scopes.", "insufficientPermissions"),
                {},
            )
        if not self._subject_is_admin(subject):
            return 403, _api_error(403, "Not Authorized to access this resource/api", "forbidden"), {}
        fault = self._fault("directory")
        if fault is not None:
            return fault
        query = {k: v[0] for k, v in parse_qs(raw_query).items()}
        return self._users(query)

    def _users(self, query: Mapping[str, str]) -> tuple[int, Any, Mapping[str, str]]:
        d = self.domain
        customer, domain = query.get("customer"), query.get("domain")
        if not customer and not domain:
            return 400, _api_error(400, "Bad Request", "badRequest"), {}
        if customer and customer not in ("my_customer", d.customer_id):
            return 400, _api_error(400, "Bad Request", "badRequest"), {}
        if domain and domain.lower() != d.domain:
            return 400, _api_error(400, "Domain not found.", "notFound"), {}
        try:
            wanted = int(query.get("maxResults", "100"))
        except ValueError:
            wanted = 0
        if not 1 <= wanted <= 500:
            message = f"Invalid value '{query.get('maxResults')}'. Values must be within the range: [1, 500]"
            return 400, _api_error(400, message, "invalid"), {}
        start = 0
        if "pageToken" in query:
            try:
                start = int(_b64decode(query["pageToken"]).decode().removeprefix("offset:"))
            except ValueError:
                return 400, _api_error(400, "Invalid Input: pageToken", "invalid"), {}
        size = min(wanted, self.page_size)
        with self._lock:
            users = list(d.users)
        page = _served(users[start : start + size], self.clock())
        body: dict[str, Any] = {"kind": "admin#directory#users", "etag": '"fake-etag"', "users": page}
        if start + size < len(users):
            body["nextPageToken"] = base64.urlsafe_b64encode(f"offset:{start + size}".encode()).decode().rstrip("=")
        if query.get("fields"):
            top, inner = _fields(query["fields"])
            body = {k: v for k, v in body.items() if k in top}
            if inner is not None and "users" in body:
                body["users"] = [{k: v for k, v in u.items() if k in inner} for u in body["users"]]
        return 200, body, {}

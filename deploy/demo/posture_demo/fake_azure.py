"""A fake Azure tenant on loopback: Entra ID login, Microsoft Graph and ARM over TLS (CA by trustme).

Used by the demo and by the integration tests. It speaks the wire protocols the agent uses
(OpenID discovery + OAuth2 client-credentials token endpoint, Graph ``@odata.nextLink`` paging,
ARM ``nextLink`` paging) and can inject faults: 429 with Retry-After, 403 on a path. Tokens are
per API (a Graph token is refused by ARM and the other way round), as in Azure. Observations (recent
sign-ins, a report's refresh time, a restore window, a trial's remaining time) tick between requests
as in Azure: the data holds them as ``Tick``/``Countdown``, filled in by ``clock`` when served.

    fake = FakeAzure(demo_tenant()); fake.start()
    azure_source, intune_source = fake.sources()
    ...
    fake.stop()
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
import ssl
import tempfile
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from posture_demo.azure_ids import DEMO_CLIENT_ID, DEMO_SUBSCRIPTION, DEMO_TENANT, iso

__all__ = [
    "DEMO_CLIENT_ID",
    "DEMO_SUBSCRIPTION",
    "DEMO_TENANT",
    "Countdown",
    "FakeAzure",
    "FakeTenant",
    "Tick",
    "demo_tenant",
]


@dataclass(frozen=True)
class Tick:
    """A time the service refreshes on its own: served as the moment of the request + ``offset``."""

    offset: timedelta


@dataclass(frozen=True)
class Countdown:
    """The ISO 8601 duration left until ``end`` at the moment of the request (a free trial)."""

    end: datetime


def _duration(left: timedelta) -> str:
    s = max(int(left.total_seconds()), 0)
    d, s = divmod(s, 86400)
    h, s = divmod(s, 3600)
    m, s = divmod(s, 60)
    clock = "".join(f"{v}{u}" for v, u in ((h, "H"), (m, "M"), (s, "S")) if v)
    if not (d or clock):
        return "PT0S"
    return "P" + (f"{d}D" if d else "") + (f"T{clock}" if clock else "")


def _served(value: Any, now: datetime) -> Any:
    """``value`` as answered at ``now``: its Tick and Countdown leaves filled in, the rest as stored."""
    if isinstance(value, Tick):
        return iso(now + value.offset)
    if isinstance(value, Countdown):
        return _duration(value.end - now)
    if isinstance(value, dict):
        return {k: _served(v, now) for k, v in value.items()}
    if isinstance(value, list):
        return [_served(v, now) for v in value]
    return value


@dataclass
class FakeTenant:
    """What the fake serves. ``graph`` and ``arm`` map a path to a list (paged) or an object, whose
    Tick and Countdown values are filled in per request."""

    tenant_id: str = DEMO_TENANT
    client_id: str = DEMO_CLIENT_ID
    client_secret: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    graph: dict[str, Any] = field(default_factory=dict)
    arm: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Fault:
    api: str
    pattern: re.Pattern[str]
    status: int
    times: int  # -1: always
    headers: Mapping[str, str]
    query: str = ""
    code: str = ""  # the error code to answer; default by status and API
    message: str = ""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _send(self, status: int, body: Any, headers: Mapping[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("Content-Length") or 0)
        form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
        fake = self.server.fake
        path = urlsplit(self.path).path
        fake.record("POST", "login", path, 0)
        if path != f"/{fake.tenant.tenant_id}/oauth2/v2.0/token":
            self._send(405, {"error": "invalid_request", "error_description": "method not allowed here"})
            return
        self._send(*fake.token(form))

    def do_GET(self) -> None:  # noqa: N802
        self._send(*self.server.fake.get(self.path, self.headers.get("Authorization", "")))

    def _refuse(self) -> None:
        self.server.fake.record(self.command, "other", urlsplit(self.path).path, 405)
        self._send(405, {"error": {"code": "MethodNotAllowed", "message": "read-only fake"}})

    do_PUT = do_PATCH = do_DELETE = _refuse


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeAzure


class FakeAzure:
    """Login + Graph + ARM on one TLS port: /{tenant}/..., /graph/..., /arm/..."""

    def __init__(
        self, tenant: FakeTenant | None = None, *, page_size: int = 2, clock: Callable[[], datetime] | None = None
    ) -> None:
        self.tenant = tenant or demo_tenant()
        self.page_size = page_size
        self.clock = clock or (lambda: datetime.now(UTC))  # the moment a request is answered
        self.requests: list[tuple[str, str, str, int]] = []
        self.token_requests = 0
        self._faults: list[_Fault] = []
        self._tokens: dict[str, str] = {}
        self._lock = threading.Lock()
        self._dir: Path | None = None
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.ca_path = ""
        self.base = ""

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> FakeAzure:
        import trustme

        self._dir = Path(tempfile.mkdtemp(prefix="fake-azure-"))
        ca = trustme.CA()
        cert = ca.issue_cert("127.0.0.1", "localhost")
        self.ca_path = str(self._dir / "ca.pem")
        ca.cert_pem.write_to_path(self.ca_path)
        secret_file = self._dir / "client-secret"
        secret_file.write_text(self.tenant.client_secret, encoding="utf-8")
        secret_file.chmod(0o600)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        cert.configure_cert(context)
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.fake = self
        self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self.base = f"https://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-azure", daemon=True)
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

    def __enter__(self) -> FakeAzure:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- configuration for the agent -------------------------------------------------------------

    @property
    def secret_ref(self) -> str:
        assert self._dir is not None, "start() first"
        return f"file:{self._dir / 'client-secret'}"

    def credentials(self) -> dict[str, Any]:
        """The AzureCredentials fields (as config data) that reach this fake."""
        return {
            "tenant_id": self.tenant.tenant_id,
            "auth": "client_secret",
            "client_id": self.tenant.client_id,
            "client_secret": self.secret_ref,
            "authority": self.base,
            "graph_url": f"{self.base}/graph",
            "arm_url": f"{self.base}/arm",
            "ca_bundle": self.ca_path,
        }

    def source_config(self, name: str = "demo-azure", **extra: Any) -> dict[str, Any]:
        return {"name": name, "provider": "azure", **self.credentials(), **extra}

    def intune_config(self, name: str = "demo-intune", **extra: Any) -> dict[str, Any]:
        return {"name": name, "provider": "endpoints", "kind": "intune", "azure": self.credentials(), **extra}

    def sources(self) -> tuple[Any, Any]:
        """(AzureSource, EndpointSource kind intune) for this fake tenant."""
        from collectors.azure.config import AzureSource
        from collectors.endpoints.config import EndpointSource

        return (
            AzureSource.model_validate(self.source_config()),
            EndpointSource.model_validate(self.intune_config()),
        )

    # -- faults ----------------------------------------------------------------------------------

    def fail(
        self,
        api: str,
        path_regex: str,
        status: int,
        *,
        times: int = 1,
        retry_after: str | None = None,
        query: str = "",
        code: str = "",
        message: str = "",
    ) -> None:
        """Answer ``status`` to the next ``times`` GETs (-1: all) of matching paths (query substring),
        with ``code``/``message`` as the error (e.g. a licence error: a tenant without Entra ID P1)."""
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        with self._lock:
            self._faults.append(
                _Fault(api, re.compile(path_regex, re.IGNORECASE), status, times, headers, query, code, message)
            )

    def record(self, method: str, api: str, path: str, status: int) -> None:
        with self._lock:
            self.requests.append((method, api, path, status))

    def calls(self, api: str | None = None, path_regex: str = "") -> list[tuple[str, str, str, int]]:
        with self._lock:
            found = list(self.requests)
        pat = re.compile(path_regex, re.IGNORECASE)
        return [r for r in found if (api is None or r[1] == api) and pat.search(r[2])]

    # -- protocol --------------------------------------------------------------------------------

    def token(self, form: Mapping[str, str]) -> tuple[int, Any]:
        t = self.tenant
        self.token_requests += 1
        ok_secret = form.get("client_secret") == t.client_secret
        ok_assertion = form.get("client_assertion_type", "").endswith("jwt-bearer") and form.get("client_assertion")
        if form.get("client_id") != t.client_id or not (ok_secret or ok_assertion):
            return 401, {
                "error": "invalid_client",
                "error_description": "AADSTS7000215: Invalid client secret provided.",
            }
        scope = form.get("scope", "")
        api = "graph" if "/graph/" in scope else "arm" if "/arm/" in scope else ""
        if not api:
            return 400, {"error": "invalid_scope", "error_description": f"AADSTS70011: unknown scope {scope}"}
        token = f"fake-{api}-{secrets.token_hex(8)}"
        with self._lock:
            self._tokens[token] = api
        return 200, {
            "token_type": "Bearer",
            "expires_in": 3600,
            "ext_expires_in": 3600,
            "access_token": token,
        }

    def _discovery(self, path: str) -> tuple[int, Any]:
        t = f"{self.base}/{self.tenant.tenant_id}"
        if path != f"/{self.tenant.tenant_id}/v2.0/.well-known/openid-configuration":
            return 404, {"error": "invalid_tenant", "error_description": "AADSTS90002: tenant not found"}
        return 200, {
            "token_endpoint": f"{t}/oauth2/v2.0/token",
            "issuer": f"{t}/v2.0",
            "authorization_endpoint": f"{t}/oauth2/v2.0/authorize",
            "device_authorization_endpoint": f"{t}/oauth2/v2.0/devicecode",
            "jwks_uri": f"{t}/discovery/v2.0/keys",
            "response_types_supported": ["code", "id_token", "token"],
        }

    def get(self, raw: str, auth: str) -> tuple[int, Any, Mapping[str, str]]:
        url = urlsplit(raw)
        path = url.path
        if not path.startswith(("/graph/", "/arm/")):
            status, body = self._discovery(path)
            self.record("GET", "login", path, status)
            return status, body, {}
        api, _, rel = path[1:].partition("/")
        rel = "/" + rel
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        status, body, headers = self._answer(api, rel, query, url.query, auth)
        self.record("GET", api, rel, status)
        return status, body, headers

    def _answer(
        self, api: str, rel: str, query: dict[str, str], raw_query: str, auth: str
    ) -> tuple[int, Any, Mapping[str, str]]:
        token = auth.removeprefix("Bearer ").strip()
        with self._lock:
            token_api = self._tokens.get(token)
        if token_api != api:
            return (
                401,
                {
                    "error": {
                        "code": "InvalidAuthenticationToken",
                        "message": "Access token is missing or is for another audience.",
                    }
                },
                {},
            )
        with self._lock:
            for f in self._faults:
                if f.api == api and f.pattern.search(rel) and f.query in raw_query and f.times != 0:
                    f.times -= 1 if f.times > 0 else 0
                    code = f.code or (
                        "TooManyRequests"
                        if f.status == 429
                        else ("Authorization_RequestDenied" if api == "graph" else "AuthorizationFailed")
                    )
                    message = f.message or f"fake fault {f.status}"
                    return f.status, {"error": {"code": code, "message": message}}, f.headers
        store = self.tenant.graph if api == "graph" else self.tenant.arm
        item = next((v for k, v in store.items() if k.lower() == rel.lower()), None)
        if item is None:
            code = "Request_ResourceNotFound" if api == "graph" else "ResourceNotFound"
            return 404, {"error": {"code": code, "message": f"{rel} not found"}}, {}
        now = self.clock()
        if not isinstance(item, list):
            return 200, _served(item, now), {}
        skip_key = "$skiptoken" if api == "graph" else "$skipToken"
        start = int(query.pop(skip_key, "0") or 0)
        page = item[start : start + self.page_size]
        body: dict[str, Any] = {"value": _served(page, now)}
        if start + self.page_size < len(item):
            nxt = f"{self.base}/{api}{rel}?" + urlencode({**query, skip_key: str(start + self.page_size)})
            body["@odata.nextLink" if api == "graph" else "nextLink"] = nxt
        return 200, body, {}


# -- the demo tenant -------------------------------------------------------------------------------


def demo_tenant(now: datetime | None = None) -> FakeTenant:
    """A small tenant with typical gaps: users without MFA, a global admin without MFA, a guest,
    an unused account, public blob access, RDP open to the internet, an unprotected laptop.
    The data lives in azure_entra_data, azure_intune_data and azure_arm_data; ``now`` anchors the
    times that stay fixed (creation, an old sign-in), not the ones that tick."""
    from posture_demo.azure_arm_data import arm_paths
    from posture_demo.azure_entra_data import entra_graph
    from posture_demo.azure_intune_data import intune_graph

    now = now or datetime.now(UTC)
    return FakeTenant(tenant_id=DEMO_TENANT, graph={**entra_graph(now), **intune_graph(now)}, arm=arm_paths(now))

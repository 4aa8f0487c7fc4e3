"""Devices for the demo and the tests: a fake Fleet server and a signing push client.

``FakeFleet(hosts).start()`` serves ``GET /api/v1/fleet/hosts`` (page/per_page paging, policies
with ``populate_policies=true``, no disk encryption: as Fleet's listing) and
``GET /api/v1/fleet/hosts/{id}`` on a loopback port, checks the bearer token, and can answer 429
with Retry-After (``throttle``). A host time held as a ``timedelta`` (a host that keeps checking in)
is served that long before each request, so it ticks between polls as in Fleet; a fixed string (a
silent host) ages. ``push_report`` signs a report exactly as deploy/endpoint/ scripts do and POSTs it
to an agent. ``demo_hosts()`` is six laptops, one per shape the checks must catch.
"""

from __future__ import annotations

import json
import os
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from agent.push import PATH, sign

__all__ = ["FakeFleet", "demo_hosts", "push_report", "source_configs", "ssm_source_config", "start", "stop"]

TOKEN_ENV = "POSTURE_DEMO_FLEET_TOKEN"
AV_POLICY = "Antivirus running"
FW_POLICY = "Firewall enabled"
EDR_POLICY = "CrowdStrike sensor running"
POLICIES = {"antivirus": AV_POLICY, "firewall": FW_POLICY, "edr": EDR_POLICY}


def _stamp(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def _ago(days: float) -> str:
    return _stamp(datetime.now(UTC) - timedelta(days=days))


def demo_hosts() -> list[dict[str, Any]]:
    """Fleet hosts as GET /api/v1/fleet/hosts/{id} returns them, one per shape the checks must catch:

    alice-mbp, bob-thinkpad healthy; carol-xps without antivirus, disk encryption, firewall or a running
    EDR sensor; dave-mbp
    silent for 12 days (fails checked_in); erin-mbp checking in hourly while its policy results are 15
    days old (its passes cannot vouch for today); frank-win not enrolled in MDM.

    Times of hosts seen within a day tick; dave-mbp's times and erin-mbp's policy time are fixed.
    """

    def host(
        i: int,
        name: str,
        platform: str,
        os_version: str,
        *,
        av: bool,
        disk: bool,
        fw: bool = True,
        seen: float = 0.1,
        policies_age: float | None = None,
        mdm: str | None = "On (automatic)",
        edr: bool = True,
    ) -> dict[str, Any]:
        seen_at: str | timedelta = timedelta(days=seen) if seen < 1 else _ago(seen)
        checked = seen_at if policies_age is None else _ago(policies_age)
        results = [(1, AV_POLICY, av), (2, FW_POLICY, fw), (3, EDR_POLICY, edr)]
        return {
            "id": i,
            "hostname": name,
            "display_name": name,
            "platform": platform,
            "os_version": os_version,
            "hardware_serial": f"SN{i:05d}",
            "seen_time": seen_at,
            "status": "online",
            "policy_updated_at": checked,
            "detail_updated_at": seen_at,
            "disk_encryption_enabled": disk,
            "issues": {
                "failing_policies_count": sum(1 for *_, ok in results if not ok),
                "total_issues_count": sum(1 for *_, ok in results if not ok),
            },
            "mdm": {
                "enrollment_status": mdm,
                "name": "Fleet" if mdm else "",
                "server_url": None,
                "encryption_key_available": False,
            },
            "policies": [
                {"id": pid, "name": pname, "response": "pass" if ok else "fail", "critical": False}
                for pid, pname, ok in results
            ],
        }

    return [
        host(1, "alice-mbp", "darwin", "macOS 14.5", av=True, disk=True),
        host(2, "bob-thinkpad", "windows", "Windows 11 Pro 23H2", av=True, disk=True, mdm="On (manual)"),
        host(3, "carol-xps", "ubuntu", "Ubuntu 24.04 LTS", av=False, disk=False, fw=False, mdm=None, edr=False),
        host(4, "dave-mbp", "darwin", "macOS 14.4", av=True, disk=True, seen=12),
        host(5, "erin-mbp", "darwin", "macOS 14.5", av=True, disk=True, policies_age=15),
        host(6, "frank-win", "windows", "Windows 11 Pro 23H2", av=True, disk=True, mdm="Off"),
    ]


class FakeFleet:
    def __init__(
        self,
        hosts: Iterable[Mapping[str, Any]],
        *,
        token: str = "demo-fleet-token",
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.hosts = [dict(h) for h in hosts]
        self.token = token
        self.clock = clock or (lambda: datetime.now(UTC))  # the moment a request is answered
        self.throttle: list[float] = []  # Retry-After seconds for the next requests, one 429 each
        self.requests: list[tuple[str, float]] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    def answer(self, path: str, auth: str) -> tuple[int, dict[str, Any], dict[str, str]]:
        with self._lock:
            self.requests.append((path, time.monotonic()))
            if self.throttle:
                wait = self.throttle.pop(0)
                return 429, {"message": "rate limited"}, {"Retry-After": f"{wait:g}"}
        if auth != f"Bearer {self.token}":
            return 401, {"message": "Authentication required", "errors": [{"name": "base", "reason": "bad token"}]}, {}
        parts = urlsplit(path)
        q = parse_qs(parts.query)
        now = self.clock()
        # A time held as a timedelta is that long before this request (a host that keeps checking in).
        hosts = [{k: _stamp(now - v) if isinstance(v, timedelta) else v for k, v in h.items()} for h in self.hosts]
        if parts.path == "/api/v1/fleet/hosts":
            page, per_page = int(q.get("page", ["0"])[0]), int(q.get("per_page", ["100"])[0])
            chunk = hosts[page * per_page : (page + 1) * per_page]
            # As Fleet documents: no disk_encryption_enabled in the listing, policies only on request.
            hidden = {"disk_encryption_enabled"} | (set() if q.get("populate_policies") == ["true"] else {"policies"})
            summary = [{k: v for k, v in h.items() if k not in hidden} for h in chunk]
            more = (page + 1) * per_page < len(hosts)
            return 200, {"hosts": summary, "meta": {"has_next_results": more, "has_previous_results": page > 0}}, {}
        if parts.path.startswith("/api/v1/fleet/hosts/"):
            ident = parts.path.rsplit("/", 1)[-1]
            for h in hosts:
                if str(h["id"]) == ident:
                    return 200, {"host": h}, {}
            return 404, {"message": "Resource Not Found"}, {}
        return 404, {"message": "Resource Not Found"}, {}

    def start(self) -> str:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                status, body, headers = fake.answer(self.path, self.headers.get("Authorization", ""))
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, name="fake-fleet", daemon=True).start()
        return self.url

    @property
    def url(self) -> str:
        assert self._server is not None, "not started"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


def push_report(
    agent_url: str,
    key: str,
    report: Mapping[str, Any],
    *,
    source: str | None = None,
    timestamp: int | None = None,
    nonce: str | None = None,
    body: bytes | None = None,
) -> httpx.Response:
    """Sign and POST one device report (the Python twin of deploy/endpoint/posture-report.sh)."""
    data = body if body is not None else json.dumps(report).encode()
    ts = str(int(time.time()) if timestamp is None else timestamp)
    nonce = nonce or secrets.token_hex(16)
    device = str(report.get("device_id", ""))
    headers = {
        "Content-Type": "application/json",
        "X-Posture-Device": device,
        "X-Posture-Timestamp": ts,
        "X-Posture-Nonce": nonce,
        "X-Posture-Signature": sign(key, ts, nonce, device, data),
    }
    if source:
        headers["X-Posture-Source"] = source
    return httpx.post(agent_url.rstrip("/") + PATH, content=data, headers=headers, timeout=10)


_demo: FakeFleet | None = None


def start() -> str:
    """Start the demo's fake Fleet server (and set its token variable); returns its URL."""
    global _demo
    if _demo is None:
        _demo = FakeFleet(demo_hosts())
        _demo.start()
        os.environ[TOKEN_ENV] = _demo.token
    return _demo.url


def stop() -> None:
    global _demo
    if _demo is not None:
        _demo.stop()
        _demo = None


def source_configs(url: str | None = None) -> list[dict[str, Any]]:
    """Endpoint sources to add to the demo Config's ``sources`` (call start() first)."""
    return [
        {
            "name": "demo-fleet",
            "provider": "endpoints",
            "kind": "fleet",
            "schedule": {"interval": "1h"},
            "fleet": {"url": url or start(), "token": f"env:{TOKEN_ENV}", "policies": dict(POLICIES)},
        }
    ]


def ssm_source_config(endpoint: str, regions: Iterable[str] = ("us-east-1", "eu-west-1")) -> dict[str, Any]:
    """The demo organisation's servers through SSM (the AwsProxy at ``endpoint`` must be built with
    ``DemoOrg.proxy_fixtures()`` so it serves their inventory and Patch Manager states)."""
    return {
        "name": "demo-servers",
        "provider": "endpoints",
        "kind": "ssm",
        "schedule": {"interval": "1h"},
        "ssm": {
            "regions": list(regions),
            "organization": True,
            "role_name": "OrganizationAccountAccessRole",
            "endpoint_url": endpoint,
        },
    }

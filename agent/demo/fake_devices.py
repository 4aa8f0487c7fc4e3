"""Devices for the demo and the tests: a fake Fleet server and a signing push client.

``FakeFleet(hosts).start()`` serves ``GET /api/v1/fleet/hosts`` (page/per_page paging) and
``GET /api/v1/fleet/hosts/{id}`` on a loopback port, checks the bearer token, and can answer 429
with Retry-After (``throttle``). ``push_report`` signs a report exactly as deploy/endpoint/ scripts
do and POSTs it to an agent. ``demo_hosts()`` is four laptops, one of them without antivirus.
"""

from __future__ import annotations

import json
import os
import secrets
import threading
import time
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from agent.push import PATH, sign

__all__ = ["FakeFleet", "demo_hosts", "push_report", "source_configs", "start", "stop"]

TOKEN_ENV = "POSTURE_DEMO_FLEET_TOKEN"
AV_POLICY = "Antivirus running"
FW_POLICY = "Firewall enabled"


def _ago(days: float) -> str:
    return (datetime.now(UTC) - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


def demo_hosts() -> list[dict[str, Any]]:
    """Fleet host details: three healthy laptops and one without antivirus or disk encryption."""
    def host(i: int, name: str, platform: str, os_version: str, *, av: bool, disk: bool, fw: bool = True,
             seen: float = 0.1) -> dict[str, Any]:
        return {"id": i, "hostname": name, "display_name": name, "platform": platform, "os_version": os_version,
                "hardware_serial": f"SN{i:05d}", "seen_time": _ago(seen), "status": "online",
                "disk_encryption_enabled": disk,
                "policies": [{"id": 1, "name": AV_POLICY, "response": "pass" if av else "fail"},
                             {"id": 2, "name": FW_POLICY, "response": "pass" if fw else "fail"}]}
    return [
        host(1, "alice-mbp", "darwin", "macOS 14.5", av=True, disk=True),
        host(2, "bob-thinkpad", "windows", "Windows 11 Pro 23H2", av=True, disk=True),
        host(3, "carol-xps", "ubuntu", "Ubuntu 24.04 LTS", av=False, disk=False, fw=False),
        host(4, "dave-mbp", "darwin", "macOS 14.4", av=True, disk=True, seen=12),
    ]


class FakeFleet:
    def __init__(self, hosts: Iterable[Mapping[str, Any]], *, token: str = "demo-fleet-token") -> None:
        self.hosts = [dict(h) for h in hosts]
        self.token = token
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
        if parts.path == "/api/v1/fleet/hosts":
            page, per_page = int(q.get("page", ["0"])[0]), int(q.get("per_page", ["100"])[0])
            chunk = self.hosts[page * per_page:(page + 1) * per_page]
            summary = [{k: v for k, v in h.items() if k not in ("policies", "disk_encryption_enabled")}
                       for h in chunk]
            return 200, {"hosts": summary}, {}
        if parts.path.startswith("/api/v1/fleet/hosts/"):
            ident = parts.path.rsplit("/", 1)[-1]
            for h in self.hosts:
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


def push_report(agent_url: str, key: str, report: Mapping[str, Any], *, source: str | None = None,
                timestamp: int | None = None, nonce: str | None = None,
                body: bytes | None = None) -> httpx.Response:
    """Sign and POST one device report (the Python twin of deploy/endpoint/posture-report.sh)."""
    data = body if body is not None else json.dumps(report).encode()
    ts = str(int(time.time()) if timestamp is None else timestamp)
    nonce = nonce or secrets.token_hex(16)
    device = str(report.get("device_id", ""))
    headers = {"Content-Type": "application/json", "X-Posture-Device": device, "X-Posture-Timestamp": ts,
               "X-Posture-Nonce": nonce, "X-Posture-Signature": sign(key, ts, nonce, device, data)}
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
    return [{"name": "demo-fleet", "provider": "endpoints", "kind": "fleet", "schedule": {"interval": "1h"},
             "fleet": {"url": url or start(), "token": f"env:{TOKEN_ENV}",
                       "policies": {"antivirus": AV_POLICY, "firewall": FW_POLICY}}}]

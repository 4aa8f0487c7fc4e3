"""The agent's one HTTP port: /metrics, /healthz (process alive), /readyz (store reachable and
every source collected within twice its interval)."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import CollectorRegistry
from prometheus_client.exposition import choose_encoder

__all__ = ["AgentHTTPServer"]

log = logging.getLogger("agent.http")

Readiness = Callable[[], tuple[bool, dict[str, Any]]]
Route = Callable[[BaseHTTPRequestHandler], None]


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # route access logs to debug
        log.debug("http %s", format % args)

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, obj: Any) -> None:
        self._send(status, json.dumps(obj, default=str).encode(), "application/json")

    def do_HEAD(self) -> None:
        self.do_GET()

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/metrics":
            encoder, content_type = choose_encoder(self.headers.get("Accept", ""))
            self._send(200, encoder(self.server.registry), content_type)
        elif path == "/healthz":
            self._json(200, {"status": "ok"})
        elif path == "/readyz":
            ready, detail = self.server.readiness()
            self._json(200 if ready else 503, {"status": "ready" if ready else "not ready", **detail})
        elif ("GET", path) in self.server.routes:
            self.server.routes[("GET", path)](self)
        else:
            self._json(404, {"error": f"no such path: {path}"})

    def do_POST(self) -> None:
        path = self.path.split("?", 1)[0]
        route = self.server.routes.get(("POST", path))
        if route is None:
            self._json(404, {"error": f"no such path: {path}"})
        else:
            route(self)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    registry: CollectorRegistry
    readiness: Readiness
    routes: dict[tuple[str, str], Route]


class AgentHTTPServer:
    def __init__(self, host: str, port: int, registry: CollectorRegistry, readiness: Readiness) -> None:
        self._server = _Server((host, port), _Handler)
        self._server.registry = registry
        self._server.readiness = readiness
        self._server.routes = {}
        self._thread: threading.Thread | None = None

    @property
    def address(self) -> tuple[str, int]:
        host, port = self._server.server_address[:2]
        return str(host), int(port)

    def add_route(self, method: str, path: str, handler: Route) -> None:
        """Extra endpoints (e.g. device push ingest) plug in here."""
        self._server.routes[(method.upper(), path)] = handler

    def start(self) -> None:
        self._thread = threading.Thread(target=self._server.serve_forever, name="http", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

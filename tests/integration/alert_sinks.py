"""Local HTTP receivers for alert tests: a Slack incoming-webhook look-alike and a webhook
receiver that verifies signatures. Real servers on 127.0.0.1, scripted per request."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from agent.alerts.webhook import verify_signature


@dataclass
class Reply:
    status: int
    body: str
    headers: dict[str, str] = field(default_factory=dict)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    sink: Sink


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        reply = self.server.sink.handle(self.path, dict(self.headers.items()), body)
        data = reply.body.encode()
        self.send_response(reply.status)
        for k, v in reply.headers.items():
            self.send_header(k, v)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class Sink:
    """Accepts POSTs; ``script`` replies are used first (in order), then ``default``."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []  # accepted messages only
        self.attempts = 0
        self.script: list[Reply] = []
        self.down = False  # answer every request with 500 while set
        self._lock = threading.Lock()
        self._server: _Server | None = None

    def validate(self, headers: dict[str, str], body: bytes) -> tuple[Reply | None, Any]:
        raise NotImplementedError

    def handle(self, path: str, headers: dict[str, str], body: bytes) -> Reply:
        with self._lock:
            self.attempts += 1
            if self.down:
                return Reply(500, "internal_error")
            if self.script:
                return self.script.pop(0)
            bad, doc = self.validate(headers, body)
            if bad is not None:
                return bad
            self.received.append(doc)
            return Reply(200, "ok")

    @contextmanager
    def serve(self) -> Iterator[str]:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.sink = self
        t = threading.Thread(target=self._server.serve_forever, daemon=True)
        t.start()
        try:
            yield f"http://127.0.0.1:{self._server.server_address[1]}/services/T000/B000/XXXX"
        finally:
            self._server.shutdown()
            self._server.server_close()


class SlackSink(Sink):
    """Slack's incoming-webhook protocol: 200 "ok"; 400 invalid_payload / no_text."""

    def validate(self, headers: dict[str, str], body: bytes) -> tuple[Reply | None, Any]:
        try:
            doc = json.loads(body)
        except ValueError:
            return Reply(400, "invalid_payload"), None
        if not isinstance(doc, dict):
            return Reply(400, "invalid_payload"), None
        if not doc.get("text") and not doc.get("blocks"):
            return Reply(400, "no_text"), None
        blocks = doc.get("blocks", [])
        if not isinstance(blocks, list) or len(blocks) > 50 or any("type" not in b for b in blocks):
            return Reply(400, "invalid_blocks"), None
        return None, doc


class WebhookSink(Sink):
    """A receiver that refuses anything not signed with ``secret`` (401)."""

    def __init__(self, secret: str) -> None:
        super().__init__()
        self.secret = secret

    def validate(self, headers: dict[str, str], body: bytes) -> tuple[Reply | None, Any]:
        h = {k.lower(): v for k, v in headers.items()}
        if not verify_signature(self.secret, body, h.get("x-posture-timestamp"), h.get("x-posture-signature")):
            return Reply(401, "bad signature"), None
        doc = json.loads(body)
        doc["_headers"] = h
        return None, doc

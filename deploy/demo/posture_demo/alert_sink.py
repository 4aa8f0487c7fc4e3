"""The demo's alert receiver: a webhook endpoint on loopback that the demo's agent delivers its alerts to.

It does what a receiver of posture-agent's webhooks should (agent/alerts/webhook.py): it refuses a
delivery whose X-Posture-Signature does not verify with the channel's secret (401), and takes a retried
delivery (the same X-Posture-Delivery) once. Each alert it accepts is printed as one line and appended
to a JSON-lines file, so `posture-agent alerts pending` (the outbox) and the delivery can be followed.
"""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from agent.alerts.webhook import verify_signature

__all__ = ["DEMO_CHANNEL", "AlertSink", "summary"]

DEMO_CHANNEL = "demo-sink"
PATH = "/posture-alerts"


def summary(alert: dict[str, Any]) -> str:
    """One line for a received alert: severity, title, and the resource or the digest's size."""
    kind = str(alert.get("kind", ""))
    what = str(alert.get("resource_id") or "")
    if kind == "digest":
        what = f"{alert.get('total', 0)} alerts in one message"
    where = " ".join(str(alert[k]) for k in ("source", "account") if alert.get(k))
    tail = " ".join(x for x in (what, f"({where})" if where else "") if x)
    return f"[{alert.get('severity', 'info')}] {alert.get('title', kind)}" + (f": {tail}" if tail else "")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    sink: AlertSink


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # the sink says what it got, in its own words
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        status, text = self.server.sink.handle(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
        data = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class AlertSink:
    """``AlertSink(log).start()``; ``url`` and ``secret`` make the demo's webhook channel (``channel()``)."""

    def __init__(self, log: Path, *, echo: Callable[[str], None] | None = None) -> None:
        self.log = log
        self.secret = secrets.token_hex(32)
        self.received: list[dict[str, Any]] = []  # each accepted delivery's document, once
        self.rejected = 0
        self._echo = echo or (lambda line: print(line, flush=True))
        self._deliveries: set[str] = set()
        self._lock = threading.Lock()
        self._server: _Server | None = None

    @property
    def url(self) -> str:
        assert self._server is not None, "start() first"
        return f"http://127.0.0.1:{self._server.server_address[1]}{PATH}"

    def write_secret(self, path: Path) -> str:
        """Keep the secret in ``path`` (mode 0600) for the agent; returns its secret reference."""
        path.touch(mode=0o600)
        path.write_text(self.secret)
        return f"file:{path}"

    def channel(self, secret_ref: str) -> dict[str, Any]:
        """The demo's alerts.channels entry for this sink (no routes: every alert at medium and above)."""
        return {"name": DEMO_CHANNEL, "type": "webhook", "url": self.url, "secret": secret_ref}

    def handle(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, str]:
        if path != PATH:
            return 404, "not found"
        if not verify_signature(
            self.secret, body, headers.get("x-posture-timestamp"), headers.get("x-posture-signature")
        ):
            with self._lock:
                self.rejected += 1
            self._echo("  alert sink        : refused a delivery whose signature does not verify (401)")
            return 401, "bad signature"
        try:
            doc = json.loads(body)
            alert = doc["alert"]
        except (ValueError, KeyError, TypeError):
            return 400, "not a posture-agent alert"
        delivery = headers.get("x-posture-delivery") or str(doc.get("delivery", ""))
        with self._lock:
            if delivery in self._deliveries:
                return 200, "ok (already received)"
            self._deliveries.add(delivery)
            self.received.append(doc)
            line = {"received_at": datetime.now(UTC).isoformat(), "delivery": delivery, **doc}
            with self.log.open("a", encoding="utf-8") as f:
                f.write(json.dumps(line, ensure_ascii=False) + "\n")
        self._echo(f"  alert received    : {summary(alert)}")
        return 200, "ok"

    def start(self) -> AlertSink:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.sink = self
        threading.Thread(target=self._server.serve_forever, name="demo-alert-sink", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

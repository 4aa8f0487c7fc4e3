"""The device push endpoint: ``POST /v1/devices`` on the agent's HTTP port.

Each device signs its report with its own key (``device_keys``) or the source's ``shared_key``::

    X-Posture-Device:    the device id (must equal the report's device_id)
    X-Posture-Timestamp: Unix seconds when the report was sent
    X-Posture-Nonce:     16-64 characters [A-Za-z0-9_-], never reused
    X-Posture-Signature: hex HMAC-SHA256(key, "{timestamp}\\n{nonce}\\n{device}\\n" + body)
    X-Posture-Source:    the push source's name (only needed when several push sources exist)

A report is stored only when it is small enough, signed, fresh (timestamp within the replay window,
newer than the device's last report), never seen (nonce) and valid against
agent/device-report.schema.json. Everything else is refused with a status and one-line reason,
and nothing is stored. Keys and signatures are never logged.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from functools import cache
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

from agent.config import Config
from agent.errors import AgentError, ConfigError
from collectors.endpoints.config import EndpointSource

__all__ = ["PATH", "Refused", "PushReceiver", "register_push", "report_schema", "sign"]

log = logging.getLogger("agent.push")

PATH = "/v1/devices"
SCHEMA_FILE = Path(__file__).parent / "device-report.schema.json"
_NONCE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
_DEVICE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$")


class Refused(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@cache
def report_schema() -> dict[str, Any]:
    return json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def sign(key: str, timestamp: str, nonce: str, device: str, body: bytes) -> str:
    """The signature a device sends (the reporting scripts compute the same with openssl / .NET)."""
    message = f"{timestamp}\n{nonce}\n{device}\n".encode() + body
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()


def _device_key(source: EndpointSource, device: str) -> str | None:
    opts = source.push
    assert opts is not None
    if opts.device_keys is not None:
        try:
            keys = json.loads(opts.device_keys.reveal())
        except (ConfigError, ValueError):
            log.error("device key file unreadable", extra={"source": source.name})
            keys = {}
        key = keys.get(device) if isinstance(keys, Mapping) else None
        if isinstance(key, str) and key:
            return key
    if opts.shared_key is not None:
        try:
            return opts.shared_key.reveal()
        except ConfigError:
            log.error("shared key unreadable", extra={"source": source.name})
    return None


class PushReceiver:
    """Validates and stores pushed reports for the push sources of a config."""

    def __init__(self, sources: list[EndpointSource], store: Any) -> None:
        self.sources = {s.name: s for s in sources}
        self.store = store

    def _source(self, headers: Mapping[str, str]) -> EndpointSource:
        name = headers.get("X-Posture-Source")
        if name:
            if name not in self.sources:
                raise Refused(404, f"no push source named {name!r}")
            return self.sources[name]
        if len(self.sources) != 1:
            raise Refused(400, "several push sources: name one in the X-Posture-Source header")
        return next(iter(self.sources.values()))

    def receive(self, headers: Mapping[str, str], read_body: Any, now: datetime | None = None) -> dict[str, Any]:
        """Accept one report or raise Refused. ``read_body(n)`` reads n bytes of the request body."""
        from agent.store.devices import DuplicateNonce, last_reported_at, save_report

        now = now or datetime.now(UTC)
        source = self._source(headers)
        opts = source.push
        assert opts is not None
        if self.store is None:
            raise Refused(503, "the agent has no store; reports cannot be kept")
        # 1. size, before reading anything
        length_text = headers.get("Content-Length")
        if length_text is None or not length_text.isdigit():
            raise Refused(411, "Content-Length is required")
        length = int(length_text)
        if length > opts.max_report_bytes:
            raise Refused(413, f"report is {length} bytes; the limit is {opts.max_report_bytes}")
        if not (headers.get("Content-Type") or "").startswith("application/json"):
            raise Refused(415, "Content-Type must be application/json")
        body = read_body(length) if length else b""
        # 2. authentication on the raw bytes
        device = headers.get("X-Posture-Device") or ""
        ts_text = headers.get("X-Posture-Timestamp") or ""
        nonce = headers.get("X-Posture-Nonce") or ""
        signature = (headers.get("X-Posture-Signature") or "").lower()
        if not (_DEVICE.match(device) and ts_text.isdigit() and _NONCE.match(nonce) and signature):
            raise Refused(401, "missing or malformed X-Posture-Device/-Timestamp/-Nonce/-Signature headers")
        key = _device_key(source, device)
        if key is None or not hmac.compare_digest(sign(key, ts_text, nonce, device, body), signature):
            raise Refused(401, "signature does not verify for this device")
        # 3. freshness: clock window, then monotonic per device, then nonce (unique in the store)
        sent = datetime.fromtimestamp(int(ts_text), UTC)
        skew = abs((now - sent).total_seconds())
        if skew > opts.replay_window.total_seconds():
            raise Refused(
                401,
                f"timestamp is {skew:.0f}s away from the agent's clock "
                f"(window {opts.replay_window.total_seconds():.0f}s)",
            )
        last = last_reported_at(self.store, source.name, device)
        if last is not None and sent <= last:
            raise Refused(409, "replayed or out-of-order report: not newer than the last one accepted")
        # 4. the document
        try:
            doc = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            raise Refused(400, "body is not valid JSON") from None
        import jsonschema

        errors = sorted(
            jsonschema.Draft202012Validator(report_schema()).iter_errors(doc), key=lambda e: list(e.absolute_path)
        )
        if errors:
            where = "/".join(str(p) for p in errors[0].absolute_path) or "(document)"
            raise Refused(422, f"report does not match the schema at {where}: {errors[0].message[:200]}")
        if doc["device_id"] != device:
            raise Refused(422, "device_id in the report differs from X-Posture-Device")
        try:
            report_id = save_report(
                self.store,
                source=source.name,
                device_id=device,
                nonce=nonce,
                reported_at=sent,
                received_at=now,
                body=doc,
            )
        except DuplicateNonce:
            raise Refused(409, "replayed report: this nonce was already used") from None
        log.info("device report accepted", extra={"source": source.name, "device": device})
        return {"status": "accepted", "id": report_id, "source": source.name, "device_id": device}

    # -- HTTP ----------------------------------------------------------------------------------

    def handle(self, request: BaseHTTPRequestHandler) -> None:
        norm = request.headers  # email.message.Message: case-insensitive .get
        try:
            answer = self.receive(norm, request.rfile.read)  # type: ignore[arg-type]
            status: int = 202
        except Refused as exc:
            log.warning(
                "device report refused",
                extra={
                    "status": exc.status,
                    "reason": exc.reason,
                    "device": str(norm.get("X-Posture-Device", ""))[:128],
                },
            )
            answer, status = {"error": exc.reason}, exc.status
            request.close_connection = True  # the unread body (if any) must not be parsed as a request
        except AgentError as exc:
            answer, status = {"error": str(exc)}, 500
        data = json.dumps(answer).encode()
        request.send_response(status)
        request.send_header("Content-Type", "application/json")
        request.send_header("Content-Length", str(len(data)))
        if request.close_connection:
            request.send_header("Connection", "close")
        request.end_headers()
        request.wfile.write(data)


def register_push(http: Any, config: Config, store: Any) -> PushReceiver | None:
    """Add POST /v1/devices to the agent's HTTP server when the config has push sources."""
    sources = [s for s in config.sources if isinstance(s, EndpointSource) and s.kind == "push" and s.enabled]
    if not sources:
        return None
    receiver = PushReceiver(sources, store)
    http.add_route("POST", PATH, receiver.handle)
    return receiver

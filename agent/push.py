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
import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from agent.config import Config
from agent.errors import ConfigError
from agent.http import JSON, error_response
from collectors.endpoints.config import EndpointSource

__all__ = ["PATH", "Refused", "PushReceiver", "register_push", "report_schema", "sign"]

log = logging.getLogger("agent.push")

PATH = "/v1/devices"
SCHEMA_FILE = Path(__file__).parent / "device-report.schema.json"
_NONCE = re.compile(r"[A-Za-z0-9_-]{16,64}")
_DEVICE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}")
_TIMESTAMP = re.compile(r"[0-9]{1,20}")
_SIGNATURE = re.compile(r"[0-9a-f]{64}")
_DIGITS = re.compile(r"[0-9]{1,20}")
_SURROGATE = re.compile("[\ud800-\udfff]")
_JSON_NESTING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]')  # strings (skipped) and brackets
MAX_JSON_DEPTH = 32
RETRY_AFTER_SECONDS = 30


class Refused(Exception):
    """A report that is not stored, with the HTTP status and one-line reason the device gets."""

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

    def check_head(self, headers: Mapping[str, str]) -> tuple[EndpointSource, int]:
        """Step 1, before reading the body: the source, the store, the size and the type.
        Returns the source and the body's length, or raises Refused."""
        source = self._source(headers)
        opts = source.push
        assert opts is not None
        if self.store is None:
            raise Refused(503, "the agent has no store; reports cannot be kept")
        length_text = headers.get("Content-Length")
        if length_text is None or headers.get("Transfer-Encoding") is not None or not _DIGITS.fullmatch(length_text):
            raise Refused(411, "Content-Length is required")
        length = int(length_text)
        if length > opts.max_report_bytes:
            raise Refused(413, f"report is {length} bytes; the limit is {opts.max_report_bytes}")
        media_type = (headers.get("Content-Type") or "").split(";", 1)[0].strip().lower()
        if media_type != "application/json":
            raise Refused(415, "Content-Type must be application/json")
        return source, length

    def accept(
        self, source: EndpointSource, headers: Mapping[str, str], body: bytes, now: datetime | None = None
    ) -> dict[str, Any]:
        """Steps 2 to 5 on the whole body: signature, freshness, the document, then the store.
        The report is stored last; nothing is stored when anything before fails."""
        from agent.store.devices import DuplicateNonce, last_reported_at, save_report

        now = now or datetime.now(UTC)
        opts = source.push
        assert opts is not None
        # 2. authentication on the raw bytes
        device = headers.get("X-Posture-Device") or ""
        ts_text = headers.get("X-Posture-Timestamp") or ""
        nonce = headers.get("X-Posture-Nonce") or ""
        signature = (headers.get("X-Posture-Signature") or "").lower()
        if not (
            _DEVICE.fullmatch(device)
            and _TIMESTAMP.fullmatch(ts_text)
            and _NONCE.fullmatch(nonce)
            and _SIGNATURE.fullmatch(signature)
        ):
            raise Refused(401, "missing or malformed X-Posture-Device/-Timestamp/-Nonce/-Signature headers")
        key = _device_key(source, device)
        if key is None or not hmac.compare_digest(sign(key, ts_text, nonce, device, body), signature):
            raise Refused(401, "signature does not verify for this device")
        # 3. freshness: clock window, then monotonic per device, then nonce (unique in the store)
        skew = abs(now.timestamp() - int(ts_text))  # in seconds, before any date: any number of digits is safe
        if skew > opts.replay_window.total_seconds():
            raise Refused(
                401,
                f"timestamp is {skew:.0f}s away from the agent's clock "
                f"(window {opts.replay_window.total_seconds():.0f}s)",
            )
        sent = datetime.fromtimestamp(int(ts_text), UTC)
        try:
            last = last_reported_at(self.store, source.name, device)
        except Exception as exc:  # the store is down (its driver's error): nothing was stored
            raise _store_unavailable(exc) from None
        if last is not None and sent <= last:
            earlier = self._same_report(source.name, device, nonce, sent, body)
            if earlier is not None:
                return _accepted(earlier, source.name, device, repeat=True)
            raise Refused(409, "replayed or out-of-order report: not newer than the last one accepted")
        # 4. the document
        doc = parse_report(body)
        import jsonschema

        validator = jsonschema.Draft202012Validator(report_schema(), format_checker=_format_checker())
        errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
        if errors:
            where = "/".join(str(p) for p in errors[0].absolute_path) or "(document)"
            raise Refused(422, f"report does not match the schema at {where}: {errors[0].message[:200]}")
        if doc["device_id"] != device:
            raise Refused(422, "device_id in the report differs from X-Posture-Device")
        # 5. the store, in one transaction: the answer is all that follows
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
        except DuplicateNonce:  # the same request twice at once: the second gets the first one's answer
            earlier = self._same_report(source.name, device, nonce, sent, body)
            if earlier is not None:
                return _accepted(earlier, source.name, device, repeat=True)
            raise Refused(409, "replayed report: this nonce was already used") from None
        except Exception as exc:  # StoreError, or the driver's own: the transaction was rolled back
            raise _store_unavailable(exc) from None
        log.info("device report accepted", extra={"source": source.name, "device": device})
        return _accepted(report_id, source.name, device)

    def _same_report(self, source: str, device: str, nonce: str, sent: datetime, body: bytes) -> int | None:
        """The id under which this very request (nonce, signed time and document) was stored, if it
        was: a device that never got its 202 (a dropped connection) sends it again and gets it now."""
        from agent.store.devices import DuplicateNonce, report_digest, same_report_id

        try:
            digest = report_digest(parse_report(body))
        except Refused:
            return None
        try:
            return same_report_id(
                self.store, source=source, device_id=device, nonce=nonce, reported_at=sent, sha256=digest
            )
        except DuplicateNonce:
            return None
        except Exception as exc:  # the store is down
            raise _store_unavailable(exc) from None

    def receive(self, headers: Mapping[str, str], read_body: Any, now: datetime | None = None) -> dict[str, Any]:
        """Accept one report or raise Refused. ``read_body(n)`` reads n bytes of the request body."""
        source, length = self.check_head(headers)
        body = read_body(length) if length else b""
        return self.accept(source, headers, body, now)

    # -- HTTP ----------------------------------------------------------------------------------

    async def endpoint(self, request: Request) -> Response:
        """``POST /v1/devices``: 202 with the stored report's id, or the refusal's status and reason."""
        headers = request.headers  # case-insensitive
        try:
            source, length = self.check_head(headers)
            body = await _read_body(request, length)
            if await request.is_disconnected():  # nobody to tell: store nothing
                raise Refused(408, "the client went away before the report was stored")
            answer = await run_in_threadpool(self.accept, source, headers, body)
        except Refused as exc:
            log.warning(
                "device report refused",
                extra={
                    "status": exc.status,
                    "reason": exc.reason,
                    "device": str(headers.get("X-Posture-Device", ""))[:128],
                },
            )
            retry = {"Retry-After": str(RETRY_AFTER_SECONDS)} if exc.status == 503 else None
            return error_response(exc.status, exc.reason, headers=retry)
        return JSON(answer, status_code=202)


def _accepted(report_id: int, source: str, device: str, *, repeat: bool = False) -> dict[str, Any]:
    answer: dict[str, Any] = {"status": "accepted", "id": report_id, "source": source, "device_id": device}
    if repeat:
        answer["repeat"] = True  # stored by an earlier delivery of this request; nothing new stored
    return answer


async def _read_body(request: Request, length: int) -> bytes:
    """The body, never more than its Content-Length (the server frames it by that length; a client
    that sends less gets 400 or 408 from the server before this returns)."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > length:
            raise Refused(400, "body is longer than its Content-Length")
        chunks.append(chunk)
    if size != length:
        raise Refused(400, "body is shorter than its Content-Length")
    return b"".join(chunks)


def _real_time(value: object) -> bool:
    """A timestamp the pattern admits that is also a real instant (no month 13, no 25:00)."""
    if not isinstance(value, str):
        return True  # null, or a type error the schema reports
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


@cache
def _format_checker() -> Any:
    import jsonschema

    checker = jsonschema.FormatChecker(formats=())
    checker.checks("date-time")(_real_time)
    return checker


def _store_unavailable(exc: Exception) -> Refused:
    log.error("device report not stored: the store is unavailable", extra={"error": type(exc).__name__})
    return Refused(503, "the store is unavailable; nothing was stored, try again later")


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _OutOfRange
    return value


class _OutOfRange(ValueError):
    pass


def parse_report(body: bytes) -> Any:
    """The JSON document of a report: UTF-8 text, nested at most MAX_JSON_DEPTH levels, finite
    numbers, no lone surrogates (which no UTF-8 store can keep). Raises Refused(400)."""
    depth = 0
    for match in _JSON_NESTING.finditer(body):
        opening = body[match.start()]
        if opening in b"[{":
            depth += 1
            if depth > MAX_JSON_DEPTH:
                raise Refused(400, f"body is nested deeper than {MAX_JSON_DEPTH} levels")
        elif opening in b"]}":
            depth -= 1
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise Refused(400, "body is not valid JSON: not UTF-8 text") from None
    try:
        doc = json.loads(text, parse_float=_finite, parse_constant=_no_constant)
    except _OutOfRange:
        raise Refused(400, "body is not valid JSON: a number is out of range") from None
    except ValueError:
        raise Refused(400, "body is not valid JSON") from None
    stack = [doc]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for k, v in node.items():
                if _SURROGATE.search(k):
                    raise Refused(400, "body is not valid JSON: a lone surrogate (\\ud800-\\udfff) in a key")
                stack.append(v)
        elif isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, str) and _SURROGATE.search(node):
            raise Refused(400, "body is not valid JSON: a lone surrogate (\\ud800-\\udfff) in a string")
    return doc


def register_push(http: Any, config: Config, store: Any) -> PushReceiver | None:
    """Add POST /v1/devices to the agent's HTTP server when the config has push sources."""
    sources = [s for s in config.sources if isinstance(s, EndpointSource) and s.kind == "push" and s.enabled]
    if not sources:
        return None
    receiver = PushReceiver(sources, store)
    http.add_route("POST", PATH, receiver.endpoint)
    return receiver

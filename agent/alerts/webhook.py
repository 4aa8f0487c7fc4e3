"""Generic JSON webhooks signed with HMAC-SHA256.

Each delivery carries:

    X-Posture-Timestamp: <unix seconds>
    X-Posture-Signature: v1=<hex HMAC-SHA256(secret, f"{timestamp}.{body}")>
    X-Posture-Delivery:  <stable id of the message; the same on every retry>

Receivers verify with ``verify_signature`` and reject timestamps outside a replay window
(default 300 s), then de-duplicate on X-Posture-Delivery: retries re-sign with a fresh timestamp.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import asdict

from agent.alerts.model import Alert

__all__ = ["REPLAY_WINDOW_SECONDS", "render", "sign", "verify_signature"]

REPLAY_WINDOW_SECONDS = 300


def render(alert: Alert, delivery: str) -> bytes:
    doc = {"type": f"posture.{alert.kind}", "delivery": delivery, "alert": asdict(alert)}
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _mac(secret: str, timestamp: str, body: bytes) -> str:
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def sign(secret: str, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    """The signature headers for ``body``."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    return {"X-Posture-Timestamp": ts, "X-Posture-Signature": f"v1={_mac(secret, ts, body)}"}


def verify_signature(
    secret: str,
    body: bytes,
    timestamp: str | None,
    signature: str | None,
    *,
    tolerance: int = REPLAY_WINDOW_SECONDS,
    now: float | None = None,
) -> bool:
    """True when ``signature`` (the X-Posture-Signature header) is a valid v1 signature of
    ``body`` at ``timestamp`` (X-Posture-Timestamp) within ``tolerance`` seconds of now."""
    if not timestamp or not signature or not timestamp.isdigit():
        return False
    current = time.time() if now is None else now
    if abs(current - int(timestamp)) > tolerance:
        return False
    expected = f"v1={_mac(secret, timestamp, body)}"
    # several signatures may be sent during a secret rotation, comma separated
    return any(hmac.compare_digest(expected, s.strip()) for s in signature.split(","))
